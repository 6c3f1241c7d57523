import { useRef, useState } from 'preact/hooks';
import { ApiError } from '../../lib/client/api-client';
import { explain } from './ui';

/** One movement of money the user means: its amount (and, for a transfer, where to), and its key. */
export interface Intended {
  key: string;
  amount: number;
  to?: string;
}

/**
 * A movement (deposit, withdrawal, transfer) that applies once however often it is clicked or retried.
 * Its Idempotency-Key is made once per intended movement and kept, in session storage, until
 * it is answered: after a lost answer or a 5xx (either may follow a movement that was
 * applied) the same movement with the same key is all the page will send until the user
 * abandons it. Only a 4xx proves nothing was written and ends it.
 */
export const useMovement = (
  label: string,
  storageKey: string,
  send: (intended: Intended) => Promise<{ replayed: boolean; balance: number }>,
  report: (message: string | undefined, error?: string) => void,
  done: () => Promise<void>,
) => {
  const [pending, setPendingState] = useState<Intended | undefined>(() => {
    const stored = sessionStorage.getItem(storageKey);
    return stored ? (JSON.parse(stored) as Intended) : undefined;
  });
  const setPending = (next: Intended | undefined) => {
    if (next) sessionStorage.setItem(storageKey, JSON.stringify(next));
    else sessionStorage.removeItem(storageKey);
    setPendingState(next);
  };
  const busy = useRef(false);
  const [sending, setSending] = useState(false);

  const submit = async (values: Omit<Intended, 'key'>) => {
    if (busy.current) return;
    busy.current = true;
    setSending(true);
    const intended = pending ?? { key: crypto.randomUUID(), ...values };
    setPending(intended);
    try {
      const answer = await send(intended);
      setPending(undefined);
      report(
        answer.replayed
          ? `${label} of ${intended.amount} applied once: a retry was recognised as the same ${label.toLowerCase()}. Balance ${answer.balance}.`
          : `${label} of ${intended.amount} applied. Balance ${answer.balance}.`,
      );
      await done();
    } catch (failure) {
      const refused = failure instanceof ApiError && failure.status < 500;
      if (refused) setPending(undefined);
      report(
        undefined,
        refused
          ? explain(failure)
          : `The answer to the ${label.toLowerCase()} of ${intended.amount} was lost: it may have been applied. Retry sends the same ${label.toLowerCase()} again; it is applied at most once.`,
      );
    } finally {
      busy.current = false;
      setSending(false);
    }
  };
  const abandon = () => {
    setPending(undefined);
    report(`${label} abandoned: check the entries before trying again.`);
  };
  return { pending, sending, submit, abandon };
};
