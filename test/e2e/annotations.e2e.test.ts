import { describe, expect, it } from 'vitest';
import { type CallResult, useApi } from '../support/api';

const api = useApi();

const createAnnotation = async (token: string, body: Record<string, unknown> = { name: 'draft' }) => {
  const created = await api.call('POST', '/annotations', { token, body });
  expect(created.status).toBe(201);
  return created.body as { id: string; version: number };
};

const statuses = (results: CallResult[]) =>
  results.reduce<Record<number, number>>((counts, { status }) => {
    counts[status] = (counts[status] ?? 0) + 1;
    return counts;
  }, {});

describe('annotations: the seed scenarios over HTTP', () => {
  it('creates with 201, Location and ETag "1", and the audit fields', async () => {
    const alice = await api.tokenFor('alice');
    const created = await api.call('POST', '/annotations', {
      token: alice,
      body: { name: 'Cell 4', description: 'mitosis', tags: ['bio'] },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('etag')).toBe('"1"');
    expect(created.headers.get('location')).toBe(`/annotations/${created.body.id}`);
    expect(created.body).toEqual({
      id: created.body.id,
      name: 'Cell 4',
      description: 'mitosis',
      tags: ['bio'],
      version: 1,
      createdAt: created.body.createdAt,
      createdBy: 'alice',
      updatedAt: created.body.createdAt,
      updatedBy: 'alice',
    });
    const read = await api.call('GET', `/annotations/${created.body.id}`, { token: alice });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
  });

  it('two users edit the same annotation: one wins, the other gets 412 with current, nothing lost', async () => {
    const alice = await api.tokenFor('alice');
    const bob = await api.tokenFor('bob');
    const { id } = await createAnnotation(alice);
    const [fromAlice, fromBob] = await Promise.all([
      api.call('PUT', `/annotations/${id}`, {
        token: alice,
        headers: { 'if-match': '"1"' },
        body: { name: 'by alice' },
      }),
      api.call('PUT', `/annotations/${id}`, {
        token: bob,
        headers: { 'if-match': '"1"' },
        body: { name: 'by bob' },
      }),
    ]);
    expect([fromAlice.status, fromBob.status].sort()).toEqual([200, 412]);
    const [winner, loser] = fromAlice.status === 200 ? [fromAlice, fromBob] : [fromBob, fromAlice];
    expect(loser.body.code).toBe('STALE_DATA');
    expect(loser.headers.get('content-type')).toBe('application/problem+json');
    expect(loser.headers.get('etag')).toBe('"2"');
    expect(loser.body.current).toEqual(winner.body);
    const stored = await api.call('GET', `/annotations/${id}`, { token: alice });
    expect(stored.body).toEqual(winner.body);
    expect(stored.body.version).toBe(2);
  });

  it('answers a stale body version with 409 and current', async () => {
    const alice = await api.tokenFor('alice');
    const { id } = await createAnnotation(alice);
    await api.call('PUT', `/annotations/${id}`, { token: alice, body: { name: 'v2', version: 1 } });
    const stale = await api.call('PUT', `/annotations/${id}`, {
      token: alice,
      body: { name: 'from cache', version: 1 },
    });
    expect(stale.status).toBe(409);
    expect(stale.body.code).toBe('STALE_DATA');
    expect(stale.body.current.name).toBe('v2');
    expect(stale.body.current.version).toBe(2);
  });

  it('rejects a change made from a stale cached copy and keeps the newer data', async () => {
    const alice = await api.tokenFor('alice');
    const { id } = await createAnnotation(alice, { name: 'v1', tags: ['a'] });
    const cached = (await api.call('GET', `/annotations/${id}`, { token: alice })).body;
    await api.call('PATCH', `/annotations/${id}`, {
      token: alice,
      headers: { 'if-match': '"1"' },
      body: { tags: ['b'] },
    });
    const fromCache = await api.call('PATCH', `/annotations/${id}`, {
      token: alice,
      headers: { 'if-match': `"${cached.version}"` },
      body: { name: 'edited from cache' },
    });
    expect(fromCache.status).toBe(412);
    const stored = await api.call('GET', `/annotations/${id}`, { token: alice });
    expect(stored.body).toMatchObject({ name: 'v1', tags: ['b'], version: 2 });
  });

  it('the same change made twice from one version: the second is stale, marked as already present', async () => {
    const alice = await api.tokenFor('alice');
    const bob = await api.tokenFor('bob');
    const { id } = await createAnnotation(alice);
    const first = await api.call('PUT', `/annotations/${id}`, {
      token: alice,
      headers: { 'if-match': '"1"' },
      body: { name: 'agreed', tags: ['x'] },
    });
    const second = await api.call('PUT', `/annotations/${id}`, {
      token: bob,
      headers: { 'if-match': '"1"' },
      body: { name: 'agreed', tags: ['x'] },
    });
    expect(first.status).toBe(200);
    expect([second.status, second.body.code, second.body.changeAlreadyPresent]).toEqual([
      412,
      'STALE_DATA',
      true,
    ]);
    expect(second.body.current).toEqual(first.body);
    expect(second.headers.get('etag')).toBe('"2"');
    const stored = await api.call('GET', `/annotations/${id}`, { token: alice });
    expect(stored.body).toEqual(first.body);
  });

  it('a delete during an edit gives 410 to the editor', async () => {
    const alice = await api.tokenFor('alice');
    const bob = await api.tokenFor('bob');
    const { id } = await createAnnotation(alice);
    const deleted = await api.call('DELETE', `/annotations/${id}`, {
      token: bob,
      headers: { 'if-match': '"1"' },
    });
    expect(deleted.status).toBe(204);
    const edit = await api.call('PUT', `/annotations/${id}`, {
      token: alice,
      headers: { 'if-match': '"1"' },
      body: { name: 'too late' },
    });
    expect(edit.status).toBe(410);
    expect(edit.body).toMatchObject({ code: 'GONE', deletedBy: 'bob' });
    expect(typeof edit.body.deletedAt).toBe('string');
    const read = await api.call('GET', `/annotations/${id}`, { token: alice });
    expect(read.status).toBe(410);
    const list = await api.call('GET', '/annotations?limit=100', { token: alice });
    expect(list.body.items.map((item: { id: string }) => item.id)).not.toContain(id);
  });

  it('a batch racing single updates reports per item', async () => {
    const alice = await api.tokenFor('alice');
    const bob = await api.tokenFor('bob');
    const records = await Promise.all(
      [1, 2, 3, 4].map((n) => createAnnotation(alice, { name: `item ${n}` })),
    );
    const [batch, ...singles] = await Promise.all([
      api.call('POST', '/annotations/batch', {
        token: bob,
        body: { updates: records.map(({ id }) => ({ id, version: 1, set: { tags: ['batch'] } })) },
      }),
      ...records.slice(0, 2).map(({ id }) =>
        api.call('PUT', `/annotations/${id}`, {
          token: alice,
          headers: { 'if-match': '"1"' },
          body: { name: 'single' },
        }),
      ),
    ]);
    expect(batch?.status).toBe(200);
    const results = batch?.body.results as { id: string; status: number; code?: string; version?: number }[];
    expect(results.map((result) => result.id)).toEqual(records.map(({ id }) => id));
    // The two untouched records take the batch; each raced one went to exactly one writer.
    expect(results.slice(2)).toEqual(records.slice(2).map(({ id }) => ({ id, status: 200, version: 2 })));
    for (const [index, single] of singles.entries()) {
      const result = results[index];
      const stored = (await api.call('GET', `/annotations/${records[index]?.id}`, { token: alice })).body;
      expect(stored.version).toBe(2);
      if (result?.status === 409) {
        expect(single.status).toBe(200);
        expect(result.code).toBe('STALE_DATA');
        expect(stored).toMatchObject({ name: 'single' });
      } else {
        expect([result?.status, single.status, single.body.code]).toEqual([200, 412, 'STALE_DATA']);
        expect(stored).toMatchObject({ name: `item ${index + 1}`, tags: ['batch'] });
      }
    }
  });
});

describe('annotations under concurrency', () => {
  it('50 concurrent PUTs from the same version: exactly 1 succeeds, 49 get STALE_DATA', async () => {
    const alice = await api.tokenFor('alice');
    const { id } = await createAnnotation(alice);
    const writers = await Promise.all(Array.from({ length: 50 }, (_, n) => api.tokenFor(`writer-${n}`)));
    const answers = await Promise.all(
      writers.map((token, n) =>
        api.call('PUT', `/annotations/${id}`, {
          token,
          headers: { 'if-match': '"1"' },
          body: { name: `writer ${n}` },
        }),
      ),
    );
    expect(statuses(answers)).toEqual({ 200: 1, 412: 49 });
    expect(
      answers.filter((answer) => answer.status === 412).every((answer) => answer.body.code === 'STALE_DATA'),
    ).toBe(true);
    const winner = answers.find((answer) => answer.status === 200)?.body;
    const stored = await api.call('GET', `/annotations/${id}`, { token: alice });
    expect(stored.body).toEqual(winner);
    expect(stored.body.version).toBe(2);
  });

  it('20 concurrent atomic batches sharing an id: exactly 1 applies, the others apply nothing', async () => {
    const alice = await api.tokenFor('alice');
    const shared = await createAnnotation(alice, { name: 'shared' });
    const own = await Promise.all(
      Array.from({ length: 20 }, (_, n) => createAnnotation(alice, { name: `own ${n}` })),
    );
    const answers = await Promise.all(
      own.map(({ id }, n) =>
        api.call('POST', '/annotations/batch', {
          token: alice,
          body: {
            atomic: true,
            updates: [
              { id: shared.id, version: 1, set: { name: `batch ${n}` } },
              { id, version: 1, set: { tags: [`batch-${n}`] } },
            ],
          },
        }),
      ),
    );
    expect(statuses(answers)).toEqual({ 200: 1, 409: 19 });
    const winnerIndex = answers.findIndex((answer) => answer.status === 200);
    for (const answer of answers.filter((a) => a.status === 409)) {
      expect(answer.body.code).toBe('STALE_DATA');
      expect(answer.body.results).toEqual([
        { id: shared.id, status: 409, code: 'STALE_DATA', current: expect.objectContaining({ version: 2 }) },
      ]);
    }
    const sharedNow = (await api.call('GET', `/annotations/${shared.id}`, { token: alice })).body;
    expect(sharedNow).toMatchObject({ name: `batch ${winnerIndex}`, version: 2 });
    const ownNow = await Promise.all(
      own.map(({ id }) => api.call('GET', `/annotations/${id}`, { token: alice })),
    );
    ownNow.forEach((answer, n) => {
      expect(answer.body.version).toBe(n === winnerIndex ? 2 : 1);
      expect(answer.body.tags).toEqual(n === winnerIndex ? [`batch-${n}`] : undefined);
    });
  });
});
