import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EntitySpec } from '../../lib/core/build/keys';
import { deleteRecord } from '../../lib/core/features/records/store';
import { accountEntity } from '../../lib/domain/accounts';
import { articleEntity, debtorEntity, orderEntity } from '../../lib/domain/catalog';
import { type Role, roles } from '../../lib/domain/roles';
import { useApi } from '../support/api';
import { recordRequests } from '../support/sdk';

/**
 * Every resource's list, `GET /{resource}?limit&cursor&q`: newest first, deleted records
 * left out, `q` a case-insensitive "contains" on the record's name field, a cursor that
 * serves its own search only, a bad `q` refused before anything is read, and the roles of
 * reading one record of the resource.
 */
const api = useApi();
const tokens: Partial<Record<Role, string>> = {};

beforeAll(async () => {
  for (const role of roles) tokens[role] = await api.tokenFor(`${role}-user`, role);
});

/** A word no other record of this file holds: `Qx` and 10 letters. */
const uniqueWord = (): string =>
  `Qx${[...randomBytes(10)].map((byte) => String.fromCharCode(97 + (byte % 26))).join('')}`;

interface ListCase {
  path: string;
  /** The field `q` looks in. */
  field: string;
  /** A role that may create and read the resource. */
  creator: Role;
  /** The roles that may read the list; the others get 403. */
  readers: Role[] | 'any';
  body: (name: string) => Record<string, unknown>;
  /** No route deletes debtors, articles, accounts or orders: they are deleted as the core deletes any record. */
  entity?: EntitySpec;
}

const cases: ListCase[] = [
  { path: '/annotations', field: 'name', creator: 'sales', readers: 'any', body: (name) => ({ name }) },
  {
    path: '/orders',
    field: 'customer',
    creator: 'sales',
    readers: 'any',
    body: (customer) => ({ customer }),
    entity: orderEntity,
  },
  {
    path: '/debtors',
    field: 'name',
    creator: 'customer-relations',
    readers: 'any',
    body: (name) => ({ name }),
    entity: debtorEntity,
  },
  {
    path: '/articles',
    field: 'description',
    creator: 'purchasing',
    readers: 'any',
    body: (description) => ({ id: `LIST-${uniqueWord().toUpperCase()}`, description }),
    entity: articleEntity,
  },
  {
    path: '/accounts',
    field: 'name',
    creator: 'finance',
    readers: ['finance', 'supervisor'],
    body: (name) => ({ name, currency: 'EUR' }),
    entity: accountEntity,
  },
];

// biome-ignore lint/suspicious/noExplicitAny: tests read whatever the API answered.
type Item = Record<string, any>;

const create = async (list: ListCase, name: string): Promise<Item> => {
  const created = await api.call('POST', list.path, { token: tokens[list.creator], body: list.body(name) });
  expect(created.status).toBe(201);
  return created.body;
};

const listed = async (list: ListCase, query: string, token = tokens[list.creator]) => {
  const answer = await api.call('GET', `${list.path}?${query}`, { token });
  expect(answer.status, answer.text).toBe(200);
  return answer.body as { items: Item[]; nextCursor?: string };
};

const remove = async (list: ListCase, record: Item): Promise<void> => {
  if (!list.entity) {
    const deleted = await api.call('DELETE', `${list.path}/${record.id}`, {
      token: tokens[list.creator],
      headers: { 'if-match': `"${record.version}"` },
    });
    expect(deleted.status).toBe(204);
    return;
  }
  await deleteRecord(
    list.entity,
    record.id,
    { kind: 'version', version: record.version },
    { actor: 'remover', now: new Date() },
  );
};

const ids = (page: { items: Item[] }) => page.items.map((item) => item.id);

describe.each(cases)('GET $path', (list) => {
  it('finds a record by a word of its name in any case, each item with its name, version and audit fields', async () => {
    const word = uniqueWord();
    const found = await create(list, `Alpha ${word} Gamma`);
    await create(list, 'Alpha Beta Gamma');

    for (const q of [word, word.toLowerCase(), word.toUpperCase(), `A ${word.slice(0, 6).toUpperCase()}`]) {
      const page = await listed(list, `q=${encodeURIComponent(q)}`);
      expect(page).toEqual({
        items: [
          expect.objectContaining({
            id: found.id,
            [list.field]: `Alpha ${word} Gamma`,
            version: 1,
            updatedAt: found.createdAt,
            updatedBy: `${list.creator}-user`,
          }),
        ],
      });
      expect(Object.keys(page.items[0] ?? {})).not.toContain('search');
    }
    expect(ids(await listed(list, `q=${word}x`))).toEqual([]);
  });

  it('leaves out a deleted record, with and without q', async () => {
    const word = uniqueWord();
    const kept = await create(list, `${word} kept`);
    const deleted = await create(list, `${word} deleted`);
    expect(ids(await listed(list, `q=${word}`))).toEqual([deleted.id, kept.id]);

    await remove(list, deleted);

    expect(ids(await listed(list, `q=${word.toUpperCase()}`))).toEqual([kept.id]);
    expect(ids(await listed(list, 'limit=100'))).not.toContain(deleted.id);
    expect(ids(await listed(list, 'limit=100'))).toContain(kept.id);
  });

  it('pages a search newest first with its cursor, which serves that search only', async () => {
    const word = uniqueWord();
    const first = await create(list, `${word} one`);
    await create(list, 'between, not found');
    const second = await create(list, `${word} two`);
    const third = await create(list, `${word} three`);

    const page1 = await listed(list, `limit=2&q=${word.toLowerCase()}`);
    expect(ids(page1)).toEqual([third.id, second.id]);
    expect(page1.nextCursor).toEqual(expect.any(String));
    const cursor = encodeURIComponent(page1.nextCursor ?? '');
    const page2 = await listed(list, `limit=2&q=${word.toUpperCase()}&cursor=${cursor}`);
    expect(page2).toEqual({ items: [expect.objectContaining({ id: first.id })] });

    for (const query of [`cursor=${cursor}`, `q=${word}x&cursor=${cursor}`]) {
      const refused = await api.call('GET', `${list.path}?${query}`, { token: tokens[list.creator] });
      expect([refused.status, refused.body.code, refused.body.detail]).toEqual([
        400,
        'MALFORMED_REQUEST',
        'The cursor is not one this API handed out.',
      ]);
    }
    const plain = await listed(list, 'limit=1');
    const mixed = await api.call('GET', `${list.path}?q=${word}&cursor=${plain.nextCursor}`, {
      token: tokens[list.creator],
    });
    expect([mixed.status, mixed.body.code]).toEqual([400, 'MALFORMED_REQUEST']);
  });

  it.each([
    ['empty', ''],
    ['65 characters', 'q'.repeat(65)],
    ['65 characters beyond the BMP', '🔎'.repeat(65)],
  ])('refuses a q that is %s with 400, before anything is read', async (_name, q) => {
    const { result, commands } = await recordRequests(() =>
      api.call('GET', `${list.path}?q=${encodeURIComponent(q)}`, { token: tokens[list.creator] }),
    );
    expect([result.status, result.body.code, result.body.detail, commands]).toEqual([
      400,
      'MALFORMED_REQUEST',
      'Bad query parameter: q (1 to 64 characters).',
      [],
    ]);
  });

  it('takes a q of 64 characters, counted as characters, not UTF-16 units', async () => {
    const name = `Lupe ${'🔎'.repeat(64)}`;
    const found = await create(list, name);
    expect(ids(await listed(list, `q=${encodeURIComponent('🔎'.repeat(64))}`))).toEqual([found.id]);
  });

  it('is open to the roles that may read one record, 403 for the others, 401 without a token', async () => {
    const word = uniqueWord();
    const found = await create(list, word);
    for (const role of roles) {
      const answer = await api.call('GET', `${list.path}?q=${word}`, { token: tokens[role] });
      if (list.readers === 'any' || list.readers.includes(role)) {
        expect([role, answer.status, ids(answer.body)]).toEqual([role, 200, [found.id]]);
      } else {
        expect([role, answer.status, answer.body.code]).toEqual([role, 403, 'FORBIDDEN']);
      }
    }
    const anonymous = await api.call('GET', `${list.path}?q=${word}`);
    expect([anonymous.status, anonymous.body.code]).toEqual([401, 'UNAUTHENTICATED']);
  });
});

describe('what q matches', () => {
  it('folds case beyond ASCII: Müller by MÜLLER (composed or not), Straße by STRASSE, full-width letters by ASCII', async () => {
    const relations = cases[2] as ListCase;
    const muller = await create(relations, `Müller Straße ${uniqueWord()}`);
    const wide = await create(relations, `ＡＣＭＥ ${uniqueWord()} Ｗｉｄｅ`);
    for (const q of ['MÜLLER STRASSE', 'MU\u0308LLER', 'müller straße']) {
      expect(ids(await listed(relations, `q=${encodeURIComponent(q)}`))).toEqual([muller.id]);
    }
    expect(ids(await listed(relations, 'q=acme'))).toEqual([wide.id]);
  });

  it('reads a control character in q as a space, as it reads one in a name', async () => {
    const spaced = await listed(cases[0] as ListCase, 'q=%20&limit=100');
    expect(spaced.items.length).toBeGreaterThan(1);
    expect(await listed(cases[0] as ListCase, 'q=%00&limit=100')).toEqual(spaced);
  });

  it.each([
    ['bytes that are no UTF-8', '%FF%FE'],
    ['an encoded lone surrogate', '%ED%A0%80'],
    ['expression syntax', encodeURIComponent(') OR attribute_exists(#n0')],
    ['a comma from a repeated q', 'a&q=b'],
  ])('a q with %s is searched for as it is: 200 with no items, never a 5xx', async (_name, q) => {
    expect(await listed(cases[0] as ListCase, `q=${q}`)).toEqual({ items: [] });
  });

  it('an article by its SKU as well as its description, never by a term across the two', async () => {
    const articles = cases[3] as ListCase;
    const sku = `SKU-${uniqueWord().toUpperCase()}`;
    const created = await api.call('POST', '/articles', {
      token: tokens.purchasing,
      body: { id: sku, description: 'Hex bolt' },
    });
    expect(created.status).toBe(201);
    expect(ids(await listed(articles, `q=${sku.toLowerCase()}`))).toEqual([sku]);
    expect(ids(await listed(articles, `q=${encodeURIComponent(`${sku.slice(-4)} hex`)}`))).toEqual([]);
    expect(ids(await listed(articles, `q=${encodeURIComponent(`${sku.slice(-4)}\nhex`)}`))).toEqual([]);
  });

  it('follows a name as it is changed: annotation PUT, PATCH and batch, order PATCH and PUT, a debtor or article group', async () => {
    const sales = tokens.sales;
    const [before, between, after] = [uniqueWord(), uniqueWord(), uniqueWord()];
    const annotation = await create(cases[0] as ListCase, before);
    const annotationPath = `/annotations/${annotation.id}`;
    const put = await api.call('PUT', annotationPath, {
      token: sales,
      headers: { 'if-match': '"1"' },
      body: { name: `put ${between}` },
    });
    const merged = await api.call('PATCH', annotationPath, {
      token: sales,
      headers: { 'if-match': '"2"', 'content-type': 'application/merge-patch+json' },
      body: { name: `merged ${between}`, description: null },
    });
    expect(ids(await listed(cases[0] as ListCase, `q=merged ${between.toLowerCase()}`))).toEqual([
      annotation.id,
    ]);
    const batch = await api.call('POST', '/annotations/batch', {
      token: sales,
      body: { updates: [{ id: annotation.id, version: 3, set: { name: `batched ${after}` } }] },
    });
    expect([put.status, merged.status, batch.status, batch.body.results[0].status]).toEqual([
      200, 200, 200, 200,
    ]);
    const order = await create(cases[1] as ListCase, before);
    const patched = await api.call('PATCH', `/orders/${order.id}`, {
      token: sales,
      headers: { 'if-match': '"1"', 'idempotency-key': `rename-${order.id}` },
      body: { customer: `patched ${after}` },
    });
    expect(patched.status).toBe(200);
    const debtor = await create(cases[2] as ListCase, before);
    const group = await api.call('PATCH', `/debtors/${debtor.id}`, {
      token: tokens['customer-relations'],
      body: { base: { name: before }, set: { name: `grouped ${after}` } },
    });
    expect(group.status).toBe(200);
    const article = await create(cases[3] as ListCase, before);
    const basic = await api.call('PATCH', `/articles/${article.id}`, {
      token: tokens.sales,
      body: { base: { description: before }, set: { description: `basic ${after}` } },
    });
    expect(basic.status).toBe(200);

    for (const [path, id, field, name, version] of [
      ['/annotations', annotation.id, 'name', `batched ${after}`, 4],
      ['/orders', order.id, 'customer', `patched ${after}`, 2],
      ['/debtors', debtor.id, 'name', `grouped ${after}`, 2],
      ['/articles', article.id, 'description', `basic ${after}`, 2],
    ] as const) {
      const list = cases.find((candidate) => candidate.path === path) as ListCase;
      expect(ids(await listed(list, `q=${before.toUpperCase()}`))).toEqual([]);
      expect(ids(await listed(list, `q=${between}`))).toEqual([]);
      const page = await listed(list, `q=${after.toLowerCase()}`);
      expect(page.items.map((item) => [item.id, item[field], item.version])).toEqual([[id, name, version]]);
    }

    const replaced = await api.call('PUT', `/orders/${order.id}`, {
      token: sales,
      headers: { 'if-match': '"2"' },
      body: { customer: `replaced ${before}`, lines: [] },
    });
    expect(replaced.status).toBe(200);
    expect(ids(await listed(cases[1] as ListCase, `q=${before}`))).toEqual([order.id]);
    expect(ids(await listed(cases[1] as ListCase, `q=${after}`))).toEqual([]);
  });
});
