import { describe, expect, it } from 'vitest';
import { ExpressionBuilder } from '../../lib/core/build/expression';
import { newRecordItem, toPublicRecord } from '../../lib/core/build/records';
import { changeRequest, deleteRequest } from '../../lib/core/build/requests';
import { foldForSearch, listSearch } from '../../lib/core/build/search';
import { groupRequest } from '../../lib/core/features/field-groups/groups';
import { articleEntity, debtorEntity } from '../../lib/domain/catalog';

const now = new Date('2026-01-01T00:00:00Z');
const context = { actor: 'alice', now };
const note = { type: 'NOTE', fields: ['name', 'note'], search: { field: 'name' } };

/** The attribute names and values an update writes, by name: `{ name: value }` and the removed ones. */
const writes = (input: {
  UpdateExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
}) => {
  const names = input.ExpressionAttributeNames ?? {};
  const values = input.ExpressionAttributeValues ?? {};
  const [set = '', remove = ''] = (input.UpdateExpression ?? '').replace(/^SET /, '').split(' REMOVE ');
  return {
    set: Object.fromEntries(
      set
        .split(', ')
        .map((clause) => /^(#n\d+) = (:v\d+)$/.exec(clause))
        .flatMap((match) => (match ? [[names[match[1] as string], values[match[2] as string]]] : [])),
    ),
    remove: remove ? remove.split(', ').map((name) => names[name]) : [],
  };
};

describe('the folded copy a search looks in', () => {
  it('folds case, compatibility forms and control characters alike for every text', () => {
    expect(
      ['Müller', 'MU\u0308LLER', 'Straße', 'STRASSE', 'ΟΔΟΣ', 'οδοσ', 'ＡＣＭＥ', 'a\tb\nc'].map(
        foldForSearch,
      ),
    ).toEqual(['müller', 'müller', 'strasse', 'strasse', 'οδοσ', 'οδοσ', 'acme', 'a b c']);
  });

  it('is written with a new record and never shown', () => {
    const item = newRecordItem(articleEntity, 'BOLT-8', { description: 'Hex Bolt' }, context);
    expect(item.search).toBe('bolt-8\nhex bolt');
    expect(toPublicRecord(item, now)).not.toHaveProperty('search');
    expect(newRecordItem(note, 'n1', { name: 'Cell 4' }, context).search).toBe('cell 4');
  });

  it('follows a change of the searched field, and only of it', () => {
    const change = (set: Record<string, unknown>, remove: string[] = []) =>
      writes(changeRequest(note, 'n1', { kind: 'any' }, { set, remove }, context).input);
    expect(change({ name: 'Cell 5' }).set).toMatchObject({ name: 'Cell 5', search: 'cell 5' });
    expect(change({ note: 'x' }).set).not.toHaveProperty('search');
    expect(change({}, ['name']).remove).toEqual(['name', 'search']);
    expect(writes(deleteRequest(note, 'n1', { kind: 'any' }, context).input).remove).toContain('search');
  });

  it('follows a field group that holds the searched field', () => {
    const group = (fields: string[], next: Record<string, unknown>) =>
      writes(groupRequest(debtorEntity, 'd1', fields, {}, next, context).input).set;
    expect(group(['name'], { name: 'Müller GmbH' })).toMatchObject({ search: 'müller gmbh' });
    expect(group(['city'], { city: 'Berlin' })).not.toHaveProperty('search');
    const article = writes(
      groupRequest(articleEntity, 'BOLT-8', ['description'], {}, { description: 'Nut' }, context).input,
    );
    expect(article.set).toMatchObject({ search: 'bolt-8\nnut' });
  });
});

describe('a list search', () => {
  it('filters on the folded copy, and an item without one on its stored fields as written', () => {
    const x = new ExpressionBuilder();
    const search = listSearch(articleEntity, 'Hex');
    expect(search.filter(x)).toBe(
      'contains(#n2, :v1) OR (attribute_not_exists(#n2) AND (contains(#n0, :v0) OR contains(#n1, :v0)))',
    );
    expect(x.attributes()).toEqual({
      ExpressionAttributeNames: { '#n0': 'description', '#n1': 'id', '#n2': 'search' },
      ExpressionAttributeValues: { ':v0': 'Hex', ':v1': 'hex' },
    });
  });

  it('marks its cursors with its folded term: one mark for HEX and hex, another for nut', () => {
    const mark = (q: string) => listSearch(articleEntity, q).mark;
    expect(mark('HEX')).toEqual(mark('hex'));
    expect(mark('HEX')).not.toEqual(mark('nut'));
    expect(mark('hex').q).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('is refused for an entity that declares no search field', () => {
    expect(() => listSearch({ type: 'BENCH', fields: ['name'] }, 'x')).toThrow('BENCH has no search.');
  });
});
