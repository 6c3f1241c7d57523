import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../../lib/client/answers';
import { explain } from './problems';
import { countdown, useNow, when } from './time';
import { announce, ConfirmButton, hasRole, Notice, Submit, useApp } from './ui';

type Lease = { token: string; owner: string; expiresAt: string };
/** A lease as this page keeps it: with the moment it was taken here, to judge only reads sent after it. */
type Kept = Lease & { takenAt: number };
type Held = { owner: string; expiresAt: string } | undefined;

const TTL_SECONDS = 300;
/** How long before its end the holder is warned and offered a renewal. */
const WARN_MS = 60_000;

/**
 * "Edit with lock" for a record of `annotations` or `orders`: take, renew, release, and for a
 * supervisor break someone else's lock, after saying what that does. The lease is kept in
 * session storage, so a reload keeps using it. The page learns at once, from the record's
 * reads, when its lock is gone (broken, expired, taken again elsewhere), says so, and refuses
 * its next save under the lock with that reason: the person decides to take it again or go on
 * without it. A minute before the end the holder is warned and can renew.
 *
 * `held` is the lock the record showed in a read sent at `readAt` (ms).
 */
export const useLock = (
  resource: 'annotations' | 'orders',
  id: string,
  held: Held,
  readAt: number,
  reload: () => Promise<void>,
) => {
  const { client, session } = useApp();
  const storageKey = `no-lost-updates.lease.${session.sub}/${resource}/${id}`;
  const [lease, setLeaseState] = useState<Kept | undefined>(() => {
    const stored = sessionStorage.getItem(storageKey);
    return stored ? (JSON.parse(stored) as Kept) : undefined;
  });
  const [lost, setLost] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string>();
  const [error, setError] = useState<string>();
  const now = useNow();
  const setLease = (next: Lease | undefined) => {
    const kept = next ? { ...next, takenAt: Date.now() } : undefined;
    if (kept) sessionStorage.setItem(storageKey, JSON.stringify(kept));
    else sessionStorage.removeItem(storageKey);
    setLeaseState(kept);
    setLost(undefined);
  };

  useEffect(() => {
    if (!lease || lost) return;
    const seen = readAt > lease.takenAt;
    const reason =
      Date.parse(lease.expiresAt) <= now
        ? `Your lock expired at ${when(lease.expiresAt)}.`
        : !seen
          ? undefined
          : !held
            ? 'Your lock was broken or released elsewhere: nobody holds it now.'
            : held.owner !== session.sub
              ? `Your lock was broken: ${held.owner} holds the lock now, until ${when(held.expiresAt)}.`
              : held.expiresAt !== lease.expiresAt
                ? 'Your lock was taken again in another window: this page’s token no longer counts.'
                : undefined;
    if (reason) {
      setLost(reason);
      setMessage(undefined);
      announce(reason);
    }
  }, [held, readAt, now, lease]);

  const act = async (what: () => Promise<string>) => {
    setBusy(true);
    try {
      setMessage(await what());
      setError(undefined);
      await reload();
    } catch (failure) {
      setMessage(undefined);
      setError(explain(failure));
      if (failure instanceof ApiError && failure.code === 'LOCK_LOST') setLost(explain(failure));
    } finally {
      setBusy(false);
    }
  };
  const params = { params: { id } };
  const take = () =>
    act(async () => {
      const answer = await client.call(`POST /${resource}/{id}/lock`, {
        ...params,
        body: { ttlSeconds: TTL_SECONDS },
      });
      setLease(answer.body);
      return 'Lock taken: nobody else can save until you release it or it ends.';
    });
  const renew = () =>
    act(async () => {
      const answer = await client.call(`PUT /${resource}/{id}/lock`, {
        ...params,
        lockToken: lease?.token ?? '',
        body: { ttlSeconds: TTL_SECONDS },
      });
      setLease(answer.body);
      return `Lock renewed until ${when(answer.body.expiresAt)}.`;
    });
  const release = () =>
    act(async () => {
      await client.call(`DELETE /${resource}/{id}/lock`, { ...params, lockToken: lease?.token ?? '' });
      setLease(undefined);
      return 'Lock released.';
    });
  const breakLock = () =>
    act(async () => {
      await client.call(`DELETE /${resource}/{id}/lock`, params);
      return 'Lock broken: everyone may write again.';
    });

  const mine = Boolean(lease && !lost);
  const live = held && Date.parse(held.expiresAt) > now ? held : undefined;
  const left = lease ? Date.parse(lease.expiresAt) - now : 0;

  const panel = (
    <div class="lock">
      {lost ? (
        <div class="banner error lost" role="alert">
          <p>{lost} Your changes are kept, not saved; saving under the lock is refused until you decide.</p>
          <Submit label="Take the lock again" busy={busy} onClick={() => void take()} />{' '}
          <button type="button" onClick={() => setLease(undefined)}>
            Go on without the lock
          </button>
        </div>
      ) : mine && lease ? (
        <>
          <span>
            You hold the lock until {when(lease.expiresAt)} (
            {/* Ticks every second: shown, not read out; the time above says the same. */}
            <span class="countdown" aria-hidden="true">
              {countdown(lease.expiresAt, now)}
            </span>{' '}
            left)
          </span>
          {left <= WARN_MS ? (
            <p class="banner stale" role="alert">
              Your lock ends in a minute or less. Renew it to keep others out while you edit.
            </p>
          ) : null}
          <Submit label="Renew lock" busyLabel="Renewing…" busy={busy} onClick={() => void renew()} />
          <button type="button" disabled={busy} onClick={() => void release()}>
            Release lock
          </button>
        </>
      ) : live ? (
        <>
          <span>
            Locked by {live.owner} until {when(live.expiresAt)} (
            <span class="countdown" aria-hidden="true">
              {countdown(live.expiresAt, now)}
            </span>{' '}
            left)
          </span>
          {hasRole(session, ['supervisor']) ? (
            <ConfirmButton
              label="Break lock"
              question={`Break ${live.owner}’s lock?`}
              consequence={`${live.owner} holds it until ${when(live.expiresAt)}. Breaking it lets everyone write again at once; ${live.owner}’s next save under this lock will be refused, and the changes ${live.owner} has not saved stay only in ${live.owner}’s browser until saved there.`}
              confirm={`Break ${live.owner}’s lock`}
              onConfirm={() => void breakLock()}
            />
          ) : null}
        </>
      ) : (
        <Submit label="Edit with lock" busyLabel="Taking the lock…" busy={busy} onClick={() => void take()} />
      )}
      <Notice message={message} error={error} />
    </div>
  );

  return {
    panel,
    /** The token a save under the lock sends; none once the lock is gone or was never taken. */
    lockToken: mine ? lease?.token : undefined,
    /** Whether the page knows of a lease at all: reads then watch the lock. */
    watching: Boolean(lease) || Boolean(live),
    /** Why a save under the lock is refused before it is sent: the lock is gone. */
    refusal: lost ? `Not saved: ${lost} Take the lock again, or go on without it.` : undefined,
    /** A write's failure, for the lock: a lost or taken lock is shown here at once. */
    failed: (failure: unknown) => {
      if (failure instanceof ApiError && failure.code === 'LOCK_LOST') {
        setLost('Your lock is gone: it was broken, expired or taken again elsewhere.');
      }
      if (failure instanceof ApiError && failure.code === 'LOCKED' && lease) {
        const lock = failure.problem.lock as { owner: string; expiresAt: string };
        setLost(`Your lock was broken: ${lock.owner} holds the lock now, until ${when(lock.expiresAt)}.`);
      }
      if (failure instanceof ApiError && (failure.code === 'LOCK_LOST' || failure.code === 'LOCKED'))
        void reload().catch(() => undefined);
    },
  };
};
