import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../../../lib/client/api-client';
import { at, explain, Field, hasRole, Notice, useApp } from '../ui';

interface Account {
  id: string;
  name: string;
  currency: string;
  balance: number;
  version: number;
}
interface Entry {
  entryId: string;
  amount: number;
  kind: string;
  createdAt: string;
  createdBy: string;
}

/**
 * An account: balance and entries, and deposits that apply once however often they are
 * clicked or retried. The Idempotency-Key is made once per intended movement (this amount,
 * this time) and reused by every retry of it, until it is answered.
 */
export const AccountPage = ({ id }: { id: string | undefined }) => {
  const { client, session } = useApp();
  const [account, setAccount] = useState<Account>();
  const [entries, setEntries] = useState<Entry[]>([]);
  const [amount, setAmount] = useState('100');
  const [name, setName] = useState('');
  const [openId, setOpenId] = useState('');
  const [message, setMessage] = useState<string>();
  const [error, setError] = useState<string>();
  /**
   * The deposit the user means and its key, until it is answered. It outlives a reload
   * (session storage): after a lost answer the same deposit, with the same key, is all the
   * page will send until the user abandons it.
   */
  const storageKey = `no-lost-updates.deposit.${id}`;
  const [pending, setPendingState] = useState<{ key: string; amount: number } | undefined>(() => {
    const stored = sessionStorage.getItem(storageKey);
    return stored ? (JSON.parse(stored) as { key: string; amount: number }) : undefined;
  });
  const setPending = (next: { key: string; amount: number } | undefined) => {
    if (next) sessionStorage.setItem(storageKey, JSON.stringify(next));
    else sessionStorage.removeItem(storageKey);
    setPendingState(next);
  };
  const busy = useRef(false);
  const [sending, setSending] = useState(false);

  const load = async () => {
    if (!id) return;
    try {
      const [read, listed] = await Promise.all([
        client.call('GET /accounts/{id}', { params: { id } }),
        client.call('GET /accounts/{id}/entries', { params: { id } }),
      ]);
      if ('body' in read) setAccount(read.body);
      if ('body' in listed) setEntries(listed.body.items);
    } catch (failure) {
      setError(explain(failure));
    }
  };
  useEffect(() => void load(), [id]);

  const deposit = async () => {
    if (!id || busy.current) return;
    busy.current = true;
    setSending(true);
    const intended = pending ?? { key: crypto.randomUUID(), amount: Number(amount) };
    setPending(intended);
    try {
      const answer = await client.call('POST /accounts/{id}/deposits', {
        params: { id },
        body: { amount: intended.amount },
        idempotencyKey: intended.key,
      });
      setPending(undefined);
      setError(undefined);
      setMessage(
        answer.replayed
          ? `Deposit of ${intended.amount} applied once: a retry was recognised as the same deposit. Balance ${answer.body.balance}.`
          : `Deposit of ${intended.amount} applied. Balance ${answer.body.balance}.`,
      );
      await load();
    } catch (failure) {
      // Only a 4xx proves nothing was written; a lost answer or a 5xx may follow a deposit
      // that was applied, so its key is kept for the retry.
      const refused = failure instanceof ApiError && failure.status < 500;
      if (refused) setPending(undefined);
      setMessage(undefined);
      setError(
        refused
          ? explain(failure)
          : `The answer to the deposit of ${intended.amount} was lost: it may have been applied. Retry sends the same deposit again; it is applied at most once.`,
      );
    } finally {
      busy.current = false;
      setSending(false);
    }
  };

  if (!id) {
    const create = async (event: Event) => {
      event.preventDefault();
      try {
        const created = await client.call('POST /accounts', { body: { name, currency: 'EUR' } });
        location.hash = `#/accounts/${created.body.id}`;
      } catch (failure) {
        setError(explain(failure));
      }
    };
    return (
      <section>
        <h1>Accounts</h1>
        <form
          class="inline"
          onSubmit={(event) => {
            event.preventDefault();
            location.hash = `#/accounts/${openId}`;
          }}
        >
          <Field label="Account id">
            <input value={openId} onInput={(event) => setOpenId(event.currentTarget.value)} required />
          </Field>
          <button type="submit">Open</button>
        </form>
        {hasRole(session, ['finance']) ? (
          <form class="inline" onSubmit={create}>
            <Field label="New EUR account name">
              <input value={name} onInput={(event) => setName(event.currentTarget.value)} required />
            </Field>
            <button type="submit">Open account</button>
          </form>
        ) : null}
        <Notice error={error} />
      </section>
    );
  }
  return (
    <section>
      <h1>Account {account?.name}</h1>
      <p class="meta">
        Balance <strong class="balance">{account?.balance}</strong> {account?.currency}
      </p>
      <Notice message={message} error={error} />
      {hasRole(session, ['finance']) ? (
        <form
          class="inline"
          onSubmit={(event) => {
            event.preventDefault();
            void deposit();
          }}
        >
          <Field label="Amount">
            <input
              type="number"
              min="1"
              value={pending ? String(pending.amount) : amount}
              disabled={Boolean(pending)}
              onInput={(event) => setAmount(event.currentTarget.value)}
            />
          </Field>
          <button type="submit" disabled={sending}>
            {sending ? 'Depositing…' : pending ? `Retry deposit of ${pending.amount}` : 'Deposit'}
          </button>
          {pending && !sending ? (
            <button
              type="button"
              onClick={() => {
                setPending(undefined);
                setError(undefined);
                setMessage('Deposit abandoned: check the entries before depositing again.');
              }}
            >
              Abandon this deposit
            </button>
          ) : null}
        </form>
      ) : null}
      <table aria-label="Entries">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Kind</th>
            <th scope="col">Amount</th>
            <th scope="col">By</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => (
            <tr key={entry.entryId}>
              <td>{at(entry.createdAt)}</td>
              <td>{entry.kind}</td>
              <td>{entry.amount}</td>
              <td>{entry.createdBy}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
};
