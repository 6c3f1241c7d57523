import { type Answer, ApiError, type NotModified, type Reply } from '../../../lib/client/answers';
import { articleEntity, debtorEntity } from '../../../lib/domain/catalog';
import { ConflictView } from '../conflict';
import {
  type Choice,
  changes,
  differences,
  discard,
  type EditSession,
  refreshed,
  resolved,
  type Same,
  withoutSent,
} from '../edit-session';
import { EditorNotes, KeptText } from '../editing';
import { CreateForm, IntentForm, useIntent } from '../intents';
import { ListView } from '../list';
import { formatMoney, moneyInputText, parseMoney } from '../money';
import { codeOf, notSent } from '../problems';
import { type Pending, useRecord } from '../record';
import { useSaveState } from '../saving';
import { Field, hasRole, Money, mayCall, Notice, Submit, useApp } from '../ui';

type Kind = 'debtors' | 'articles';
type Debtor = Reply<'GET /debtors/{id}'>;
type Article = Reply<'GET /articles/{id}'>;
interface GroupRecord {
  id: string;
  version: number;
  updatedBy: string;
  updatedAt: string;
  [field: string]: unknown;
}
/** A group's outcome in a 409 PARTIAL_CONFLICT. */
type GroupResult =
  | { status: 'applied' | 'unchanged' }
  | { status: 'conflict'; current: Record<string, unknown> }
  | { status: 'failed'; code: string };

const entities = { debtors: debtorEntity, articles: articleEntity };

/** What people call each field and group; the API's names are code. */
const labels: Record<string, string> = {
  name: 'Name',
  street: 'Street',
  city: 'City',
  postalCode: 'Postal code',
  country: 'Country (2 letters)',
  creditLimit: 'Credit limit',
  paymentTermsDays: 'Payment terms (days)',
  description: 'Description',
  salesPrice: 'Sales price',
  vatCode: 'VAT code',
  preferredSupplier: 'Preferred supplier',
  maxPurchasePrice: 'Maximum purchase price',
  binLocation: 'Bin location',
  reorderLevel: 'Reorder level',
  profile: 'Profile',
  address: 'Address',
  credit: 'Credit',
  basic: 'Basic',
  sales: 'Sales',
  purchasing: 'Purchasing',
  inventory: 'Inventory',
};
const label = (name: string) => labels[name] ?? name;

/** Amounts in minor units, shown and typed in major units. */
const moneyFields = new Set(['creditLimit', 'salesPrice', 'maxPurchasePrice']);
/** Whole numbers. */
const countFields = new Set(['paymentTermsDays', 'reorderLevel']);

/** Debtors or articles: found by a word of their name (or SKU), a page at a time; created by their owners. */
export const GroupRecordList = ({ kind }: { kind: Kind }) => {
  const { client, session, config } = useApp();
  return (
    <section>
      <h1>{kind === 'debtors' ? 'Debtors' : 'Articles'}</h1>
      {mayCall(session, kind === 'debtors' ? 'POST /debtors' : 'POST /articles') ? (
        <CreateForm
          section={kind}
          noun={kind === 'debtors' ? 'debtor' : 'article'}
          initial={{ name: '', sku: '' }}
          fields={[
            ...(kind === 'articles'
              ? [{ name: 'sku' as const, label: 'New SKU', transform: (text: string) => text.toUpperCase() }]
              : []),
            { name: 'name', label: kind === 'debtors' ? 'New debtor name' : 'Description' },
          ]}
          send={(values, key) =>
            kind === 'debtors'
              ? client.call('POST /debtors', { body: { name: values.name }, idempotencyKey: key })
              : client.call('POST /articles', {
                  body: { id: values.sku, description: values.name },
                  idempotencyKey: key,
                })
          }
          fieldOf={(pointer) => (pointer === '/id' ? 'sku' : 'name')}
        />
      ) : null}
      {kind === 'debtors' ? (
        <ListView<Debtor>
          label="Debtors"
          searchLabel="Search debtors by name"
          fetch={(query) => client.call('GET /debtors', { query })}
          href={(item) => `#/debtors/${encodeURIComponent(item.id)}`}
          columns={[
            { title: 'Name', cell: (item) => item.name },
            { title: 'City', cell: (item) => item.city ?? '' },
            { title: 'Balance', cell: (item) => <Money minor={item.balance} currency={config.currency} /> },
          ]}
        />
      ) : (
        <ListView<Article>
          label="Articles"
          searchLabel="Search articles by SKU or description"
          fetch={(query) => client.call('GET /articles', { query })}
          href={(item) => `#/articles/${encodeURIComponent(item.id)}`}
          columns={[
            { title: 'SKU', cell: (item) => item.id },
            { title: 'Description', cell: (item) => item.description },
            { title: 'In stock', cell: (item) => item.inStock },
          ]}
        />
      )}
    </section>
  );
};

/**
 * A debtor or an article: the groups you own are editable, the others shown as they are
 * stored. A save sends, for each group you changed, the values you started from (`base`) and
 * only the fields you changed (`set`); a partial conflict shows, for each group that needs a
 * decision, what you started from, what is stored now and yours, field by field.
 */
export const GroupRecordPage = ({ kind, id }: { kind: Kind; id: string }) => {
  const { client, session: user, config } = useApp();
  const currency = config.currency;
  const entity = entities[kind];
  const groupOf = (field: string) =>
    Object.entries(entity.groups).find(([, group]) => group.fields.includes(field))?.[0] ?? '';
  const same: Same = (path, one, other) => {
    if (moneyFields.has(path)) {
      const [a, b] = [parseMoney(one, currency), parseMoney(other, currency)];
      return 'ok' in a && 'ok' in b ? a.ok === b.ok : one.trim() === other.trim();
    }
    return countFields.has(path) ? one.trim() === other.trim() : one === other;
  };
  const textOf = (field: string, value: unknown) =>
    value === undefined || value === null
      ? ''
      : moneyFields.has(field)
        ? moneyInputText(value as number, currency)
        : String(value);
  const read = async (ifNoneMatch?: number) => {
    const options = { params: { id }, ...(ifNoneMatch ? { ifNoneMatch } : {}) };
    const answer: unknown =
      kind === 'debtors'
        ? await client.call('GET /debtors/{id}', options)
        : await client.call('GET /articles/{id}', options);
    return answer as Answer<GroupRecord> | NotModified;
  };
  const open = useRecord<GroupRecord>({
    name: `${kind}/${id}`,
    href: `#/${kind}/${id}`,
    title: (record) => `${kind === 'debtors' ? 'Debtor' : 'Article'} ${String(record.name ?? record.id)}`,
    read,
    values: (record) =>
      Object.fromEntries(entity.fields.map((field) => [field, textOf(field, record[field])])),
    same,
  });
  const saving = useSaveState();

  /** A form text as the API takes it: null for empty, minor units for money, numbers for counts. */
  const apiValue = (field: string, text: string): { ok: unknown } | { error: string } => {
    if (text.trim() === '') return { ok: null };
    if (moneyFields.has(field)) return parseMoney(text, currency);
    if (countFields.has(field))
      return /^\s*\d+\s*$/.test(text) ? { ok: Number(text) } : { error: 'A whole number, like 30.' };
    return { ok: text };
  };

  /**
   * Sends the person's changes in `groups`: for each, every field's value as they saw it
   * (`base`: what they changed it from, or what is stored) and the fields they changed (`set`).
   */
  const save = async (current: EditSession, groups: string[], again?: Pending) => {
    const sent = again
      ? Object.fromEntries(again.paths.map((path) => [path, current.edits[path]?.value ?? '']))
      : changes(current, (path) => groups.includes(groupOf(path)));
    if (Object.keys(sent).length === 0)
      return saving.report('Nothing to save: you changed nothing in your groups.');
    const base: Record<string, unknown> = {};
    const set: Record<string, unknown> = {};
    const invalid: { pointer: string; detail: string }[] = [];
    for (const group of new Set(Object.keys(sent).map(groupOf)))
      for (const field of entity.groups[group]?.fields ?? []) {
        const was = apiValue(field, current.edits[field]?.from ?? current.stored.values[field] ?? '');
        base[field] = 'ok' in was ? was.ok : null;
      }
    for (const [field, text] of Object.entries(sent)) {
      const value = apiValue(field, text);
      if ('ok' in value) set[field] = value.ok;
      else invalid.push({ pointer: `/set/${field}`, detail: value.error });
    }
    const key = again?.key ?? crypto.randomUUID();
    await saving.run(async () => {
      try {
        if (invalid.length > 0) throw notSent(invalid);
        const body = { base, set };
        const answer =
          kind === 'debtors'
            ? await client.call('PATCH /debtors/{id}', { params: { id }, body, idempotencyKey: key })
            : await client.call('PATCH /articles/{id}', { params: { id }, body, idempotencyKey: key });
        const record = answer.body.record as GroupRecord;
        open.update((before) => refreshed(withoutSent(before, sent), open.snapshot(record)), record);
        open.setPending(undefined);
        open.setConflict(undefined);
        saving.report(
          `Saved: ${Object.entries(answer.body.groups)
            .map(([name, outcome]) => `${label(name)} ${outcome}`)
            .join(', ')}.`,
        );
      } catch (failure) {
        if (failure instanceof ApiError && failure.code === 'PARTIAL_CONFLICT') {
          const results = failure.problem.groups as Record<string, GroupResult>;
          const record = failure.problem.record as GroupRecord;
          const done = Object.entries(results).flatMap(([name, outcome]) =>
            outcome.status === 'applied' || outcome.status === 'unchanged' ? [name] : [],
          );
          const conflicted = Object.entries(results).flatMap(([name, outcome]) =>
            outcome.status === 'conflict' ? [[name, outcome.current] as const] : [],
          );
          const failed = Object.entries(results).flatMap(([name, outcome]) =>
            outcome.status === 'failed' ? [`${label(name)} (${outcome.code})`] : [],
          );
          const current = {
            ...record,
            ...Object.assign({}, ...conflicted.map(([, values]) => values)),
          } as GroupRecord;
          const savedPart = Object.fromEntries(
            Object.entries(sent).filter(([field]) => done.includes(groupOf(field))),
          );
          // What was applied is stored; the rest stays based on what the person saw.
          open.update((before) => refreshed(withoutSent(before, savedPart), open.snapshot(current)), current);
          open.setPending(undefined);
          if (conflicted.length > 0)
            open.setConflict({ current, choices: {}, scopes: conflicted.map(([name]) => name) });
          // The record says who changed it last, not who changed each group: no name is guessed.
          saving.report(
            done.length > 0 ? `Saved: ${done.map(label).join(', ')}.` : undefined,
            [
              conflicted.length > 0
                ? `Needs your decision: ${conflicted.map(([name]) => label(name)).join(', ')} changed since you opened it.`
                : '',
              failed.length > 0 ? `Not saved, try again: ${failed.join(', ')}.` : '',
            ]
              .filter(Boolean)
              .join(' '),
          );
        } else
          saving.failed(
            failure,
            () => open.setPending({ key, paths: Object.keys(sent), version: current.base.version }),
            (pointer) => pointer.split('/').pop(),
          );
      }
    });
  };

  const posting = useIntent({
    name: `${kind}/${id}/movement`,
    title: kind === 'debtors' ? 'A posting' : 'A stock movement',
    href: `#/${kind}/${id}`,
    initial: { amount: '', reference: '' },
    check: (values): Record<string, string> => {
      if (kind === 'debtors') {
        const amount = parseMoney(values.amount, currency);
        return 'error' in amount ? { amount: amount.error } : {};
      }
      return /^\s*-?\d+\s*$/.test(values.amount) ? {} : { amount: 'A whole number: 5 in, -5 out.' };
    },
    send: async (values, key) => {
      if (kind === 'debtors') {
        const amount = parseMoney(values.amount, currency);
        const answer = await client.call('POST /debtors/{id}/postings', {
          params: { id },
          body: { amount: 'ok' in amount ? amount.ok : 0, reference: values.reference },
          idempotencyKey: key,
        });
        await open.reload();
        return { replayed: answer.replayed, counter: answer.body.balance };
      }
      const answer = await client.call('POST /articles/{id}/stock-movements', {
        params: { id },
        body: { delta: Number(values.amount), reason: values.reference },
        idempotencyKey: key,
      });
      await open.reload();
      return { replayed: answer.replayed, counter: answer.body.inStock };
    },
    done: (answer, values) => {
      const what =
        kind === 'debtors' ? `Posting ${values.reference}` : `Stock movement (${values.reference})`;
      const now =
        kind === 'debtors'
          ? `Balance ${formatMoney(answer.counter, currency)}.`
          : `In stock: ${answer.counter}.`;
      return `${what} applied${answer.replayed ? ' once: a repeat was recognised as the same one' : ''}. ${now}`;
    },
    fieldOf: (pointer) => (pointer === '/amount' || pointer === '/delta' ? 'amount' : 'reference'),
    refused: (failure) => {
      if (codeOf(failure) === 'INSUFFICIENT_STOCK') void open.reload();
      return false;
    },
  });

  const { record, session, conflict } = open;
  if (!record || !session)
    return (
      <section>
        <h1>{kind === 'debtors' ? 'Debtor' : 'Article'}</h1>
        <Notice error={open.gone ?? open.error} />
        {open.kept ? <KeptText edits={open.kept.edits} onDiscard={open.forget} /> : null}
      </section>
    );

  const owned = (name: string) => hasRole(user, entity.groups[name]?.owners ?? []);
  const movementRoute =
    kind === 'debtors' ? 'POST /debtors/{id}/postings' : 'POST /articles/{id}/stock-movements';
  const decide = (group: string, choose: (path: string) => Choice | undefined, keep: boolean) => {
    if (!conflict) return;
    const inGroup = (path: string) => groupOf(path) === group;
    const current = open.snapshot(conflict.current);
    const next = keep
      ? resolved(session, current, (d) => choose(d.path) ?? 'yours', same, inGroup)
      : discard(session, Object.keys(session.edits).filter(inGroup));
    open.update(() => next, conflict.current);
    const scopes = (conflict.scopes ?? []).filter((scope) => scope !== group);
    open.setConflict(scopes.length > 0 ? { ...conflict, scopes } : undefined);
    if (keep) void save(next, [group]);
    else saving.report(`Kept what is stored for ${label(group)}; your changes there were dropped.`);
  };
  const owns = Object.keys(entity.groups).filter(owned);

  return (
    <section>
      <h1>
        {kind === 'debtors' ? 'Debtor' : 'Article'} {String(record.name ?? record.id)}
      </h1>
      <p class="meta">
        {kind === 'debtors' ? (
          <>
            Balance <Money minor={record.balance as number} currency={currency} />
          </>
        ) : (
          <>In stock: {String(record.inStock)}</>
        )}
        {kind === 'articles' ? ` · SKU ${record.id}` : ''}
      </p>
      <EditorNotes
        open={{ ...open, record }}
        saving={saving}
        onSendAgain={() => (open.pending ? void save(session, [], open.pending) : undefined)}
      />
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void save(session, owns);
        }}
      >
        {Object.entries(entity.groups).map(([name, group]) => (
          <fieldset key={name} data-group={name}>
            <legend>
              {label(name)} {owned(name) ? '(yours)' : `(read-only: ${group.owners.join(', ')})`}
            </legend>
            {owned(name) ? (
              group.fields.map((field) => (
                <Field
                  key={field}
                  label={moneyFields.has(field) ? `${label(field)} (${currency})` : label(field)}
                  error={saving.errors[field]}
                >
                  <input
                    {...open.input(field)}
                    inputMode={
                      moneyFields.has(field) ? 'decimal' : countFields.has(field) ? 'numeric' : 'text'
                    }
                  />
                </Field>
              ))
            ) : (
              <dl class="facts">
                {group.fields.map((field) => (
                  <div key={field}>
                    <dt>{label(field)}</dt>
                    <dd>
                      {moneyFields.has(field) && record[field] !== undefined ? (
                        <Money minor={record[field] as number} currency={currency} />
                      ) : (
                        textOf(field, record[field]) || '—'
                      )}
                    </dd>
                  </div>
                ))}
              </dl>
            )}
            {conflict?.scopes?.includes(name) ? (
              <ConflictView
                label={`Conflict in ${label(name)}`}
                title={`${label(name)} was changed since you opened it (now version ${conflict.current.version})`}
                diffs={differences(
                  session,
                  open.snapshot(conflict.current),
                  same,
                  (path) => groupOf(path) === name,
                )}
                current={conflict.current}
                choices={conflict.choices}
                nameOf={label}
                onChoose={(path, choice) =>
                  open.setConflict({ ...conflict, choices: { ...conflict.choices, [path]: choice } })
                }
                onSave={() => decide(name, (path) => conflict.choices[path], true)}
                onDiscard={() => decide(name, () => 'theirs', false)}
                busy={saving.busy}
                named={false}
                saveLabel={`Keep mine for ${label(name)}`}
                discardLabel={`Take theirs for ${label(name)}`}
              />
            ) : null}
          </fieldset>
        ))}
        {owns.length > 0 ? (
          <Submit label="Save my groups" busy={saving.busy} disabled={Boolean(open.pending)} />
        ) : (
          <p>None of these groups is yours to change.</p>
        )}
      </form>
      {mayCall(user, movementRoute) ? (
        <IntentForm
          intent={posting}
          label={kind === 'debtors' ? 'New posting' : 'New stock movement'}
          fields={[
            kind === 'debtors'
              ? {
                  name: 'amount',
                  label: `Posting amount (${currency})`,
                  hint: 'Negative for an invoice, positive for a payment.',
                  inputMode: 'decimal',
                }
              : { name: 'amount', label: 'Stock change', hint: '5 in, -5 out.', inputMode: 'numeric' },
            { name: 'reference', label: kind === 'debtors' ? 'Reference' : 'Reason' },
          ]}
          submit={kind === 'debtors' ? 'Post' : 'Move stock'}
        />
      ) : null}
    </section>
  );
};
