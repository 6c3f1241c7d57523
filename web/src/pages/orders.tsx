import { ApiError, type Order, type OrderHeader, type OrderLine } from '../../../lib/client/answers';
import { EDITABLE, type OrderStatus, transitions } from '../../../lib/domain/catalog';
import { ConflictView } from '../conflict';
import { differences, discard, type Same, shown, type Values } from '../edit-session';
import { EditorNotes, KeptText } from '../editing';
import { CreateForm, IntentForm, useIntent } from '../intents';
import { ListView } from '../list';
import { useLock } from '../locks';
import { formatMoney, moneyInputText, parseMoney } from '../money';
import { explain, notSent } from '../problems';
import { useRecord } from '../record';
import { useVersionedSave } from '../saving';
import { ConfirmButton, Field, Money, mayCall, Notice, Submit, useApp } from '../ui';

/** The moves this user may make from this state. */
const movesFor = (status: OrderStatus, groups: readonly string[]) =>
  (Object.entries(transitions) as [OrderStatus, { from: OrderStatus[]; roles: string[] } | undefined][])
    .filter(([, move]) => move?.from.includes(status) && move.roles.some((role) => groups.includes(role)))
    .map(([to]) => to);

const lineFields = ['sku', 'description', 'quantity', 'unitPrice'] as const;
type LineField = (typeof lineFields)[number];
const linePath = (lineId: string, field: LineField) => `line/${lineId}/${field}`;
/** `header`, or `line/<lineId>`: the request a path's change is sent in. */
const unitOf = (path: string) =>
  path.startsWith('line/') ? path.split('/').slice(0, 2).join('/') : 'header';
const fieldOfPath = (path: string) => path.split('/').pop() ?? path;

const lineAmount = (line: Pick<OrderLine, 'quantity' | 'unitPrice'>) =>
  BigInt(line.quantity) * BigInt(line.unitPrice);

export const OrderList = () => {
  const { client, session, config } = useApp();
  return (
    <section>
      <h1>Orders</h1>
      {mayCall(session, 'POST /orders') ? (
        <CreateForm
          section="orders"
          noun="order"
          initial={{ customer: '' }}
          fields={[{ name: 'customer', label: 'New order for customer' }]}
          send={(values, key) => client.call('POST /orders', { body: values, idempotencyKey: key })}
          submit="Create order"
        />
      ) : null}
      <ListView<OrderHeader>
        label="Orders"
        resource="orders"
        searchLabel="Search orders by customer"
        fetch={(query) => client.call('GET /orders', { query })}
        href={(item) => `#/orders/${item.id}`}
        columns={[
          { title: 'Customer', cell: (item) => item.customer },
          { title: 'Status', cell: (item) => item.status },
          { title: 'Lines', cell: (item) => item.lineCount },
          {
            title: 'Total',
            // Absent only on an order stored before headers kept it, until its lines next change.
            cell: (item) =>
              item.total === undefined ? '—' : <Money minor={item.total} currency={config.currency} />,
          },
        ]}
      />
      <p class="meta">Prices are in {config.currency}.</p>
    </section>
  );
};

export const OrderEditor = ({ id }: { id: string }) => {
  const { client, session: user, config } = useApp();
  const currency = config.currency;
  const money = (minor: number) => moneyInputText(minor, currency);
  /** Quantities as whole numbers, prices as amounts: "5" and "5.00" are one price. */
  const same: Same = (path, one, other) => {
    if (path.endsWith('/unitPrice')) {
      const [a, b] = [parseMoney(one, currency), parseMoney(other, currency)];
      return 'ok' in a && 'ok' in b ? a.ok === b.ok : one.trim() === other.trim();
    }
    return path.endsWith('/quantity') ? one.trim() === other.trim() : one === other;
  };
  const readOrder = (ifNoneMatch?: number) =>
    client.call('GET /orders/{id}', { params: { id }, ...(ifNoneMatch ? { ifNoneMatch } : {}) });
  const open = useRecord<Order>({
    name: `orders/${id}`,
    href: `#/orders/${id}`,
    title: (order) => `Order for ${order.customer}`,
    read: readOrder,
    values: (order) => ({
      customer: order.customer,
      notes: order.notes ?? '',
      ...Object.fromEntries(
        order.lines.flatMap((line) => [
          [linePath(line.lineId, 'sku'), line.sku],
          [linePath(line.lineId, 'description'), line.description ?? ''],
          [linePath(line.lineId, 'quantity'), String(line.quantity)],
          [linePath(line.lineId, 'unitPrice'), money(line.unitPrice)],
        ]),
      ),
    }),
    same,
  });
  const lock = useLock('orders', id, open.record?.lock, open.readAt, open.reload);
  open.watchLock(lock.watching);
  const lockToken = () => (lock.lockToken ? { lockToken: lock.lockToken } : {});

  /** The order as it is after a write: a read, since line and header answers carry no lines. */
  const after = () =>
    readOrder().then(
      (answer) => ('body' in answer ? answer.body : undefined),
      () => undefined,
    );

  /** A line's changed fields as its PATCH body; an amount that is not one is refused before sending. */
  const lineBody = (sent: Values) => {
    const body: { sku?: string; description?: string | null; quantity?: number; unitPrice?: number } = {};
    const invalid: { pointer: string; detail: string }[] = [];
    for (const [path, text] of Object.entries(sent)) {
      const field = fieldOfPath(path) as LineField;
      if (field === 'sku') body.sku = text;
      else if (field === 'description') body.description = text || null;
      else if (field === 'quantity') {
        if (/^\s*\d+\s*$/.test(text)) body.quantity = Number(text);
        else invalid.push({ pointer: '/quantity', detail: 'A quantity is a whole number.' });
      } else {
        const parsed = parseMoney(text, currency);
        if ('ok' in parsed) body.unitPrice = parsed.ok;
        else invalid.push({ pointer: '/unitPrice', detail: parsed.error });
      }
    }
    if (invalid.length > 0) throw notSent(invalid);
    return body;
  };

  const saving = useVersionedSave<Order>({
    open,
    lock,
    unitOf,
    send: async (unit, sent, version, key, lockToken) => {
      const common = { ifMatch: version, idempotencyKey: key, ...(lockToken ? { lockToken } : {}) };
      const answer =
        unit === 'header'
          ? await client.call('PATCH /orders/{id}', {
              params: { id },
              body: {
                ...(sent.customer === undefined ? {} : { customer: sent.customer }),
                ...(sent.notes === undefined ? {} : { notes: sent.notes || null }),
              },
              ...common,
            })
          : await client.call('PATCH /orders/{id}/lines/{lineId}', {
              params: { id, lineId: unit.slice('line/'.length) },
              body: lineBody(sent),
              ...common,
            });
      return {
        applied: answer.appliedVersion ?? answer.body.version,
        record: await after(),
        replayed: answer.replayed,
      };
    },
    fieldOf: (unit, pointer) => {
      const field = pointer.split('/')[1] ?? '';
      return unit === 'header' ? field : `${unit}/${field}`;
    },
  });

  const addLine = useIntent({
    name: `orders/${id}/new-line`,
    title: 'A new order line',
    href: `#/orders/${id}`,
    initial: { sku: '', quantity: '1', unitPrice: '' },
    check: (values) => {
      const errors: Record<string, string> = {};
      const price = parseMoney(values.unitPrice, currency);
      if ('error' in price) errors.unitPrice = price.error;
      if (!/^\s*\d+\s*$/.test(values.quantity)) errors.quantity = 'A quantity is a whole number.';
      return errors;
    },
    send: async (values, key) => {
      const price = parseMoney(values.unitPrice, currency);
      const answer = await client.call('POST /orders/{id}/lines', {
        params: { id },
        ifMatch: open.record?.version ?? 1,
        idempotencyKey: key,
        ...lockToken(),
        body: { sku: values.sku, quantity: Number(values.quantity), unitPrice: 'ok' in price ? price.ok : 0 },
      });
      await open.reload();
      return answer;
    },
    done: (answer, values) =>
      answer.replayed
        ? `Line ${values.sku} added once, at version ${answer.body.version}: a repeat was recognised as the same line.`
        : `Line ${values.sku} added: version ${answer.body.version}.`,
    refused: (failure) => {
      lock.failed(failure);
      if (failure instanceof ApiError && failure.code === 'STALE_DATA') {
        const current = failure.problem.current as Order;
        open.fresh(current);
        addLine.report(
          undefined,
          `Not added yet: ${current.updatedBy} changed the order since you looked (now version ${current.version}; the lines above show it). Add it to version ${current.version}?`,
        );
        return true;
      }
      return false;
    },
  });

  /**
   * A one-click change of the order (a move, a line removed) against the version shown; a
   * stale version shows the order as it is now and says what did not happen.
   */
  const act = async (send: (version: number) => Promise<string>, notDone: string) => {
    const order = open.record;
    if (!order) return;
    try {
      const done = await send(order.version);
      await open.reload();
      saving.report(done);
    } catch (failure) {
      lock.failed(failure);
      if (failure instanceof ApiError && failure.code === 'STALE_DATA') {
        const current = failure.problem.current as Order;
        open.fresh(current);
        saving.report(
          undefined,
          `${notDone}: ${current.updatedBy} changed the order since you looked (now version ${current.version}, shown above). Look at it, then try again if you still mean to.`,
        );
      } else saving.report(undefined, explain(failure));
    }
  };
  const move = (to: OrderStatus) =>
    act(async (version) => {
      const answer = await client.call('POST /orders/{id}/transitions', {
        params: { id },
        ifMatch: version,
        body: { to },
        ...lockToken(),
      });
      return `Order ${answer.body.status}: version ${answer.body.version}.`;
    }, 'Not moved');
  const removeLine = (line: OrderLine) =>
    act(async (version) => {
      const answer = await client.call('DELETE /orders/{id}/lines/{lineId}', {
        params: { id, lineId: line.lineId },
        ifMatch: version,
        ...lockToken(),
      });
      open.update((before) =>
        discard(
          before,
          lineFields.map((field) => linePath(line.lineId, field)),
        ),
      );
      return `Line ${line.sku} removed: version ${answer.body.version}.`;
    }, 'Not removed');

  const { record: order, session, conflict } = open;
  if (!order || !session)
    return (
      <section>
        <h1>Order</h1>
        <Notice error={open.gone ?? open.error} />
        {open.kept ? <KeptText edits={open.kept.edits} onDiscard={open.forget} /> : null}
      </section>
    );

  const editable = EDITABLE.includes(order.status);
  const mayEditLines = editable && mayCall(user, 'PATCH /orders/{id}/lines/{lineId}');
  const mayEditHeader = editable && mayCall(user, 'PATCH /orders/{id}');
  const { input } = open;
  const skuOf = (lineId: string) =>
    conflict?.current.lines.find((line) => line.lineId === lineId)?.sku ??
    order.lines.find((line) => line.lineId === lineId)?.sku ??
    session.base.values[linePath(lineId, 'sku')] ??
    'line';
  const nameOf = (path: string) =>
    path.startsWith('line/')
      ? `${skuOf(path.split('/')[1] ?? '')} ${fieldOfPath(path) === 'unitPrice' ? 'unit price' : fieldOfPath(path)}`
      : path;
  const diffs = conflict ? differences(session, open.snapshot(conflict.current), same) : [];
  const conflictState =
    conflict && !EDITABLE.includes(conflict.current.status) ? conflict.current : undefined;
  const moves = movesFor(order.status, user.groups);
  const unsavedLine = (lineId: string) => lineFields.some((field) => session.edits[linePath(lineId, field)]);
  // Changes to lines someone has removed since: shown, so their text is not lost, until dropped.
  const orphans = Object.keys(session.edits).filter(
    (path) => path.startsWith('line/') && !order.lines.some((line) => unitOf(path) === `line/${line.lineId}`),
  );

  return (
    <section>
      <h1>Order for {order.customer}</h1>
      <p class="meta">
        <span class="status">{order.status}</span> · total <Money minor={order.total} currency={currency} /> ·{' '}
        {order.lines.length} {order.lines.length === 1 ? 'line' : 'lines'}
      </p>
      <EditorNotes
        open={{ ...open, record: order }}
        saving={saving}
        onSendAgain={() => void saving.sendAgain()}
        nameOf={nameOf}
      >
        {lock.panel}
      </EditorNotes>
      {orphans.length > 0 ? (
        <div class="banner stale" role="status">
          <p>
            Removed by someone since you changed it:{' '}
            {orphans.map((path) => `${nameOf(path)} ${shown(session, path)}`).join(', ')}. Add the line again
            if you still need it.
          </p>
          <button type="button" onClick={() => open.update((before) => discard(before, orphans))}>
            Drop my changes to removed lines
          </button>
        </div>
      ) : null}
      {conflict ? (
        <ConflictView
          title={`The order changed since you started: version ${session.base.version} → ${conflict.current.version}, last by ${conflict.current.updatedBy}`}
          diffs={diffs}
          current={conflict.current}
          choices={conflict.choices}
          nameOf={nameOf}
          onChoose={(path, choice) =>
            open.setConflict({ ...conflict, choices: { ...conflict.choices, [path]: choice } })
          }
          onSave={() => saving.decide((d) => conflict.choices[d.path] ?? 'yours')}
          onDiscard={saving.takeTheirs}
          busy={saving.busy}
          saveLabel={`Re-apply my changes to version ${conflict.current.version}`}
          discardLabel="Discard my changes"
          blocked={
            conflictState
              ? `Nothing can be re-applied: the order is ${conflictState.status}. Your changes stay here until you discard them.`
              : undefined
          }
        >
          {conflictState ? (
            <p class="state">
              It is now {conflictState.status}: its lines can no longer change.{' '}
              {movesFor(conflictState.status, user.groups).length > 0
                ? `You may move it to: ${movesFor(conflictState.status, user.groups).join(', ')}.`
                : 'You may not move it further.'}
            </p>
          ) : null}
        </ConflictView>
      ) : null}

      <form
        class="header"
        aria-label="Order header"
        onSubmit={(event) => {
          event.preventDefault();
          void saving.save(['header']);
        }}
      >
        {mayEditHeader ? (
          <>
            <Field label="Customer" error={saving.errors.customer}>
              <input {...input('customer')} />
            </Field>
            <Field label="Notes" error={saving.errors.notes}>
              <textarea {...input('notes')} />
            </Field>
            <Submit
              label="Save header"
              busy={saving.busy}
              disabled={Boolean(conflict) || Boolean(open.pending)}
            />
          </>
        ) : (
          <dl class="facts">
            <dt>Customer</dt>
            <dd>{order.customer}</dd>
            <dt>Notes</dt>
            <dd>{order.notes ?? '—'}</dd>
          </dl>
        )}
      </form>

      {order.lines.length === 0 ? <p>No lines yet.</p> : null}
      <table aria-label="Lines" class="lines" hidden={order.lines.length === 0}>
        <thead>
          <tr>
            <th scope="col">SKU</th>
            <th scope="col">Quantity</th>
            <th scope="col">Unit price ({currency})</th>
            <th scope="col">Amount</th>
            {mayEditLines ? <th scope="col">Actions</th> : null}
          </tr>
        </thead>
        <tbody>
          {order.lines.map((line) => (
            <tr key={line.lineId} data-line={line.sku}>
              <th scope="row" data-label="SKU">
                {line.sku}
                {line.description ? <span class="meta"> {line.description}</span> : null}
              </th>
              <td data-label="Quantity">
                {mayEditLines ? (
                  <Field
                    label={`Quantity of ${line.sku}`}
                    error={saving.errors[linePath(line.lineId, 'quantity')]}
                  >
                    <input inputMode="numeric" {...input(linePath(line.lineId, 'quantity'))} />
                  </Field>
                ) : (
                  line.quantity
                )}
              </td>
              <td data-label={`Unit price (${currency})`}>
                {mayEditLines ? (
                  <Field
                    label={`Unit price of ${line.sku}`}
                    error={saving.errors[linePath(line.lineId, 'unitPrice')]}
                  >
                    <input inputMode="decimal" {...input(linePath(line.lineId, 'unitPrice'))} />
                  </Field>
                ) : (
                  <Money minor={line.unitPrice} currency={currency} />
                )}
              </td>
              <td data-label="Amount">
                <Money minor={lineAmount(line)} currency={currency} />
              </td>
              {mayEditLines ? (
                <td data-label="Actions" class="actions">
                  <Submit
                    label={`Save ${line.sku}`}
                    busy={saving.busy}
                    disabled={Boolean(conflict) || Boolean(open.pending) || !unsavedLine(line.lineId)}
                    onClick={() => void saving.save([`line/${line.lineId}`])}
                  />
                  <ConfirmButton
                    label={`Remove ${line.sku}`}
                    question={`Remove line ${line.sku}?`}
                    consequence={`${line.quantity} × ${formatMoney(line.unitPrice, currency)} leaves the order for everyone (the order's next version).${
                      unsavedLine(line.lineId) ? ' Your unsaved changes to it are dropped.' : ''
                    }`}
                    confirm={`Remove ${line.sku}`}
                    disabled={Boolean(conflict)}
                    onConfirm={() => void removeLine(line)}
                  />
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>

      {mayEditLines ? (
        <IntentForm
          intent={addLine}
          label="New line"
          fields={[
            { name: 'sku', label: 'New line SKU' },
            { name: 'quantity', label: 'Quantity', inputMode: 'numeric' },
            { name: 'unitPrice', label: `Unit price (${currency})`, inputMode: 'decimal' },
          ]}
          submit="Add line"
          busyLabel="Adding…"
        />
      ) : !editable ? (
        <p>This order is {order.status}: its lines can no longer change.</p>
      ) : null}

      {moves.length > 0 ? (
        <nav aria-label="Moves" class="actions">
          {moves.map((to) =>
            to === 'cancelled' ? (
              <ConfirmButton
                key={to}
                label="Move to cancelled"
                question="Cancel this order?"
                consequence={`Order for ${order.customer}, version ${order.version}, ${order.lines.length} lines, total ${formatMoney(order.total, currency)}: once cancelled it can never be edited or moved again.`}
                confirm="Cancel the order"
                onConfirm={() => void move(to)}
              />
            ) : (
              <button key={to} type="button" onClick={() => void move(to)}>
                Move to {to}
              </button>
            ),
          )}
        </nav>
      ) : null}
    </section>
  );
};
