import { useEffect, useRef, useState } from 'preact/hooks';
import type { Answer, NotModified } from '../../lib/client/answers';
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

export interface RecordSpec<R extends Versioned> {
  /** The draft's name: `annotations/<id>`. */
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
  /** When the read that gave the shown lock was sent (ms): a lock is judged only by reads sent after it was taken. */
  const [readAt, setReadAt] = useState(0);
  const [conflict, setConflict] = useState<OpenConflict<R>>();
  const [pending, setPending] = useState<Pending>();
  const [error, setError] = useState<string>();
  const [gone, setGone] = useState<string>();
  const [restored, setRestored] = useState<string>();
  const [kept, setKept] = useState<Kept>();
  const watchingLock = useRef(false);

  const snapshot = (record: R): Snapshot => ({
    version: record.version,
    updatedBy: record.updatedBy,
    updatedAt: record.updatedAt,
    values: specRef.current.values(record),
  });

  /** A fresher record (a read sent at `sentAt`, an answer, a conflict's `current`): untouched fields show it. */
  const fresh = (record: R, sentAt?: number) => {
    if (sentAt !== undefined) setReadAt((before) => Math.max(before, sentAt));
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
  usePolling(
    async () => {
      const sentAt = Date.now();
      try {
        const answer = await specRef.current.read(watchingLock.current ? undefined : state?.record.version);
        if ('body' in answer) fresh(answer.body, sentAt);
      } catch (failure) {
        if (codeOf(failure) === 'GONE') setGone(explain(failure));
      }
    },
    [spec.name],
    Boolean(state) && !gone,
  );

  return {
    record: state?.record,
    session: state?.session,
    readAt,
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
      keepDraft(user.sub, spec.name, undefined);
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
