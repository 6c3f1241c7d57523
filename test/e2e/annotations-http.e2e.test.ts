import { beforeAll, describe, expect, it } from 'vitest';
import { useApi } from '../support/api';
import { tableSnapshot } from '../support/table';

const api = useApi();
let alice = '';

beforeAll(async () => {
  alice = await api.tokenFor('alice');
});

const create = async (body: Record<string, unknown> = { name: 'n' }) =>
  (await api.call('POST', '/annotations', { token: alice, body })).body as { id: string; version: number };

describe('annotations: reads, patches and batches', () => {
  it('GET honours If-None-Match with 304 and the ETag', async () => {
    const { id } = await create();
    const unchanged = await api.call('GET', `/annotations/${id}`, {
      token: alice,
      headers: { 'if-none-match': '"1"' },
    });
    expect(unchanged.status).toBe(304);
    expect(unchanged.headers.get('etag')).toBe('"1"');
    expect(unchanged.body).toBeUndefined();
    const changed = await api.call('GET', `/annotations/${id}`, {
      token: alice,
      headers: { 'if-none-match': '"0"' },
    });
    expect(changed.status).toBe(200);
  });

  it('If-Match with an ETag that matches no version ("0", "x", a weak one) is 412 with the record, writing nothing', async () => {
    const { id } = await create();
    const before = await tableSnapshot();
    const answers = [];
    for (const tag of ['"0"', '"x"', 'W/"1"'])
      answers.push(
        await api.call('PATCH', `/annotations/${id}`, {
          token: alice,
          headers: { 'if-match': tag },
          body: { name: 'm' },
        }),
      );
    expect(
      answers.map((answer) => [
        answer.status,
        answer.body.code,
        answer.body.current.version,
        answer.headers.get('etag'),
      ]),
    ).toEqual(Array(3).fill([412, 'STALE_DATA', 1, '"1"']));
    expect(await tableSnapshot()).toEqual(before);
  });

  it('GET of an id that never existed is 404', async () => {
    const answer = await api.call('GET', '/annotations/never-there', { token: alice });
    expect(answer.status).toBe(404);
    expect(answer.body.code).toBe('NOT_FOUND');
  });

  it('PATCH is a JSON Merge Patch: values set, null removes, the rest stays', async () => {
    const { id } = await create({ name: 'n', description: 'd', tags: ['a'] });
    const patched = await api.call('PATCH', `/annotations/${id}`, {
      token: alice,
      headers: { 'content-type': 'application/merge-patch+json' },
      rawBody: JSON.stringify({ version: 1, description: null, tags: ['b', 'c'] }),
    });
    expect(patched.status).toBe(200);
    expect(patched.headers.get('etag')).toBe('"2"');
    expect(patched.body).toMatchObject({ id, name: 'n', tags: ['b', 'c'], version: 2 });
    expect(patched.body).not.toHaveProperty('description');
  });

  it('PUT replaces all fields: optional ones left out are removed', async () => {
    const { id } = await create({ name: 'n', description: 'd', tags: ['a'] });
    const replaced = await api.call('PUT', `/annotations/${id}`, {
      token: alice,
      body: { version: 1, name: 'm' },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toEqual({
      id,
      name: 'm',
      version: 2,
      createdAt: replaced.body.createdAt,
      createdBy: 'alice',
      updatedAt: replaced.body.updatedAt,
      updatedBy: 'alice',
    });
  });

  it('If-Match: * overwrites whatever version is there, and needs the record to exist', async () => {
    const { id } = await create();
    await api.call('PUT', `/annotations/${id}`, { token: alice, body: { version: 1, name: 'v2' } });
    const overwrite = await api.call('PUT', `/annotations/${id}`, {
      token: alice,
      headers: { 'if-match': '*' },
      body: { name: 'forced' },
    });
    expect(overwrite.status).toBe(200);
    expect(overwrite.body).toMatchObject({ name: 'forced', version: 3 });
    const missing = await api.call('PUT', '/annotations/not-there', {
      token: alice,
      headers: { 'if-match': '*' },
      body: { name: 'x' },
    });
    expect(missing.status).toBe(404);
  });

  it('a stale DELETE gets 412 with current and deletes nothing', async () => {
    const { id } = await create();
    await api.call('PUT', `/annotations/${id}`, { token: alice, body: { version: 1, name: 'v2' } });
    const stale = await api.call('DELETE', `/annotations/${id}`, {
      token: alice,
      headers: { 'if-match': '"1"' },
    });
    expect(stale.status).toBe(412);
    expect(stale.body.current).toMatchObject({ name: 'v2', version: 2 });
    expect((await api.call('GET', `/annotations/${id}`, { token: alice })).status).toBe(200);
  });

  it('DELETE takes its precondition as "version" in the JSON body: 204, then 410', async () => {
    const { id } = await create();
    const deleted = await api.call('DELETE', `/annotations/${id}`, { token: alice, body: { version: 1 } });
    expect([deleted.status, deleted.body]).toEqual([204, undefined]);
    const after = await api.call('GET', `/annotations/${id}`, { token: alice });
    expect([after.status, after.body.code, after.body.deletedBy]).toEqual([410, 'GONE', 'alice']);
  });

  it('a DELETE with a stale body version gets 409 STALE_DATA with current and deletes nothing', async () => {
    const { id } = await create();
    await api.call('PUT', `/annotations/${id}`, { token: alice, body: { version: 1, name: 'v2' } });
    const before = await tableSnapshot();
    const stale = await api.call('DELETE', `/annotations/${id}`, { token: alice, body: { version: 1 } });
    expect([stale.status, stale.body.code]).toEqual([409, 'STALE_DATA']);
    expect(stale.body.current).toMatchObject({ id, name: 'v2', version: 2 });
    expect(stale.headers.get('etag')).toBe('"2"');
    expect(await tableSnapshot()).toEqual(before);
  });

  it('a DELETE whose If-Match and body version disagree gets 400 and deletes nothing', async () => {
    const { id } = await create();
    const before = await tableSnapshot();
    const answer = await api.call('DELETE', `/annotations/${id}`, {
      token: alice,
      headers: { 'if-match': '"1"' },
      body: { version: 2 },
    });
    expect([answer.status, answer.body.code, answer.body.detail]).toEqual([
      400,
      'MALFORMED_REQUEST',
      'If-Match and the body version disagree.',
    ]);
    expect(await tableSnapshot()).toEqual(before);
  });

  it('a DELETE with a stale If-Match and the same body version gets 412, the header deciding', async () => {
    const { id } = await create();
    await api.call('PUT', `/annotations/${id}`, { token: alice, body: { version: 1, name: 'v2' } });
    const before = await tableSnapshot();
    const stale = await api.call('DELETE', `/annotations/${id}`, {
      token: alice,
      headers: { 'if-match': '"1"' },
      body: { version: 1 },
    });
    expect([stale.status, stale.body.code, stale.body.current.version]).toEqual([412, 'STALE_DATA', 2]);
    expect(await tableSnapshot()).toEqual(before);
  });

  it('a DELETE body with anything but version is 422 and deletes nothing', async () => {
    const { id } = await create();
    const before = await tableSnapshot();
    const answer = await api.call('DELETE', `/annotations/${id}`, {
      token: alice,
      body: { version: 1, force: true },
    });
    expect([answer.status, answer.body.code]).toEqual([422, 'VALIDATION_FAILED']);
    expect(answer.body.errors).toEqual([{ pointer: '/force', detail: 'Unknown field.' }]);
    expect(await tableSnapshot()).toEqual(before);
  });

  it('a DELETE without a body still takes If-Match: 204', async () => {
    const { id } = await create();
    const deleted = await api.call('DELETE', `/annotations/${id}`, {
      token: alice,
      headers: { 'if-match': '"1"' },
    });
    expect(deleted.status).toBe(204);
    expect((await api.call('GET', `/annotations/${id}`, { token: alice })).status).toBe(410);
  });

  it('lists every live annotation exactly once across pages, newest first', async () => {
    const lister = await api.tokenFor('lister');
    const created: string[] = [];
    for (let n = 0; n < 7; n++) created.push((await create({ name: `page ${n}` })).id);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await api.call('GET', `/annotations?limit=3${cursor ? `&cursor=${cursor}` : ''}`, {
        token: lister,
      });
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.items.map((item: { id: string }) => item.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    const ours = seen.filter((id) => created.includes(id));
    expect(ours).toEqual([...created].reverse());
  });

  it('a partial batch reports each item: applied, stale with current, missing', async () => {
    const fresh = await create({ name: 'fresh' });
    const stale = await create({ name: 'stale' });
    await api.call('PUT', `/annotations/${stale.id}`, {
      token: alice,
      body: { version: 1, name: 'moved on' },
    });
    const answer = await api.call('POST', '/annotations/batch', {
      token: alice,
      body: {
        updates: [
          { id: fresh.id, version: 1, set: { tags: ['b'] } },
          { id: stale.id, version: 1, set: { tags: ['b'] } },
          { id: 'missing', version: 1, set: { tags: ['b'] } },
        ],
      },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.results).toEqual([
      { id: fresh.id, status: 200, version: 2 },
      {
        id: stale.id,
        status: 409,
        code: 'STALE_DATA',
        current: expect.objectContaining({ name: 'moved on', version: 2 }),
      },
      { id: 'missing', status: 404, code: 'NOT_FOUND' },
    ]);
  });

  it('an atomic batch with one stale item applies nothing and names the failing id', async () => {
    const fresh = await create({ name: 'fresh' });
    const stale = await create({ name: 'stale' });
    await api.call('PUT', `/annotations/${stale.id}`, {
      token: alice,
      body: { version: 1, name: 'moved on' },
    });
    const answer = await api.call('POST', '/annotations/batch', {
      token: alice,
      body: {
        atomic: true,
        updates: [
          { id: fresh.id, version: 1, set: { tags: ['b'] } },
          { id: stale.id, version: 1, set: { tags: ['b'] } },
        ],
      },
    });
    expect(answer.status).toBe(409);
    expect(answer.body.code).toBe('STALE_DATA');
    expect(answer.body.results).toEqual([
      { id: stale.id, status: 409, code: 'STALE_DATA', current: expect.objectContaining({ version: 2 }) },
    ]);
    const freshNow = await api.call('GET', `/annotations/${fresh.id}`, { token: alice });
    expect(freshNow.body).toMatchObject({ name: 'fresh', version: 1 });
    expect(freshNow.body).not.toHaveProperty('tags');
  });

  it('an atomic batch whose stale item already holds the change applies nothing, and says the change is there', async () => {
    const fresh = await create({ name: 'fresh' });
    const done = await create({ name: 'done' });
    await api.call('PATCH', `/annotations/${done.id}`, { token: alice, body: { version: 1, tags: ['b'] } });
    const answer = await api.call('POST', '/annotations/batch', {
      token: alice,
      body: {
        atomic: true,
        updates: [
          { id: fresh.id, version: 1, set: { tags: ['b'] } },
          { id: done.id, version: 1, set: { tags: ['b'] } },
        ],
      },
    });
    expect([answer.status, answer.body.code]).toEqual([409, 'STALE_DATA']);
    expect(answer.body.results).toEqual([
      {
        id: done.id,
        status: 409,
        code: 'STALE_DATA',
        current: expect.objectContaining({ version: 2, tags: ['b'] }),
        changeAlreadyPresent: true,
      },
    ]);
    const freshNow = await api.call('GET', `/annotations/${fresh.id}`, { token: alice });
    expect(freshNow.body).toMatchObject({ name: 'fresh', version: 1 });
    expect(freshNow.body).not.toHaveProperty('tags');
  });
});
