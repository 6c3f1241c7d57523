import { useState } from 'preact/hooks';
import { ApiError } from '../../lib/client/api-client';
import { explain, hasRole, LockPanel, useApp } from './ui';

type Lease = { token: string; owner: string; expiresAt: string };

/**
 * "Edit with lock" for a record of `annotations` or `orders`: take, renew, release, and for
 * a supervisor break someone else's lock. Writes made while holding it send its token.
 */
export const useLock = (
  resource: 'annotations' | 'orders',
  id: string,
  held: { owner: string; expiresAt: string } | undefined,
  reload: () => Promise<void>,
  report: (message: string | undefined, error?: string) => void,
) => {
  const { client, session } = useApp();
  const [lease, setLease] = useState<Lease>();
  const act = async (what: () => Promise<unknown>, done: string) => {
    try {
      await what();
      report(done);
      await reload();
    } catch (error) {
      report(undefined, explain(error));
    }
  };
  const params = { params: { id } };
  const take = () =>
    act(async () => {
      const answer = await client.call(`POST /${resource}/{id}/lock`, {
        ...params,
        body: { ttlSeconds: 300 },
      });
      setLease(answer.body);
    }, 'You hold the lock for 5 minutes.');
  const renew = () =>
    act(async () => {
      const answer = await client.call(`PUT /${resource}/{id}/lock`, {
        ...params,
        lockToken: lease?.token ?? '',
        body: { ttlSeconds: 300 },
      });
      setLease(answer.body);
    }, 'Lock renewed for 5 minutes.');
  const release = () =>
    act(async () => {
      await client.call(`DELETE /${resource}/{id}/lock`, { ...params, lockToken: lease?.token ?? '' });
      setLease(undefined);
    }, 'Lock released.');
  const breakLock = () => act(() => client.call(`DELETE /${resource}/{id}/lock`, params), 'Lock broken.');
  // Held by this page: its lease, not expired, and the record still names this user as holder.
  const mine = Boolean(lease && Date.parse(lease.expiresAt) > Date.now()) && held?.owner === session.sub;
  /**
   * What a failed write means, for a page that writes under this lock: after LOCK_LOST or
   * LOCKED the lease is gone, and the panel is refreshed to show who holds the lock now.
   */
  const failed = (failure: unknown): string => {
    if (failure instanceof ApiError && (failure.code === 'LOCK_LOST' || failure.code === 'LOCKED')) {
      setLease(undefined);
      void reload().catch(() => undefined);
    }
    return explain(failure);
  };

  const panel = (
    <LockPanel
      lock={mine && lease ? lease : held}
      mine={mine}
      onTake={() => void take()}
      onRenew={() => void renew()}
      onRelease={() => void release()}
      onBreak={hasRole(session, ['supervisor']) ? () => void breakLock() : undefined}
    />
  );
  return { panel, lockToken: mine ? lease?.token : undefined, failed };
};
