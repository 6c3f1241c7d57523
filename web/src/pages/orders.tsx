import { useEffect, useState } from 'preact/hooks';
import { ApiError, type Order, type OrderHeader, type OrderLine } from '../../../lib/client/api-client';
import { EDITABLE, type OrderStatus, transitions } from '../../../lib/domain/catalog';
import { useLock } from '../locks';
import { at, explain, Field, hasRole, Notice, StaleBanner, useApp, useStaleness } from '../ui';

export const OrderList = () => {
  const { client, session } = useApp();
  const [items, setItems] = useState<OrderHeader[]>([]);
  const [customer, setCustomer] = useState('');
  const [error, setError] = useState<string>();
  useEffect(() => {
    void client
      .call('GET /orders', { query: { limit: 50 } })
      .then((answer) => 'body' in answer && setItems(answer.body.items));
  }, []);
  const create = async (event: Event) => {
    event.preventDefault();
    try {
      const order = await client.createOrder({ customer });
      location.hash = `#/orders/${order.id}`;
    } catch (failure) {
      setError(explain(failure));
    }
  };
  return (
    <section>
      <h1>Orders</h1>
      {hasRole(session, ['sales']) ? (
        <form onSubmit={create} class="inline">
          <Field label="New order for customer">
            <input value={customer} onInput={(event) => setCustomer(event.currentTarget.value)} required />
          </Field>
          <button type="submit">Create order</button>
        </form>
      ) : null}
      <Notice error={error} />
      <ul class="list">
        {items.map((order) => (
          <li key={order.id}>
            <a href={`#/orders/${order.id}`}>{order.customer}</a> — {order.status}, version {order.version}
          </li>
        ))}
      </ul>
    </section>
  );
};

/** The last change the user tried, to re-apply on a newer version after a conflict. */
type Pending =
  | { kind: 'line'; lineId: string; patch: Partial<Pick<OrderLine, 'quantity' | 'unitPrice'>> }
  | { kind: 'add'; line: Omit<OrderLine, 'lineId'> }
  | { kind: 'remove'; lineId: string };

/** The moves this user may make from this state. */
const movesFor = (status: OrderStatus, groups: readonly string[]) =>
  (Object.entries(transitions) as [OrderStatus, { from: OrderStatus[]; roles: string[] } | undefined][])
    .filter(([, move]) => move?.from.includes(status) && move.roles.some((role) => groups.includes(role)))
    .map(([to]) => to);

const lineText = (line: OrderLine | undefined) =>
  line ? `${line.sku}: ${line.quantity} × ${line.unitPrice}` : '(none)';

export const OrderEditor = ({ id }: { id: string }) => {
  const { client, session } = useApp();
  const [order, setOrder] = useState<Order>();
  const [edits, setEdits] = useState<Record<string, { quantity: string; unitPrice: string }>>({});
  const [conflict, setConflict] = useState<{ current: Order; pending: Pending }>();
  const [message, setMessage] = useState<string>();
  const [error, setError] = useState<string>();
  const [newLine, setNewLine] = useState({ sku: '', quantity: '1', unitPrice: '0' });
  const report = (text: string | undefined, failure?: string) => {
    setMessage(text);
    setError(failure);
  };
  const editOf = (line: OrderLine) => ({
    quantity: String(line.quantity),
    unitPrice: String(line.unitPrice),
  });
  /** Shows `next`; unsaved edits of other lines stay, unless `reset` (a fresh read, a discard). */
  const open = (next: Order, reset: boolean, saved?: string) => {
    setOrder(next);
    setEdits((before) =>
      Object.fromEntries(
        next.lines.map((line) => [
          line.lineId,
          (!reset && line.lineId !== saved && before[line.lineId]) || editOf(line),
        ]),
      ),
    );
  };
  const refreshLock = async () => {
    const current = await client.getOrder(id);
    setOrder((before) => (before ? { ...before, lock: current.lock } : current));
  };
  const load = async () => {
    try {
      open(await client.getOrder(id), true);
    } catch (failure) {
      report(undefined, explain(failure));
    }
  };
  useEffect(() => void load(), [id]);
  const lock = useLock('orders', id, order?.lock, refreshLock, report);
  const staleness = useStaleness(
    (version) => client.call('GET /orders/{id}', { params: { id }, ifNoneMatch: version }),
    order,
  );

  const send = async (version: number, pending: Pending) => {
    const common = { ifMatch: version, ...(lock.lockToken ? { lockToken: lock.lockToken } : {}) };
    try {
      if (pending.kind === 'line')
        await client.call('PATCH /orders/{id}/lines/{lineId}', {
          params: { id, lineId: pending.lineId },
          body: pending.patch,
          ...common,
        });
      else if (pending.kind === 'add')
        await client.call('POST /orders/{id}/lines', { params: { id }, body: pending.line, ...common });
      else
        await client.call('DELETE /orders/{id}/lines/{lineId}', {
          params: { id, lineId: pending.lineId },
          ...common,
        });
      setConflict(undefined);
      const saved = await client.getOrder(id);
      open(saved, false, pending.kind === 'add' ? undefined : pending.lineId);
      report(`Saved: version ${saved.version}.`);
    } catch (failure) {
      if (failure instanceof ApiError && failure.code === 'STALE_DATA') {
        setConflict({ current: failure.problem.current as Order, pending });
        report(undefined);
      } else report(undefined, lock.failed(failure));
    }
  };
  const move = async (to: OrderStatus) => {
    if (!order) return;
    try {
      const answer = await client.call('POST /orders/{id}/transitions', {
        params: { id },
        ifMatch: order.version,
        body: { to },
        ...(lock.lockToken ? { lockToken: lock.lockToken } : {}),
      });
      await load();
      report(`Order ${answer.body.status}: version ${answer.body.version}.`);
    } catch (failure) {
      if (failure instanceof ApiError && failure.code === 'STALE_DATA') {
        report(
          undefined,
          `The order changed since you opened it (now version ${(failure.problem.current as Order).version}): reload before moving it.`,
        );
      } else report(undefined, lock.failed(failure));
    }
  };

  if (!order)
    return (
      <section>
        <h1>Order</h1>
        <Notice error={error} />
      </section>
    );
  const editable = EDITABLE.includes(order.status);
  return (
    <section>
      <h1>Order for {order.customer}</h1>
      <p class="meta">
        <span class="status">{order.status}</span> · version {order.version} · total {String(order.total)} ·
        last changed by {order.updatedBy} at {at(order.updatedAt)}
      </p>
      <StaleBanner {...staleness} />
      {lock.panel}
      <Notice message={message} error={error} />
      {conflict ? (
        <OrderConflict
          started={order}
          current={conflict.current}
          pending={conflict.pending}
          moves={movesFor(conflict.current.status, session.groups)}
          onReapply={() => void send(conflict.current.version, conflict.pending)}
          onDiscard={() => {
            open(conflict.current, true);
            setConflict(undefined);
            report(`Took the current order, version ${conflict.current.version}.`);
          }}
        />
      ) : null}
      <table aria-label="Lines">
        <thead>
          <tr>
            <th scope="col">SKU</th>
            <th scope="col">Quantity</th>
            <th scope="col">Unit price</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {order.lines.map((line) => {
            const edit = edits[line.lineId] ?? {
              quantity: String(line.quantity),
              unitPrice: String(line.unitPrice),
            };
            const change = (field: 'quantity' | 'unitPrice', value: string) =>
              setEdits({ ...edits, [line.lineId]: { ...edit, [field]: value } });
            return (
              <tr key={line.lineId} data-line={line.sku}>
                <th scope="row">{line.sku}</th>
                <td>
                  <input
                    aria-label={`Quantity of ${line.sku}`}
                    type="number"
                    value={edit.quantity}
                    disabled={!editable}
                    onInput={(event) => change('quantity', event.currentTarget.value)}
                  />
                </td>
                <td>
                  <input
                    aria-label={`Unit price of ${line.sku}`}
                    type="number"
                    value={edit.unitPrice}
                    disabled={!editable}
                    onInput={(event) => change('unitPrice', event.currentTarget.value)}
                  />
                </td>
                <td>
                  <button
                    type="button"
                    disabled={!editable || Boolean(conflict)}
                    onClick={() => {
                      // Only what this user changed: a re-apply must not put back the other field.
                      const patch = Object.fromEntries(
                        (['quantity', 'unitPrice'] as const)
                          .filter((field) => edit[field] !== String(line[field]))
                          .map((field) => [field, Number(edit[field])]),
                      );
                      if (Object.keys(patch).length === 0) report('Nothing to save.');
                      else void send(order.version, { kind: 'line', lineId: line.lineId, patch });
                    }}
                  >
                    Save {line.sku}
                  </button>{' '}
                  <button
                    type="button"
                    disabled={!editable || Boolean(conflict)}
                    onClick={() => void send(order.version, { kind: 'remove', lineId: line.lineId })}
                  >
                    Remove {line.sku}
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {editable ? (
        <form
          class="inline"
          onSubmit={(event) => {
            event.preventDefault();
            void send(order.version, {
              kind: 'add',
              line: {
                sku: newLine.sku,
                quantity: Number(newLine.quantity),
                unitPrice: Number(newLine.unitPrice),
              },
            });
          }}
        >
          <Field label="New line SKU">
            <input
              value={newLine.sku}
              onInput={(event) => setNewLine({ ...newLine, sku: event.currentTarget.value })}
              required
            />
          </Field>
          <Field label="Quantity">
            <input
              type="number"
              value={newLine.quantity}
              onInput={(event) => setNewLine({ ...newLine, quantity: event.currentTarget.value })}
            />
          </Field>
          <Field label="Unit price">
            <input
              type="number"
              value={newLine.unitPrice}
              onInput={(event) => setNewLine({ ...newLine, unitPrice: event.currentTarget.value })}
            />
          </Field>
          <button type="submit">Add line</button>
        </form>
      ) : (
        <p>This order is {order.status}: its lines can no longer change.</p>
      )}
      <nav aria-label="Moves">
        {movesFor(order.status, session.groups).map((to) => (
          <button key={to} type="button" onClick={() => void move(to)}>
            Move to {to}
          </button>
        ))}
      </nav>
    </section>
  );
};

/** The aggregate conflict, line by line: what you started from, what is there now, your change, and what the state allows. */
const OrderConflict = ({
  started,
  current,
  pending,
  moves,
  onReapply,
  onDiscard,
}: {
  started: Order;
  current: Order;
  pending: Pending;
  moves: OrderStatus[];
  onReapply: () => void;
  onDiscard: () => void;
}) => {
  const lineIds = [...new Set([...started.lines, ...current.lines].map((line) => line.lineId))];
  const before = (lineId: string) => started.lines.find((line) => line.lineId === lineId);
  const now = (lineId: string) => current.lines.find((line) => line.lineId === lineId);
  const yours = (lineId: string) => {
    if (pending.kind === 'line' && pending.lineId === lineId) {
      const line = before(lineId);
      return line ? lineText({ ...line, ...pending.patch }) : '';
    }
    if (pending.kind === 'remove' && pending.lineId === lineId) return '(remove)';
    return '';
  };
  const editable = EDITABLE.includes(current.status);
  return (
    <section class="conflict" aria-label="Conflict">
      <h2>
        The order changed since you opened it: version {started.version} → {current.version}, last by{' '}
        {current.updatedBy} at {at(current.updatedAt)}
      </h2>
      {current.status !== started.status ? (
        <p class="state">
          It is now {current.status}
          {editable ? '.' : `: its lines can no longer change.`}{' '}
          {moves.length > 0 ? `You may move it to: ${moves.join(', ')}.` : 'You may not move it further.'}
        </p>
      ) : null}
      <table aria-label="Lines then and now">
        <thead>
          <tr>
            <th scope="col">Line</th>
            <th scope="col">You started from</th>
            <th scope="col">Stored now</th>
            <th scope="col">Your change</th>
          </tr>
        </thead>
        <tbody>
          {lineIds.map((lineId) => {
            const from = lineText(before(lineId));
            const stored = lineText(now(lineId));
            const mine = yours(lineId);
            if (from === stored && !mine) return null;
            return (
              <tr key={lineId}>
                <th scope="row">{(now(lineId) ?? before(lineId))?.sku}</th>
                <td class="started">{from}</td>
                <td class="theirs">{stored}</td>
                <td class="yours">{mine}</td>
              </tr>
            );
          })}
          {pending.kind === 'add' ? (
            <tr>
              <th scope="row">{pending.line.sku}</th>
              <td class="started">(none)</td>
              <td class="theirs">(none)</td>
              <td class="yours">{lineText({ ...pending.line, lineId: '' })} (new)</td>
            </tr>
          ) : null}
        </tbody>
      </table>
      <button type="button" onClick={onReapply} disabled={!editable}>
        Re-apply my change to version {current.version}
      </button>{' '}
      <button type="button" onClick={onDiscard}>
        Discard my change
      </button>
    </section>
  );
};
