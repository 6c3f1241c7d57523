import { useEffect, useState } from 'preact/hooks';
import { type Annotation, ApiError } from '../../../lib/client/api-client';
import { useLock } from '../locks';
import { at, explain, Field, Notice, StaleBanner, useApp, useStaleness } from '../ui';

/** An annotation's editable fields as the form holds them: text, tags comma-separated. */
type Fields = { name: string; description: string; tags: string };
const fieldNames = ['name', 'description', 'tags'] as const;
type FieldName = (typeof fieldNames)[number];

const fieldsOf = (record: Annotation): Fields => ({
  name: record.name,
  description: record.description ?? '',
  tags: (record.tags ?? []).join(', '),
});

/** The merge patch that sets these fields: an empty description or tag list removes it. */
const patchOf = (fields: Partial<Fields>) => {
  const patch: { name?: string; description?: string | null; tags?: string[] | null } = {};
  if (fields.name !== undefined) patch.name = fields.name;
  if (fields.description !== undefined) patch.description = fields.description || null;
  if (fields.tags !== undefined) {
    const tags = fields.tags
      .split(',')
      .map((tag) => tag.trim())
      .filter(Boolean);
    patch.tags = tags.length > 0 ? tags : null;
  }
  return patch;
};

/** Whether two forms hold the same value of a field, compared as it would be sent. */
const sameValue = (name: FieldName, one: Fields, other: Fields): boolean =>
  JSON.stringify(patchOf({ [name]: one[name] })[name]) ===
  JSON.stringify(patchOf({ [name]: other[name] })[name]);

export const AnnotationList = () => {
  const { client } = useApp();
  const [items, setItems] = useState<Annotation[]>([]);
  const [name, setName] = useState('');
  const [error, setError] = useState<string>();
  const load = () =>
    client
      .call('GET /annotations', { query: { limit: 50 } })
      .then((answer) => 'body' in answer && setItems(answer.body.items));
  useEffect(() => void load(), []);
  const create = async (event: Event) => {
    event.preventDefault();
    try {
      const created = await client.createAnnotation({ name });
      location.hash = `#/annotations/${created.id}`;
    } catch (failure) {
      setError(explain(failure));
    }
  };
  return (
    <section>
      <h1>Annotations</h1>
      <form onSubmit={create} class="inline">
        <Field label="New annotation name">
          <input value={name} onInput={(event) => setName(event.currentTarget.value)} required />
        </Field>
        <button type="submit">Create</button>
      </form>
      <Notice error={error} />
      <ul class="list">
        {items.map((item) => (
          <li key={item.id}>
            <a href={`#/annotations/${item.id}`}>{item.name}</a> — version {item.version}, by {item.updatedBy}
          </li>
        ))}
      </ul>
    </section>
  );
};

interface Conflict {
  current: Annotation;
  alreadyPresent: boolean;
  /** Per field: keep mine or take theirs, for a merge. */
  choice: Record<FieldName, 'mine' | 'theirs'>;
}

export const AnnotationEditor = ({ id }: { id: string }) => {
  const { client } = useApp();
  const [opened, setOpened] = useState<Annotation>();
  const [draft, setDraft] = useState<Fields>({ name: '', description: '', tags: '' });
  const [conflict, setConflict] = useState<Conflict>();
  const [message, setMessage] = useState<string>();
  const [error, setError] = useState<string>();
  const report = (text: string | undefined, failure?: string) => {
    setMessage(text);
    setError(failure);
  };

  const open = (record: Annotation) => {
    setOpened(record);
    setDraft(fieldsOf(record));
    setConflict(undefined);
  };
  const load = async () => {
    try {
      open(await client.getAnnotation(id));
    } catch (failure) {
      report(undefined, explain(failure));
    }
  };
  useEffect(() => void load(), [id]);
  const refresh = async () => {
    const record = await client.getAnnotation(id);
    setOpened((before) => (before ? { ...before, lock: record.lock } : record));
  };
  const lock = useLock('annotations', id, opened?.lock, refresh, report);
  const staleness = useStaleness(
    (version) => client.call('GET /annotations/{id}', { params: { id }, ifNoneMatch: version }),
    opened,
  );

  /** The fields of the draft whose value differs from `from`'s (as sent: "x, y" and "x,y" are one tag list). */
  const mine = (from: Annotation): Partial<Fields> => {
    const started = fieldsOf(from);
    return Object.fromEntries(
      fieldNames.filter((name) => !sameValue(name, draft, started)).map((name) => [name, draft[name]]),
    );
  };

  /** Sends these fields against `version`; a stale version opens the conflict view. */
  const save = async (version: number, fields: Partial<Fields>) => {
    if (Object.keys(fields).length === 0) return report('Nothing to save.');
    try {
      const saved = await client.call('PATCH /annotations/{id}', {
        params: { id },
        ifMatch: version,
        body: patchOf(fields),
        ...(lock.lockToken ? { lockToken: lock.lockToken } : {}),
      });
      open(saved.body);
      report(`Saved: version ${saved.body.version}.`);
    } catch (failure) {
      if (failure instanceof ApiError && failure.code === 'STALE_DATA') {
        const current = failure.problem.current as Annotation;
        const changed = mine(opened ?? current);
        setConflict({
          current,
          alreadyPresent: failure.problem.changeAlreadyPresent === true,
          choice: Object.fromEntries(
            fieldNames.map((name) => [name, name in changed ? 'mine' : 'theirs']),
          ) as Conflict['choice'],
        });
        report(undefined);
      } else report(undefined, lock.failed(failure));
    }
  };

  if (!opened)
    return (
      <section>
        <h1>Annotation</h1>
        <Notice error={error} />
      </section>
    );

  const resolve = conflict ? (
    <ConflictView
      started={fieldsOf(opened)}
      current={conflict.current}
      yours={draft}
      conflict={conflict}
      onChoose={(name, choice) =>
        setConflict({ ...conflict, choice: { ...conflict.choice, [name]: choice } })
      }
      onKeepMine={() => void save(conflict.current.version, mine(opened))}
      onTakeTheirs={() => {
        open(conflict.current);
        report(`Took ${conflict.current.updatedBy}'s version ${conflict.current.version}.`);
      }}
      onMerge={() => {
        const theirs = fieldsOf(conflict.current);
        const merged = Object.fromEntries(
          fieldNames
            .filter((name) => conflict.choice[name] === 'mine' && !sameValue(name, draft, theirs))
            .map((name) => [name, draft[name]]),
        );
        if (Object.keys(merged).length === 0) {
          open(conflict.current);
          report(`Nothing of yours differs: version ${conflict.current.version} kept.`);
        } else void save(conflict.current.version, merged);
      }}
    />
  ) : null;

  return (
    <section>
      <h1>Annotation “{opened.name}”</h1>
      <p class="meta">
        Version {opened.version}, last changed by {opened.updatedBy} at {at(opened.updatedAt)}
      </p>
      <StaleBanner {...staleness} />
      {lock.panel}
      <Notice message={message} error={error} />
      {resolve}
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void save(opened.version, mine(opened));
        }}
      >
        <Field label="Name">
          <input
            value={draft.name}
            onInput={(event) => setDraft({ ...draft, name: event.currentTarget.value })}
          />
        </Field>
        <Field label="Description">
          <textarea
            value={draft.description}
            onInput={(event) => setDraft({ ...draft, description: event.currentTarget.value })}
          />
        </Field>
        <Field label="Tags (comma-separated)">
          <input
            value={draft.tags}
            onInput={(event) => setDraft({ ...draft, tags: event.currentTarget.value })}
          />
        </Field>
        <button type="submit" disabled={Boolean(conflict)}>
          Save
        </button>
      </form>
    </section>
  );
};

/** What you started from, what is stored now (and who stored it), and your change, field by field. */
const ConflictView = ({
  started,
  current,
  yours,
  conflict,
  onChoose,
  onKeepMine,
  onTakeTheirs,
  onMerge,
}: {
  started: Fields;
  current: Annotation;
  yours: Fields;
  conflict: Conflict;
  onChoose: (name: FieldName, choice: 'mine' | 'theirs') => void;
  onKeepMine: () => void;
  onTakeTheirs: () => void;
  onMerge: () => void;
}) => {
  const theirs = fieldsOf(current);
  if (conflict.alreadyPresent)
    return (
      <section class="conflict" aria-label="Already saved">
        <p>
          Already saved by {current.updatedBy} at {at(current.updatedAt)}: the stored record (version{' '}
          {current.version}) holds your change.
        </p>
        <button type="button" onClick={onTakeTheirs}>
          Continue with version {current.version}
        </button>
      </section>
    );
  return (
    <section class="conflict" aria-label="Conflict">
      <h2>
        {current.updatedBy} changed this at {at(current.updatedAt)} while you were editing
      </h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">You started from</th>
            <th scope="col">
              Stored now (by {current.updatedBy}, version {current.version})
            </th>
            <th scope="col">Your change</th>
            <th scope="col">Keep</th>
          </tr>
        </thead>
        <tbody>
          {fieldNames
            .filter((name) => !sameValue(name, started, theirs) || !sameValue(name, yours, started))
            .map((name) => (
              <tr key={name} data-field={name}>
                <th scope="row">{name}</th>
                <td class="started">{started[name]}</td>
                <td class="theirs">{theirs[name]}</td>
                <td class="yours">{yours[name]}</td>
                <td>
                  <label>
                    <input
                      type="radio"
                      name={`keep-${name}`}
                      aria-label={`Keep mine for ${name}`}
                      checked={conflict.choice[name] === 'mine'}
                      onChange={() => onChoose(name, 'mine')}
                    />{' '}
                    mine
                  </label>{' '}
                  <label>
                    <input
                      type="radio"
                      name={`keep-${name}`}
                      aria-label={`Take theirs for ${name}`}
                      checked={conflict.choice[name] === 'theirs'}
                      onChange={() => onChoose(name, 'theirs')}
                    />{' '}
                    theirs
                  </label>
                </td>
              </tr>
            ))}
        </tbody>
      </table>
      <button type="button" onClick={onKeepMine}>
        Keep mine
      </button>{' '}
      <button type="button" onClick={onTakeTheirs}>
        Take theirs
      </button>{' '}
      <button type="button" onClick={onMerge}>
        Save merge
      </button>
    </section>
  );
};
