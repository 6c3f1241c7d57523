import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { type Intended, type useMovement as UseMovement, useMovement } from '../movements';
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

/** A movement's form: its amount fixed while an unanswered one is pending, retry or abandon it. */
const MovementForm = ({
  label,
  movement,
  amount,
  setAmount,
  onSubmit,
  children,
}: {
  label: string;
  movement: ReturnType<typeof UseMovement>;
  amount: string;
  setAmount: (value: string) => void;
  onSubmit: () => void;
  children?: ComponentChildren;
}) => (
  <form
    class="inline"
    aria-label={label}
    onSubmit={(event) => {
      event.preventDefault();
      onSubmit();
    }}
  >
    {children}
    <Field label={`${label} amount`}>
      <input
        type="number"
        min="1"
        value={movement.pending ? String(movement.pending.amount) : amount}
        disabled={Boolean(movement.pending)}
        onInput={(event) => setAmount(event.currentTarget.value)}
      />
    </Field>
    <button type="submit" disabled={movement.sending}>
      {movement.sending
        ? `${label}…`
        : movement.pending
          ? `Retry ${label.toLowerCase()} of ${movement.pending.amount}`
          : label}
    </button>
    {movement.pending && !movement.sending ? (
      <button type="button" onClick={movement.abandon}>
        Abandon this {label.toLowerCase()}
      </button>
    ) : null}
  </form>
);

/**
 * An account: balance and entries, and deposits, withdrawals and transfers that apply once
 * however often they are clicked or retried (see useMovement).
 */
export const AccountPage = ({ id }: { id: string | undefined }) => {
  const { client, session } = useApp();
  const [account, setAccount] = useState<Account>();
  const [entries, setEntries] = useState<Entry[]>([]);
  const [amount, setAmount] = useState('100');
  const [withdrawalAmount, setWithdrawalAmount] = useState('10');
  const [transferAmount, setTransferAmount] = useState('10');
  const [to, setTo] = useState('');
  const [name, setName] = useState('');
  const [openId, setOpenId] = useState('');
  const [message, setMessage] = useState<string>();
  const [error, setError] = useState<string>();
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

  const report = (text: string | undefined, failure?: string) => {
    setMessage(text);
    setError(failure);
  };
  /** A deposit or a withdrawal: the same body and answer, on its own route. */
  const onAccount =
    (route: 'POST /accounts/{id}/deposits' | 'POST /accounts/{id}/withdrawals') =>
    async ({ key, amount: value }: Intended) => {
      const answer = await client.call(route, {
        params: { id: id ?? '' },
        body: { amount: value },
        idempotencyKey: key,
      });
      return { replayed: answer.replayed, balance: answer.body.balance };
    };
  const deposit = useMovement(
    'Deposit',
    `no-lost-updates.deposit.${id}`,
    onAccount('POST /accounts/{id}/deposits'),
    report,
    load,
  );
  const withdrawal = useMovement(
    'Withdrawal',
    `no-lost-updates.withdrawal.${id}`,
    onAccount('POST /accounts/{id}/withdrawals'),
    report,
    load,
  );
  const transfer = useMovement(
    'Transfer',
    `no-lost-updates.transfer.${id}`,
    async ({ key, amount: value, to: target }) => {
      const answer = await client.call('POST /transfers', {
        body: { from: id ?? '', to: target ?? '', amount: value },
        idempotencyKey: key,
      });
      return { replayed: answer.replayed, balance: answer.body.balances[id ?? ''] ?? 0 };
    },
    report,
    load,
  );

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
        <>
          <MovementForm
            label="Deposit"
            movement={deposit}
            amount={amount}
            setAmount={setAmount}
            onSubmit={() => void deposit.submit({ amount: Number(amount) })}
          />
          <MovementForm
            label="Withdrawal"
            movement={withdrawal}
            amount={withdrawalAmount}
            setAmount={setWithdrawalAmount}
            onSubmit={() => void withdrawal.submit({ amount: Number(withdrawalAmount) })}
          />
          <MovementForm
            label="Transfer"
            movement={transfer}
            amount={transferAmount}
            setAmount={setTransferAmount}
            onSubmit={() => void transfer.submit({ amount: Number(transferAmount), to })}
          >
            <Field label="To account">
              <input
                value={transfer.pending?.to ?? to}
                disabled={Boolean(transfer.pending)}
                onInput={(event) => setTo(event.currentTarget.value)}
                required
              />
            </Field>
          </MovementForm>
        </>
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
