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
  const [retry, setRetry] = useState(false);
  const intended = useRef<{ key: string; amount: number } | undefined>(undefined);
  const busy = useRef(false);

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
    const value = Number(amount);
    if (!intended.current || intended.current.amount !== value)
      intended.current = { key: crypto.randomUUID(), amount: value };
    try {
      const answer = await client.call('POST /accounts/{id}/deposits', {
        params: { id },
        body: { amount: value },
        idempotencyKey: intended.current.key,
      });
      intended.current = undefined;
      setRetry(false);
      setError(undefined);
      setMessage(
        answer.replayed
          ? `Deposit of ${value} applied once: a retry was recognised as the same deposit. Balance ${answer.body.balance}.`
          : `Deposit of ${value} applied. Balance ${answer.body.balance}.`,
      );
      await load();
    } catch (failure) {
      if (failure instanceof ApiError) intended.current = undefined;
      setRetry(!(failure instanceof ApiError));
      setMessage(undefined);
      setError(
        failure instanceof ApiError
          ? explain(failure)
          : 'The answer was lost. Retry sends the same deposit again; it is applied at most once.',
      );
    } finally {
      busy.current = false;
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
              value={amount}
              onInput={(event) => setAmount(event.currentTarget.value)}
            />
          </Field>
          <button type="submit">{retry ? 'Retry deposit' : 'Deposit'}</button>
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
