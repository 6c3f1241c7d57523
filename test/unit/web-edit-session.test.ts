import { describe, expect, it } from 'vitest';
import {
  changes,
  differences,
  editField,
  openSession,
  refreshed,
  resolved,
  type Same,
  type Snapshot,
  savedAs,
  shown,
  written,
} from '../../web/src/edit-session';

const at = (version: number, values: Record<string, string>, updatedBy = 'alice'): Snapshot => ({
  version,
  values,
  updatedBy,
  updatedAt: '2026-01-01T10:00:00.000Z',
});

const order = (version: number, nutQuantity: string, nutPrice = '5.00', boltQuantity = '10') =>
  at(version, {
    'line/b/quantity': boltQuantity,
    'line/b/unitPrice': '0.25',
    'line/n/quantity': nutQuantity,
    'line/n/unitPrice': nutPrice,
  });

describe('an edit session holds only what the person changed', () => {
  it('an untouched line shows what is stored after a save and a fresh read; a later save sends only the changed field', () => {
    let session = openSession(order(1, '10'));
    session = editField(session, 'line/b/quantity', '20');
    session = savedAs(session, { 'line/b/quantity': '20' }, 2);
    // A colleague's change to the other line arrives with the next read.
    session = refreshed(session, order(3, '30', '5.00', '20'));
    expect([
      shown(session, 'line/n/quantity'),
      shown(session, 'line/b/quantity'),
      session.base.version,
    ]).toEqual(['30', '20', 3]);
    session = editField(session, 'line/n/unitPrice', '7.00');
    expect(changes(session, (path) => path.startsWith('line/n/'))).toEqual({ 'line/n/unitPrice': '7.00' });
  });

  it('a field typed on while its save was in flight stays changed, from what was sent', () => {
    let session = editField(openSession(at(1, { name: 'a' })), 'name', 'ab');
    session = editField(session, 'name', 'abc');
    session = savedAs(session, { name: 'ab' }, 2, at(2, { name: 'ab' }));
    expect([session.edits, session.base.version]).toEqual([{ name: { value: 'abc', from: 'ab' } }, 2]);
  });

  it('typing a field back to what it was makes it untouched again', () => {
    let session = openSession(at(1, { name: 'a' }));
    session = editField(editField(session, 'name', 'ab'), 'name', 'a');
    expect(session.edits).toEqual({});
  });

  it('while the person has changes, a newer read moves what is shown for untouched fields, not the base', () => {
    let session = editField(openSession(at(1, { name: 'a', notes: 'x' })), 'name', 'b');
    session = refreshed(session, at(2, { name: 'a', notes: 'y' }));
    expect([session.base.version, shown(session, 'notes'), shown(session, 'name')]).toEqual([1, 'y', 'b']);
  });

  it('an older answer than the one shown changes nothing', () => {
    const session = refreshed(openSession(at(3, { name: 'c' })), at(2, { name: 'b' }));
    expect([session.stored.version, shown(session, 'name')]).toEqual([3, 'c']);
  });

  it('a save answered with the record as it is since (Applied-Version) keeps the other edits based on the applied version', () => {
    let session = editField(editField(openSession(at(1, { a: '1', b: '1' })), 'a', '2'), 'b', '2');
    session = savedAs(session, { a: '2' }, 2, at(3, { a: '2', b: '9' }, 'bob'));
    expect([session.base.version, session.stored.version, shown(session, 'b'), changes(session)]).toEqual([
      2,
      3,
      '2',
      { b: '2' },
    ]);
  });
});

describe('a conflict from the session: started from, stored now, yours', () => {
  it('tells true collisions from changes only one side made, and writes only what the person keeps', () => {
    let session = openSession(at(1, { name: 'Cell', description: 'd0', tags: 'x' }));
    session = editField(editField(session, 'name', 'Bob'), 'description', 'bob desc');
    const current = at(2, { name: 'Cell', description: 'alice desc', tags: 'x, y' });
    const diffs = differences(session, current);
    expect(diffs).toEqual([
      { path: 'name', started: 'Cell', stored: 'Cell', yours: 'Bob', side: 'yours' },
      { path: 'description', started: 'd0', stored: 'alice desc', yours: 'bob desc', side: 'both' },
      { path: 'tags', started: 'x', stored: 'x, y', side: 'theirs' },
    ]);
    const theirs = () => 'theirs' as const;
    expect(written(diffs, theirs)).toEqual(['name']);
    const merged = resolved(session, current, theirs);
    expect([
      merged.base.version,
      changes(merged),
      shown(merged, 'tags'),
      shown(merged, 'description'),
    ]).toEqual([2, { name: 'Bob' }, 'x, y', 'alice desc']);
  });

  it('the same change made by both is already stored: nothing to write', () => {
    const sameTags: Same = (path, one, other) =>
      path === 'tags' ? one.replace(/\s/g, '') === other.replace(/\s/g, '') : one === other;
    const session = editField(openSession(at(1, { tags: 'a' })), 'tags', 'a, b', sameTags);
    const current = at(2, { tags: 'a,b' });
    expect([
      differences(session, current, sameTags)[0]?.side,
      changes(resolved(session, current, () => 'yours', sameTags)),
    ]).toEqual(['same', {}]);
  });
});
