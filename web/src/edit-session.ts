/**
 * One home for an edit session: for one record (an annotation, an order with its header
 * and lines, a debtor's or an article's field groups), the version the person's changes are
 * based on, what they changed (only the fields they actually edited), and what is stored
 * now. Every page keeps its record in one; every save and re-apply sends only `changes`;
 * untouched fields show what is stored; a conflict's three columns come from
 * `differences`. Pure: no storage, no network, so it is unit-tested as it is.
 *
 * A record is flattened to form texts by path (`name`, `line/<lineId>/quantity`), each as
 * the form shows it (money as "4.20"), and a page says when two texts of a field are the
 * same value (`Same`), so "a, b" and "a,b" are one tag list.
 */

/** Form texts of a record by path. */
export type Values = Readonly<Record<string, string>>;

/** A record's values at one version. */
export interface Base {
  version: number;
  values: Values;
}

/** A record as read or answered: its values and who stored them, when. */
export interface Snapshot extends Base {
  updatedBy: string;
  updatedAt: string;
}

/** One field the person changed: the text they typed, and the stored text they changed it from. */
export interface Edit {
  value: string;
  from: string;
}

export interface EditSession {
  /** The version the edits are based on: what a save sends as its precondition. */
  base: Base;
  /** Only the fields the person changed. */
  edits: Readonly<Record<string, Edit>>;
  /** The record as last read or answered. */
  stored: Snapshot;
}

/** Whether two texts of the field at `path` are the same value, as they would be sent. */
export type Same = (path: string, one: string, other: string) => boolean;
export const sameText: Same = (_path, one, other) => one === other;

const without = <T>(record: Readonly<Record<string, T>>, paths: readonly string[]) =>
  Object.fromEntries(Object.entries(record).filter(([path]) => !paths.includes(path)));

export const openSession = (snapshot: Snapshot): EditSession => ({
  base: snapshot,
  edits: {},
  stored: snapshot,
});

export const isDirty = (session: EditSession, under?: (path: string) => boolean): boolean =>
  Object.keys(session.edits).some((path) => !under || under(path));

/** What a field shows: the person's text where they changed it, else what is stored. */
export const shown = (session: EditSession, path: string): string =>
  session.edits[path]?.value ?? session.stored.values[path] ?? '';

/** The person typed `value` into `path`; typed back to what it was changed from, the field is untouched again. */
export const editField = (session: EditSession, path: string, value: string, same: Same = sameText) => {
  const from = session.edits[path]?.from ?? session.stored.values[path] ?? '';
  const others = without(session.edits, [path]);
  return {
    ...session,
    edits: same(path, value, from) ? others : { ...others, [path]: { value, from } },
  } satisfies EditSession;
};

/** Drops the person's changes to these paths (a discarded line, a group whose stored values they took). */
export const discard = (session: EditSession, paths: readonly string[]): EditSession => {
  const edits = without(session.edits, paths);
  return { ...session, edits, base: Object.keys(edits).length === 0 ? session.stored : session.base };
};

/**
 * A fresh read: untouched fields show it at once; while nothing is changed, the base
 * follows it too. An older answer (a slow poll overtaken by a save) changes nothing.
 */
export const refreshed = (session: EditSession, snapshot: Snapshot): EditSession => {
  if (snapshot.version < session.stored.version) return session;
  return { ...session, stored: snapshot, base: isDirty(session) ? session.base : snapshot };
};

/** The person's changes, only those under `under` when given (one line, one group): what a save sends. */
export const changes = (session: EditSession, under?: (path: string) => boolean): Record<string, string> =>
  Object.fromEntries(
    Object.entries(session.edits)
      .filter(([path]) => !under || under(path))
      .map(([path, edit]) => [path, edit.value]),
  );

/**
 * These texts were stored (a save of them applied): their edits are done, except where the
 * person typed on while it was in flight; such a field stays changed, from what was sent.
 */
export const withoutSent = (session: EditSession, sent: Values): EditSession => ({
  ...session,
  edits: Object.fromEntries(
    Object.entries(session.edits).flatMap(([path, edit]): [string, Edit][] => {
      const text = sent[path];
      if (text === undefined) return [[path, edit]];
      return edit.value === text ? [] : [[path, { value: edit.value, from: text }]];
    }),
  ),
});

/**
 * This person's versioned save of `sent` (texts by path) was applied as version `applied`.
 * The remaining edits stay, based on `applied` (the base with this change in it: a versioned
 * save applies only at the version it names, so nothing else changed in between). `now`,
 * when the answer carries the record, is what is stored: the record as `applied` left it,
 * or as it is since (`Applied-Version`).
 */
export const savedAs = (session: EditSession, sent: Values, applied: number, now?: Snapshot): EditSession => {
  const { edits } = withoutSent(session, sent);
  const exact = now?.version === applied ? now : undefined;
  const base: Base = exact ?? { version: applied, values: { ...session.base.values, ...sent } };
  const stored =
    now && now.version >= session.stored.version
      ? now
      : applied > session.stored.version
        ? { ...session.stored, ...base }
        : session.stored;
  return { base: Object.keys(edits).length === 0 ? stored : base, edits, stored };
};

/**
 * How a field differs in a conflict: `theirs` only the other side changed it (nothing to
 * decide), `yours` only this person did (it will be written), `both` a true collision (the
 * person decides), `same` both made the same change (already stored).
 */
export type Side = 'theirs' | 'yours' | 'both' | 'same';

export interface Difference {
  path: string;
  /** What the person saw before changing it: the conflict's "started from". */
  started: string;
  stored: string;
  /** Only for a field the person changed. */
  yours?: string;
  side: Side;
}

/** The three columns of a conflict with `current`, field by field; fields nobody changed are left out. */
export const differences = (
  session: EditSession,
  current: Snapshot,
  same: Same = sameText,
  under?: (path: string) => boolean,
): Difference[] => {
  const paths = [
    ...new Set([
      ...Object.keys(session.base.values),
      ...Object.keys(current.values),
      ...Object.keys(session.edits),
    ]),
  ].filter((path) => !under || under(path));
  return paths.flatMap((path): Difference[] => {
    const edit = session.edits[path];
    const stored = current.values[path] ?? '';
    if (!edit) {
      const started = session.base.values[path] ?? '';
      return same(path, started, stored) ? [] : [{ path, started, stored, side: 'theirs' }];
    }
    const side: Side = same(path, edit.value, stored)
      ? 'same'
      : same(path, edit.from, stored)
        ? 'yours'
        : 'both';
    return [{ path, started: edit.from, stored, yours: edit.value, side }];
  });
};

export type Choice = 'yours' | 'theirs';

/**
 * The person decided a conflict with `current`: the session is based on `current` now, and
 * keeps only what is still theirs to write: the changes only they made, and each collision
 * they chose to keep. A change already stored is dropped. The next save sends exactly that.
 */
export const resolved = (
  session: EditSession,
  current: Snapshot,
  choose: (difference: Difference) => Choice,
  same: Same = sameText,
  under?: (path: string) => boolean,
): EditSession => {
  const decided = differences(session, current, same, under).filter((d) => d.yours !== undefined);
  const kept = Object.fromEntries(
    decided
      .filter((d) => d.side === 'yours' || (d.side === 'both' && choose(d) === 'yours'))
      .map((d) => [d.path, { value: d.yours ?? '', from: d.stored }]),
  );
  const edits = {
    ...without(
      session.edits,
      decided.map((d) => d.path),
    ),
    ...kept,
  };
  const stored = current.version >= session.stored.version ? current : session.stored;
  return { base: current, edits, stored };
};

/** What a decision writes: the paths whose text is sent, given the choices for the collisions. */
export const written = (diffs: readonly Difference[], choose: (difference: Difference) => Choice): string[] =>
  diffs.filter((d) => d.side === 'yours' || (d.side === 'both' && choose(d) === 'yours')).map((d) => d.path);
