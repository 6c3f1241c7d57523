import { type ComponentChildren, createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import { type Answer, type ApiClient, ApiError } from '../../lib/client/api-client';
import type { Session } from './session';

/** The signed-in user and their client, for every page. */
export interface App {
  session: Session;
  client: ApiClient;
  /** How often an open record is re-checked, in ms (`?poll=` in the address). */
  pollMs: number;
}
export const AppContext = createContext<App | undefined>(undefined);
export const useApp = (): App => {
  const app = useContext(AppContext);
  if (!app) throw new Error('useApp outside the signed-in app');
  return app;
};

export const hasRole = (session: Session, roles: readonly string[]): boolean =>
  session.groups.some((group) => roles.includes(group));

/** A time as people read it. */
export const at = (iso: string): string => new Date(iso).toLocaleTimeString('en-GB');

/** The time now, ticking every second: for countdowns. */
export const useNow = (): number => {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
};

export const countdown = (expiresAt: string, now: number): string => {
  const seconds = Math.max(0, Math.round((Date.parse(expiresAt) - now) / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
};

/** What a failed request means to the person who made it, in one sentence. */
export const explain = (error: unknown): string => {
  if (!(error instanceof ApiError))
    return 'The server could not be reached. Nothing was changed by this try.';
  const problem = error.problem;
  if (error.code === 'LOCKED') {
    const lock = problem.lock as { owner: string; expiresAt: string };
    return `Refused: ${lock.owner} holds the lock until ${at(lock.expiresAt)}.`;
  }
  if (error.code === 'GONE')
    return `Deleted by ${String(problem.deletedBy)} at ${at(String(problem.deletedAt))}.`;
  return problem.detail;
};

interface Versioned {
  version: number;
  updatedBy: string;
  updatedAt: string;
}

/**
 * Staleness before it bites: the open record is asked for again every `pollMs` with
 * `If-None-Match` (304 while unchanged); a newer version says who changed it and when, a
 * deletion who deleted it. The next ask waits for the answer to the last.
 */
export const useStaleness = (
  read: (version: number) => Promise<Answer<Versioned> | { notModified: true }>,
  opened: Versioned | undefined,
): { newer: Versioned | undefined; gone: string | undefined } => {
  const { pollMs } = useApp();
  const [newer, setNewer] = useState<Versioned>();
  const [gone, setGone] = useState<string>();
  useEffect(() => {
    setNewer(undefined);
    if (!opened) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const ask = async () => {
      try {
        const answer = await read(opened.version);
        if (!stopped && 'body' in answer && answer.body.version > opened.version) setNewer(answer.body);
      } catch (error) {
        if (!stopped && error instanceof ApiError && error.code === 'GONE') setGone(explain(error));
      }
      if (!stopped) timer = setTimeout(() => void ask(), pollMs);
    };
    timer = setTimeout(() => void ask(), pollMs);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [opened?.version, pollMs]);
  return { newer, gone };
};

export const StaleBanner = ({ newer, gone }: { newer: Versioned | undefined; gone?: string | undefined }) =>
  gone ? (
    <p class="banner stale" role="status">
      {gone}
    </p>
  ) : newer ? (
    <p class="banner stale" role="status">
      Changed by {newer.updatedBy} at {at(newer.updatedAt)} since you opened it (now version {newer.version}).
    </p>
  ) : null;

export const Notice = ({ message, error }: { message?: string | undefined; error?: string | undefined }) => (
  <>
    {message ? (
      <p class="banner ok" role="status">
        {message}
      </p>
    ) : null}
    {error ? (
      <p class="banner error" role="alert">
        {error}
      </p>
    ) : null}
  </>
);

/** A labelled control: the control is the label's child, so the label names it. */
export const Field = ({ label, children }: { label: string; children: ComponentChildren }) => (
  // biome-ignore lint/a11y/noLabelWithoutControl: the control arrives as children.
  <label class="field">
    <span>{label}</span>
    {children}
  </label>
);

/** A lock held by someone: owner and a live countdown; the holder may renew or release, a supervisor may break it. */
export const LockPanel = ({
  lock,
  mine,
  onTake,
  onRenew,
  onRelease,
  onBreak,
}: {
  lock: { owner: string; expiresAt: string } | undefined;
  mine: boolean;
  onTake: () => void;
  onRenew: () => void;
  onRelease: () => void;
  onBreak?: (() => void) | undefined;
}) => {
  const now = useNow();
  const live = lock && Date.parse(lock.expiresAt) > now ? lock : undefined;
  if (!live)
    return (
      <div class="lock">
        <button type="button" onClick={onTake}>
          Edit with lock
        </button>
      </div>
    );
  return (
    <div class="lock">
      <span>
        {mine ? 'You hold the lock' : `Locked by ${live.owner}`} until {at(live.expiresAt)} (
        {/* Ticks every second: shown, not read out; the time above says the same. */}
        <span class="countdown" aria-hidden="true">
          {countdown(live.expiresAt, now)}
        </span>{' '}
        left)
      </span>
      {mine ? (
        <>
          <button type="button" onClick={onRenew}>
            Renew lock
          </button>
          <button type="button" onClick={onRelease}>
            Release lock
          </button>
        </>
      ) : onBreak ? (
        <button type="button" onClick={onBreak}>
          Break lock
        </button>
      ) : null}
    </div>
  );
};
