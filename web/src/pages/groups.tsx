import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../../../lib/client/api-client';
import { articleEntity, debtorEntity } from '../../../lib/domain/catalog';
import { at, explain, Field, hasRole, Notice, StaleBanner, useApp, useStaleness } from '../ui';

type Kind = 'debtors' | 'articles';
type Values = Record<string, unknown>;
interface GroupRecord extends Values {
  id: string;
  version: number;
  updatedBy: string;
  updatedAt: string;
}
/** A group's outcome in a 409 PARTIAL_CONFLICT. */
type GroupResult =
  | { status: 'applied' | 'unchanged' }
  | { status: 'conflict'; current: Values }
  | { status: 'failed'; code: string };

const entities = { debtors: debtorEntity, articles: articleEntity };
/** Fields typed as whole numbers in the schemas; the others are text. */
const numeric = new Set([
  'creditLimit',
  'paymentTermsDays',
  'salesPrice',
  'maxPurchasePrice',
  'reorderLevel',
  'balance',
  'inStock',
]);
const text = (value: unknown) => (value === undefined || value === null ? '' : String(value));
/** The value to send for an input, or undefined when it is not one (a number field holding "12a"). */
const inputValue = (field: string, input: string): unknown =>
  input === ''
    ? null
    : !numeric.has(field)
      ? input
      : /^-?\d+$/.test(input.trim())
        ? Number(input)
        : undefined;

/** A debtor or an article: the groups you own are editable, the others read-only; a partial conflict says which were saved. */
export const GroupRecordPage = ({ kind, id }: { kind: Kind; id: string | undefined }) => {
  const { client, session } = useApp();
  const entity = entities[kind];
  const [record, setRecord] = useState<GroupRecord>();
  const [draft, setDraft] = useState<Record<string, string>>({});
  const [conflicts, setConflicts] = useState<Record<string, Values>>({});
  const [message, setMessage] = useState<string>();
  const [error, setError] = useState<string>();
  const [openId, setOpenId] = useState('');
  const [createName, setCreateName] = useState('');
  const [createSku, setCreateSku] = useState('');

  const open = (next: GroupRecord) => {
    setRecord(next);
    setDraft(Object.fromEntries(entity.fields.map((field) => [field, text(next[field])])));
  };
  const read = (version?: number) =>
    kind === 'debtors'
      ? client.call('GET /debtors/{id}', {
          params: { id: id ?? '' },
          ...(version ? { ifNoneMatch: version } : {}),
        })
      : client.call('GET /articles/{id}', {
          params: { id: id ?? '' },
          ...(version ? { ifNoneMatch: version } : {}),
        });
  useEffect(() => {
    if (id)
      read().then(
        (answer) => 'body' in answer && open(answer.body as GroupRecord),
        (failure: unknown) => setError(explain(failure)),
      );
  }, [id]);
  const staleness = useStaleness(
    (version) => read(version) as ReturnType<typeof read> & Promise<never>,
    record,
  );

  /** Sends the changed fields of these groups, with the values they were read as. */
  const save = async (groups: string[], base: Values) => {
    if (!id || !record) return;
    const set: Values = {};
    const baseOut: Values = {};
    for (const name of groups) {
      const fields = entity.groups[name]?.fields ?? [];
      const changed = fields.filter((field) => draft[field] !== text(base[field]));
      if (changed.length === 0) continue;
      for (const field of fields) baseOut[field] = base[field] ?? null;
      for (const field of changed) set[field] = inputValue(field, draft[field] ?? '');
    }
    if (Object.keys(set).length === 0) return setMessage('Nothing to save.');
    const invalid = Object.keys(set).filter((field) => set[field] === undefined);
    if (invalid.length > 0) return setError(`Not a whole number: ${invalid.join(', ')}. Nothing was sent.`);
    const body = { base: baseOut, set };
    try {
      const answer =
        kind === 'debtors'
          ? await client.call('PATCH /debtors/{id}', { params: { id }, body })
          : await client.call('PATCH /articles/{id}', { params: { id }, body });
      open(answer.body.record as GroupRecord);
      setConflicts({});
      setError(undefined);
      setMessage(
        `Saved: ${Object.entries(answer.body.groups)
          .map(([name, outcome]) => `${name} ${outcome}`)
          .join(', ')}.`,
      );
    } catch (failure) {
      if (failure instanceof ApiError && failure.code === 'PARTIAL_CONFLICT') {
        const results = failure.problem.groups as Record<string, GroupResult>;
        const stored = failure.problem.record as GroupRecord;
        const saved = Object.entries(results).filter(([, outcome]) => outcome.status === 'applied');
        const failed = Object.entries(results).flatMap(([name, outcome]) =>
          outcome.status === 'failed' ? [`${name} (${outcome.code})`] : [],
        );
        const conflicted = Object.fromEntries(
          Object.entries(results).flatMap(([name, outcome]) =>
            outcome.status === 'conflict' ? [[name, outcome.current]] : [],
          ),
        );
        // The form now shows what is stored, except the fields this user changed in a group
        // that was not saved (conflicted or failed): those stay theirs, and only those a
        // "keep mine" or another save sends.
        const unsaved = Object.entries(results).flatMap(([name, outcome]) =>
          outcome.status === 'conflict' || outcome.status === 'failed' ? [name] : [],
        );
        const yours = new Set(
          unsaved.flatMap((name) =>
            (entity.groups[name]?.fields ?? []).filter((field) => draft[field] !== text(base[field])),
          ),
        );
        setRecord(stored);
        setDraft(
          Object.fromEntries(
            entity.fields.map((field) => [
              field,
              yours.has(field) ? (draft[field] ?? '') : text(stored[field]),
            ]),
          ),
        );
        setConflicts(conflicted);
        setMessage(saved.length > 0 ? `Saved: ${saved.map(([name]) => name).join(', ')}.` : undefined);
        // The record says who changed it last, not who changed each group: no name is guessed.
        setError(
          [
            Object.keys(conflicted).length > 0
              ? `Needs your decision: ${Object.keys(conflicted).join(', ')} changed since you opened it.`
              : '',
            failed.length > 0 ? `Not saved, try again: ${failed.join(', ')}.` : '',
          ]
            .filter(Boolean)
            .join(' '),
        );
      } else setError(explain(failure));
    }
  };

  if (!id) {
    const create = async (event: Event) => {
      event.preventDefault();
      try {
        const created =
          kind === 'debtors'
            ? await client.call('POST /debtors', { body: { name: createName } })
            : await client.call('POST /articles', { body: { id: createSku, description: createName } });
        location.hash = `#/${kind}/${created.body.id}`;
      } catch (failure) {
        setError(explain(failure));
      }
    };
    const mayCreate = hasRole(session, kind === 'debtors' ? ['customer-relations'] : ['purchasing']);
    return (
      <section>
        <h1>{kind === 'debtors' ? 'Debtors' : 'Articles'}</h1>
        <form
          class="inline"
          onSubmit={(event) => {
            event.preventDefault();
            location.hash = `#/${kind}/${openId}`;
          }}
        >
          <Field label={kind === 'debtors' ? 'Debtor id' : 'Article SKU'}>
            <input value={openId} onInput={(event) => setOpenId(event.currentTarget.value)} required />
          </Field>
          <button type="submit">Open</button>
        </form>
        {mayCreate ? (
          <form class="inline" onSubmit={create}>
            {kind === 'articles' ? (
              <Field label="New SKU">
                <input
                  value={createSku}
                  onInput={(event) => setCreateSku(event.currentTarget.value)}
                  required
                />
              </Field>
            ) : null}
            <Field label={kind === 'debtors' ? 'New debtor name' : 'Description'}>
              <input
                value={createName}
                onInput={(event) => setCreateName(event.currentTarget.value)}
                required
              />
            </Field>
            <button type="submit">Create</button>
          </form>
        ) : null}
        <Notice error={error} />
      </section>
    );
  }

  if (!record)
    return (
      <section>
        <Notice error={error} />
      </section>
    );
  const owned = (name: string) => hasRole(session, entity.groups[name]?.owners ?? []);
  const counter = kind === 'debtors' ? 'balance' : 'inStock';
  return (
    <section>
      <h1>
        {kind === 'debtors' ? 'Debtor' : 'Article'} {text(record.name ?? record.id)}
      </h1>
      <p class="meta">
        Version {record.version}, last changed by {record.updatedBy} at {at(record.updatedAt)} · {counter}{' '}
        {text(record[counter])}
      </p>
      <StaleBanner {...staleness} />
      <Notice message={message} error={error} />
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void save(Object.keys(entity.groups).filter(owned), record);
        }}
      >
        {Object.entries(entity.groups).map(([name, group]) => (
          <fieldset key={name} disabled={!owned(name)} data-group={name}>
            <legend>
              {name} {owned(name) ? '(yours)' : `(read-only: ${group.owners.join(', ')})`}
            </legend>
            {group.fields.map((field) => (
              <Field key={field} label={field}>
                <input
                  value={draft[field] ?? ''}
                  inputMode={numeric.has(field) ? 'numeric' : 'text'}
                  onInput={(event) => setDraft({ ...draft, [field]: event.currentTarget.value })}
                />
              </Field>
            ))}
            {conflicts[name] ? (
              <section class="conflict" aria-label={`Conflict in ${name}`}>
                <p>Stored now, and yours:</p>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Field</th>
                      <th scope="col">Stored now</th>
                      <th scope="col">Yours</th>
                    </tr>
                  </thead>
                  <tbody>
                    {group.fields.map((field) => (
                      <tr key={field}>
                        <th scope="row">{field}</th>
                        <td class="theirs">{text(conflicts[name]?.[field])}</td>
                        <td class="yours">{draft[field]}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                <button type="button" onClick={() => void save([name], conflicts[name] ?? {})}>
                  Keep mine for {name}
                </button>{' '}
                <button
                  type="button"
                  onClick={() => {
                    const current = conflicts[name] ?? {};
                    setDraft({
                      ...draft,
                      ...Object.fromEntries(group.fields.map((field) => [field, text(current[field])])),
                    });
                    const { [name]: _taken, ...rest } = conflicts;
                    setConflicts(rest);
                    setError(undefined);
                  }}
                >
                  Take theirs for {name}
                </button>
              </section>
            ) : null}
          </fieldset>
        ))}
        <button type="submit">Save my groups</button>
      </form>
    </section>
  );
};
