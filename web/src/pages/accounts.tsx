import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../../../lib/client/answers';
import { CreateForm, IntentForm, useIntent } from '../intents';
import { ListView, usePaged } from '../list';
import { formatMoney, parseMoney } from '../money';
import { explain } from '../problems';
import { Money, mayCall, Notice, Time, useApp, usePolling } from '../ui';

interface Account {
  id: string;
  name: string;
  currency: string;
  balance: number;
  version: number;
  updatedAt: string;
  updatedBy: string;
}
interface Entry {
  entryId: string;
  amount: number;
  kind: string;
  reference?: string;
  counterparty?: string;
  createdAt: string;
  createdBy: string;
}

/** Accounts: found by a word of their name, a page at a time; opened by finance. */
export const AccountList = () => {
  const { client, session } = useApp();
  return (
    <section>
      <h1>Accounts</h1>
      {mayCall(session, 'POST /accounts') ? (
        <CreateForm
          section="accounts"
          noun="account"
          initial={{ name: '', currency: 'EUR' }}
          fields={[
            { name: 'name', label: 'New account name' },
            { name: 'currency', label: 'Currency', transform: (text) => text.toUpperCase() },
          ]}
          send={(values, key) => client.call('POST /accounts', { body: values, idempotencyKey: key })}
          submit="Open account"
        />
      ) : null}
      <ListView<Account>
        label="Accounts"
        searchLabel="Search accounts by name"
        fetch={(query) => client.call('GET /accounts', { query })}
        href={(item) => `#/accounts/${encodeURIComponent(item.id)}`}
        columns={[
          { title: 'Name', cell: (item) => item.name },
          { title: 'Balance', cell: (item) => <Money minor={item.balance} currency={item.currency} /> },
        ]}
      />
    </section>
  );
};

/**
 * An account: balance and entries, kept current, and deposits, withdrawals and transfers,
 * each applied once however often it is clicked or sent again (see useIntent). Amounts are
 * shown and typed in the account's currency.
 */
export const AccountPage = ({ id }: { id: string }) => {
  const { client, session } = useApp();
  const [account, setAccount] = useState<Account>();
  const [error, setError] = useState<string>();
  const currency = account?.currency ?? 'EUR';
  const entries = usePaged<Entry>('Entries', (query) =>
    client.call('GET /accounts/{id}/entries', { params: { id }, query }),
  );
  const load = async () => {
    try {
      const read = await client.call('GET /accounts/{id}', { params: { id } });
      if ('body' in read) setAccount(read.body);
      setError(undefined);
    } catch (failure) {
      setError(explain(failure));
    }
  };
  useEffect(() => void load(), [id]);
  usePolling(load, [id]);
  // Where money can go: the other accounts of this currency, by name.
  const [targets, setTargets] = useState<Account[]>([]);
  useEffect(() => {
    void client.call('GET /accounts', { query: { limit: 100 } }).then(
      (answer) => 'body' in answer && setTargets(answer.body.items),
      () => undefined,
    );
  }, [id]);

  const movement = (
    label: string,
    send: (amount: number, to: string, key: string) => Promise<{ replayed: boolean; balance: number }>,
  ) => ({
    name: `accounts/${id}/${label.toLowerCase()}`,
    title: `A ${label.toLowerCase()}`,
    href: `#/accounts/${id}`,
    initial: { amount: '', to: '' },
    check: (values: { amount: string }): Record<string, string> => {
      const amount = parseMoney(values.amount, currency);
      return 'error' in amount ? { amount: amount.error } : amount.ok <= 0 ? { amount: 'More than 0.' } : {};
    },
    send: async (values: { amount: string; to: string }, key: string) => {
      const amount = parseMoney(values.amount, currency);
      const answer = await send('ok' in amount ? amount.ok : 0, values.to.trim(), key);
      setAccount((before) => (before ? { ...before, balance: answer.balance } : before));
      void load();
      void entries.reload();
      return answer;
    },
    done: (answer: { replayed: boolean; balance: number }, values: { amount: string }) => {
      const amount = parseMoney(values.amount, currency);
      const of = `${label} of ${formatMoney('ok' in amount ? amount.ok : 0, currency)}`;
      return answer.replayed
        ? `${of} applied once: a repeat was recognised as the same ${label.toLowerCase()}. Balance ${formatMoney(answer.balance, currency)}.`
        : `${of} applied. Balance ${formatMoney(answer.balance, currency)}.`;
    },
    fieldOf: (pointer: string) => (pointer === '/to' ? 'to' : 'amount'),
    refused: (failure: unknown) => {
      // The refusal carries the account as it is: its balance is shown at once.
      if (failure instanceof ApiError && failure.code === 'INSUFFICIENT_FUNDS') {
        const current = failure.problem.current as Account | undefined;
        if (current) setAccount(current);
      }
      return false;
    },
  });
  const onAccount =
    (route: 'POST /accounts/{id}/deposits' | 'POST /accounts/{id}/withdrawals') =>
    async (amount: number, _to: string, key: string) => {
      const answer = await client.call(route, { params: { id }, body: { amount }, idempotencyKey: key });
      return { replayed: answer.replayed, balance: answer.body.balance };
    };
  const deposit = useIntent(movement('Deposit', onAccount('POST /accounts/{id}/deposits')));
  const withdrawal = useIntent(movement('Withdrawal', onAccount('POST /accounts/{id}/withdrawals')));
  const transfer = useIntent(
    movement('Transfer', async (amount, to, key) => {
      const answer = await client.call('POST /transfers', {
        body: { from: id, to, amount },
        idempotencyKey: key,
      });
      return { replayed: answer.replayed, balance: answer.body.balances[id] ?? 0 };
    }),
  );

  return (
    <section>
      <h1>Account {account?.name}</h1>
      {account ? (
        <p class="meta">
          Balance{' '}
          <strong class="balance">
            <Money minor={account.balance} currency={account.currency} />
          </strong>{' '}
          · {account.currency} · version {account.version}, last changed <Time iso={account.updatedAt} />
        </p>
      ) : null}
      <Notice error={error ?? entries.error} />
      {mayCall(session, 'POST /accounts/{id}/deposits') && account ? (
        <>
          {(
            [
              ['Deposit', deposit],
              ['Withdrawal', withdrawal],
            ] as const
          ).map(([label, intent]) => (
            <IntentForm
              key={label}
              intent={intent}
              label={label}
              fields={[{ name: 'amount', label: `${label} amount (${currency})`, inputMode: 'decimal' }]}
              submit={label}
              busyLabel={`${label}…`}
              again={`Send the ${label.toLowerCase()} again`}
            />
          ))}
          <IntentForm
            intent={transfer}
            label="Transfer"
            fields={[
              {
                name: 'to',
                label: 'To account',
                hint: 'Its id; pick one by name.',
                list: 'transfer-targets',
              },
              { name: 'amount', label: `Transfer amount (${currency})`, inputMode: 'decimal' },
            ]}
            submit="Transfer"
            busyLabel="Transfer…"
            again="Send the transfer again"
          />
          <datalist id="transfer-targets">
            {targets
              .filter((target) => target.id !== id && target.currency === currency)
              .map((target) => (
                <option key={target.id} value={target.id}>
                  {target.name}
                </option>
              ))}
          </datalist>
        </>
      ) : null}
      <table aria-label="Entries" class="entries">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Kind</th>
            <th scope="col">Amount</th>
            <th scope="col">Reference</th>
            <th scope="col">By</th>
          </tr>
        </thead>
        <tbody>
          {(entries.page?.items ?? []).map((entry) => (
            <tr key={entry.entryId}>
              <td data-label="When">
                <Time iso={entry.createdAt} />
              </td>
              <td data-label="Kind">
                {entry.kind}
                {entry.counterparty ? ` (${entry.counterparty})` : ''}
              </td>
              <td data-label="Amount">
                <Money minor={entry.amount} currency={currency} />
              </td>
              <td data-label="Reference">{entry.reference ?? ''}</td>
              <td data-label="By">{entry.createdBy}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {entries.pager}
    </section>
  );
};
