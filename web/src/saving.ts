import { useRef, useState } from 'preact/hooks';
import { ApiError } from '../../lib/client/answers';
import {
  type Choice,
  changes,
  type Difference,
  type EditSession,
  openSession,
  resolved,
  savedAs,
  type Values,
} from './edit-session';
import { codeOf, outcomeOf, refusalOf, whyUnknown } from './problems';
import type { OpenRecord, Pending, Versioned } from './record';

/** What a versioned write did: the version it produced, and the record as its answer (or a read after it) shows it. */
export interface Written<R> {
  /** The version this write produced; lower than `record.version` when the record changed since (`Applied-Version`). */
  applied: number;
  /** None when the read after the write failed: the write is applied all the same. */
  record: R | undefined;
  replayed: boolean;
}

export interface SaveSpec<R extends Versioned> {
  open: OpenRecord<R>;
  lock?: { lockToken: string | undefined; refusal: string | undefined; failed: (failure: unknown) => void };
  /** Which request a path's change is sent in: `header`, `line/<id>`; one for a whole annotation. */
  unitOf: (path: string) => string;
  /** Sends one unit's changes against `version`, with this key (and the lock's token). */
  send: (
    unit: string,
    sent: Values,
    version: number,
    key: string,
    lockToken: string | undefined,
  ) => Promise<Written<R>>;
  /** The form path a problem's pointer names, for a request of `unit`. */
  fieldOf: (unit: string, pointer: string) => string | undefined;
}

const pick = (session: EditSession, paths: readonly string[]): Values =>
  Object.fromEntries(
    paths.flatMap((path) => (session.edits[path] ? [[path, session.edits[path].value]] : [])),
  );

/**
 * What a save shows while and after it runs, one at a time: in flight ("Saving…", and a
 * second click sends nothing), what happened, field errors beside their fields.
 */
export const useSaveState = () => {
  const [busy, setBusy] = useState(false);
  const inFlight = useRef(false);
  const [message, setMessage] = useState<string>();
  const [error, setError] = useState<string>();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const report = (text: string | undefined, failure?: string) => {
    setMessage(text);
    setError(failure);
  };
  return {
    busy,
    message,
    error,
    errors,
    report,
    /** Runs `work`, unless a save is in flight already. */
    run: async (work: () => Promise<void>) => {
      if (inFlight.current) return;
      inFlight.current = true;
      setBusy(true);
      report(undefined);
      setErrors({});
      try {
        await work();
      } finally {
        inFlight.current = false;
        setBusy(false);
      }
    },
    /**
     * A save that was not surely applied: an unknown outcome keeps the request (`keep`) to be
     * sent again under its key; a refusal says why, its field errors beside their fields.
     */
    failed: (failure: unknown, keep: () => void, toPath: (pointer: string) => string | undefined) => {
      if (outcomeOf(failure) === 'unknown') {
        keep();
        return setError(
          `Not sure it was saved: ${whyUnknown(failure)}. Your change is kept; send it again: it is the same request, applied at most once.`,
        );
      }
      const refusal = refusalOf(failure, toPath);
      setErrors(refusal.errors);
      setError(refusal.message);
    },
  };
};

/**
 * Saving an open versioned record (an annotation, an order): only what the person changed,
 * unit by unit, each against the version the last left. In flight it says so and sends
 * nothing more. A stale version opens the conflict, with the record as it is now; a lost
 * answer or `OUTCOME_UNKNOWN` keeps the request (its key, fields and version) until it is
 * sent again, which applies it at most once; a refusal says why, field errors beside their
 * fields. A decided conflict re-applies exactly what the person kept.
 */
export const useVersionedSave = <R extends Versioned>(spec: SaveSpec<R>) => {
  const { open } = spec;
  const state = useSaveState();
  // The last save, told against the record as it is now: once a colleague's change moves the
  // record on, "Saved: version 2" would stand beside "version 3" as if it were the newest.
  const [saved, setSaved] = useState<{ applied: number; replayed: boolean }>();
  const report: typeof state.report = (...told) => {
    setSaved(undefined);
    state.report(...told);
  };
  const savedMessage = ({ applied, replayed }: { applied: number; replayed: boolean }) => {
    const now = open.record;
    if (now && applied < now.version)
      return `Saved as version ${applied}; changed by ${now.updatedBy} since (now version ${now.version}).`;
    return replayed
      ? `Saved: version ${applied} (your earlier send had been applied; it was not applied twice).`
      : `Saved: version ${applied}.`;
  };

  const unitsOf = (session: EditSession) => [...new Set(Object.keys(session.edits).map(spec.unitOf))];

  const run = (session: EditSession, units: string[], again?: Pending) => {
    if (spec.lock?.refusal) return report(undefined, spec.lock.refusal);
    const work = again ? [spec.unitOf(again.paths[0] ?? '')] : units;
    if (
      work.every((unit) => Object.keys(changes(session, (path) => spec.unitOf(path) === unit)).length === 0)
    )
      return report('Nothing to save: you changed nothing here.');
    setSaved(undefined);
    return state.run(async () => {
      let current = session;
      let version = again?.version ?? session.base.version;
      let last: Written<R> | undefined;
      for (const unit of work) {
        const sent = again
          ? pick(current, again.paths)
          : changes(current, (path) => spec.unitOf(path) === unit);
        if (Object.keys(sent).length === 0) continue;
        const key = again?.key ?? crypto.randomUUID();
        try {
          const written = await spec.send(unit, sent, version, key, spec.lock?.lockToken);
          const now = written.record ? open.snapshot(written.record) : undefined;
          current = savedAs(current, sent, written.applied, now);
          open.update((before) => savedAs(before, sent, written.applied, now), written.record);
          open.setPending(undefined);
          version = written.applied;
          last = written;
          again = undefined;
        } catch (failure) {
          if (codeOf(failure) === 'STALE_DATA' && failure instanceof ApiError) {
            const stored = failure.problem.current as R;
            open.fresh(stored);
            open.setConflict({ current: stored, choices: {} });
            return;
          }
          spec.lock?.failed(failure);
          state.failed(
            failure,
            () => open.setPending({ key, paths: Object.keys(sent), version }),
            (pointer) => spec.fieldOf(unit, pointer),
          );
          return;
        }
      }
      if (last) setSaved({ applied: last.applied, replayed: last.replayed });
    });
  };

  return {
    ...state,
    report,
    message: saved ? savedMessage(saved) : state.message,
    /** Saves these units of the person's changes (all of them when none are named). */
    save: (units?: string[]) =>
      open.session ? run(open.session, units ?? unitsOf(open.session)) : undefined,
    /** Sends the unanswered save again, the same request under the same key. */
    sendAgain: () => (open.session && open.pending ? run(open.session, [], open.pending) : undefined),
    /** The conflict decided: the session rebased on what is stored, and what the person kept written. */
    decide: (choose: (difference: Difference) => Choice) => {
      const { conflict, session } = open;
      if (!conflict || !session) return;
      const next = resolved(session, open.snapshot(conflict.current), choose, open.same);
      open.update(() => next, conflict.current);
      open.setConflict(undefined);
      if (Object.keys(next.edits).length === 0)
        return report(`Nothing left to write: version ${conflict.current.version} holds your change.`);
      void run(next, unitsOf(next));
    },
    /** The conflict decided for what is stored: the person's changes are dropped, nothing is written. */
    takeTheirs: () => {
      const { conflict } = open;
      if (!conflict) return;
      open.update(() => openSession(open.snapshot(conflict.current)), conflict.current);
      open.setConflict(undefined);
      report(
        `Took ${conflict.current.updatedBy}’s version ${conflict.current.version}; your changes were dropped.`,
      );
    },
  };
};
