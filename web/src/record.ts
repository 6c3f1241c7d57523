import { useEffect, useRef, useState } from 'preact/hooks';
import type { Answer, NotModified } from '../../lib/client/answers';
import type { Present, Resource, Topic } from '../../lib/live/protocol';
import { keepDraft, readDraft } from './drafts';
import {
  type Base,
  type Choice,
  type Edit,
  type EditSession,
  editField,
  isDirty,
  openSession,
  refreshed,
  type Same,
  type Snapshot,
  shown,
  type Values,
} from './edit-session';
import { useLiveTopic, usePresence } from './live';
import { codeOf, explain } from './problems';
import { useApp, usePolling } from './ui';

export interface Versioned {
  version: number;
  updatedBy: string;
  updatedAt: string;
}

/**
 * A save sent whose answer never came (lost, or `OUTCOME_UNKNOWN`): its Idempotency-Key,
 * what it sent and against which version. Its fields stay as they were sent until it is
 * sent again with the same key, which applies it at most once and says what happened.
 */
export interface Pending {
  key: string;
  paths: string[];
  version: number;
}

/** A conflict the person has not decided yet, and the choices they made so far. */
export interface OpenConflict<R> {
  current: R;
  choices: Record<string, Choice>;
  /** Only part of the record conflicts (field groups): which parts. */
  scopes?: string[];
}

/** What is kept of an edit session in the drafts: enough to rebuild it over a fresh read. */
interface Kept {
  base: Base;
  edits: Record<string, Edit>;
  conflict?: { choices: Record<string, Choice>; scopes?: string[] };
  pending?: Pending;
}

/**
 * A colleague's change the page learnt of (pushed, or found by a poll): who made the latest,
 * when, from which version to which, and the fields that differ since (their new values are
 * what the page shows now).
 */
export interface LiveChange {
  by: string;
  at: string;
  from: number;
  to: number;
  paths: string[];
}

export interface RecordSpec<R extends Versioned> {
  /** The draft's name, and the record's on the live channel: `annotations/<id>`. */
  name: string;
  href: string;
  title: (record: R) => string;
  read: (ifNoneMatch?: number) => Promise<Answer<R> | NotModified>;
  /** The record as form texts by path. */
  values: (record: R) => Values;
  same?: Same;
}

/**
 * An open record: read, kept current (polling, focus), edited in an edit session that is
 * kept in the drafts while anything is unsaved and restored from them when the page opens
 * again, with its open conflict and its unanswered save.
 */
export const useRecord = <R extends Versioned>(spec: RecordSpec<R>) => {
  const { session: user } = useApp();
  const specRef = useRef(spec);
  specRef.current = spec;
  const [state, setState] = useState<{ record: R; session: EditSession }>();
  const stateRef = useRef(state);
  stateRef.current = state;
  /** When the read that gave the shown lock was sent (ms): a lock is judged only by reads sent after it was taken. */
  const [readAt, setReadAt] = useState(0);
  const [conflict, setConflict] = useState<OpenConflict<R>>();
  const [pending, setPending] = useState<Pending>();
  const [error, setError] = useState<string>();
  const [gone, setGone] = useState<string>();
  const [restored, setRestored] = useState<string>();
  const [kept, setKept] = useState<Kept>();
  const [change, setChange] = useState<LiveChange>();
  const [people, setPeople] = useState<Present[]>([]);
  const watchingLock = useRef(false);
  const [resource, ...rest] = spec.name.split('/');
  const id = rest.join('/');

  const snapshot = (record: R): Snapshot => ({
    version: record.version,
    updatedBy: record.updatedBy,
    updatedAt: record.updatedAt,
    values: specRef.current.values(record),
  });

  /** Someone else's newer version: what differs from what the page showed, kept until dismissed. */
  const noteChange = (before: Snapshot, now: Snapshot) => {
    if (now.version <= before.version || now.updatedBy === user.sub) return;
    const paths = Object.keys({ ...before.values, ...now.values }).filter(
      (path) =>
        !(specRef.current.same ?? ((_p, a, b) => a === b))(
          path,
          before.values[path] ?? '',
          now.values[path] ?? '',
        ),
    );
    setChange((earlier) => ({
      by: now.updatedBy,
      at: now.updatedAt,
      from: earlier?.from ?? before.version,
      to: now.version,
      paths: [...new Set([...(earlier?.paths ?? []), ...paths])],
    }));
  };

  /** A fresher record (a read sent at `sentAt`, an answer, a conflict's `current`): untouched fields show it. */
  const fresh = (record: R, sentAt?: number) => {
    if (sentAt !== undefined) setReadAt((before) => Math.max(before, sentAt));
    const shown = stateRef.current;
    if (shown) noteChange(shown.session.stored, snapshot(record));
    setState((before) =>
      !before
        ? { record, session: openSession(snapshot(record)) }
        : record.version < before.record.version
          ? before
          : { record, session: refreshed(before.session, snapshot(record)) },
    );
  };

  const failed = (failure: unknown) => {
    if (codeOf(failure) === 'GONE') setGone(explain(failure));
    else setError(explain(failure));
  };

  useEffect(() => {
    let cancelled = false;
    setState(undefined);
    const sentAt = Date.now();
    specRef.current.read().then(
      (answer) => {
        if (cancelled || !('body' in answer)) return;
        const record = answer.body;
        const draft = readDraft<Kept>(user.sub, specRef.current.name);
        const stored = snapshot(record);
        setReadAt(sentAt);
        if (!draft) return setState({ record, session: openSession(stored) });
        setRestored(draft.keptAt);
        if (draft.conflict && record.version > draft.base.version)
          setConflict({ current: record, ...draft.conflict });
        if (draft.pending) setPending(draft.pending);
        setState({ record, session: { base: draft.base, edits: draft.edits, stored } });
      },
      (failure: unknown) => {
        if (cancelled) return;
        setKept(readDraft<Kept>(user.sub, specRef.current.name));
        failed(failure);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [spec.name]);

  // Kept while anything is unsaved; removed once nothing is.
  useEffect(() => {
    if (!state) return;
    const unsaved = isDirty(state.session) || conflict || pending;
    keepDraft<Kept>(
      user.sub,
      spec.name,
      unsaved
        ? {
            title: spec.title(state.record),
            href: spec.href,
            base: state.session.base,
            edits: state.session.edits,
            ...(conflict
              ? {
                  conflict: {
                    choices: conflict.choices,
                    ...(conflict.scopes ? { scopes: conflict.scopes } : {}),
                  },
                }
              : {}),
            ...(pending ? { pending } : {}),
          }
        : undefined,
    );
  }, [state?.session, conflict, pending]);

  const reload = async () => {
    const sentAt = Date.now();
    try {
      const answer = await specRef.current.read();
      if ('body' in answer) fresh(answer.body, sentAt);
    } catch (failure) {
      failed(failure);
    }
  };
  const edit = (path: string, value: string) =>
    setState((before) =>
      before ? { ...before, session: editField(before.session, path, value, specRef.current.same) } : before,
    );
  /** Reads again; in full when a lock is watched (a lock changes without the version), else only if changed. */
  const refresh = async (full = watchingLock.current) => {
    const sentAt = Date.now();
    try {
      const answer = await specRef.current.read(full ? undefined : stateRef.current?.record.version);
      if ('body' in answer) fresh(answer.body, sentAt);
    } catch (failure) {
      if (codeOf(failure) === 'GONE') setGone(explain(failure));
    }
  };
  usePolling(refresh, [spec.name], Boolean(state) && !gone);
  // Pushed: a change of a newer version, or of the lock, is read at once; after a reconnect
  // everything is read again in full (whatever happened meanwhile, the lock too); who else is
  // here, as it changes.
  useLiveTopic(state && !gone ? (`record/${spec.name}` as Topic) : undefined, (notice) => {
    if (notice.type === 'presence') return setPeople(notice.people);
    if (notice.type === 'resync') return void refresh(true);
    if (notice.type !== 'change') return;
    const { event } = notice;
    if (event.kind === 'lock') return void refresh(true);
    if (event.version > (stateRef.current?.record.version ?? 0)) void refresh();
  });
  usePresence(resource as Resource, id, state && isDirty(state.session) ? 'editing' : 'viewing');

  return {
    record: state?.record,
    session: state?.session,
    readAt,
    /** A colleague's change since the person last looked, and a way to put the note away. */
    change,
    dismissChange: () => setChange(undefined),
    /** Who else has the record open, and who of them is editing it. */
    people,
    /** Opens the conflict with what is stored now, before saving (of `scopes` only, for field groups). */
    mergeNow: (scopes?: string[]) => {
      if (!state) return;
      setChange(undefined);
      setConflict({ current: state.record, choices: {}, ...(scopes ? { scopes } : {}) });
    },
    error,
    gone,
    /** The draft of a record that could not be read (deleted): the person's text, to copy. */
    kept,
    restored,
    conflict,
    setConflict,
    pending,
    setPending,
    fresh,
    reload,
    /** Read in full at every poll, not with `If-None-Match`, while a lock matters: a lock changes without the version. */
    watchLock: (on: boolean) => {
      watchingLock.current = on;
    },
    /** Drops everything unsaved of this record, from the page and the drafts (it was deleted). */
    forget: () => {
      keepDraft(user.sub, spec.name, undefined, { force: true });
      setKept(undefined);
      setConflict(undefined);
      setPending(undefined);
      setState((before) => (before ? { ...before, session: openSession(before.session.stored) } : before));
    },
    /** The record as the edit session holds it. */
    snapshot,
    same: spec.same,
    /**
     * A form control's props for `path`: the text it shows, frozen while a save of it is
     * unanswered, marked while changed; typing edits the session.
     */
    input: (path: string) => ({
      value: state ? shown(state.session, path) : '',
      disabled: Boolean(pending?.paths.includes(path)),
      class: state?.session.edits[path] ? 'changed' : undefined,
      onInput: (event: { currentTarget: { value: string } }) => edit(path, event.currentTarget.value),
    }),
    /** Any change to the session: a save's answer, a decided conflict, a discard. */
    update: (change: (session: EditSession) => EditSession, record?: R) =>
      setState((before) =>
        before
          ? {
              record: record && record.version >= before.record.version ? record : before.record,
              session: change(before.session),
            }
          : before,
      ),
  };
};

export type OpenRecord<R extends Versioned> = ReturnType<typeof useRecord<R>>;
