import type { Annotation } from '../../../lib/client/answers';
import { ConflictView } from '../conflict';
import { differences, isDirty, type Same } from '../edit-session';
import { EditorNotes, KeptText } from '../editing';
import { CreateForm } from '../intents';
import { ListView } from '../list';
import { useLock } from '../locks';
import { explain } from '../problems';
import { useRecord } from '../record';
import { useVersionedSave } from '../saving';
import { ConfirmButton, Field, Notice, Submit, useApp } from '../ui';

const names: Record<string, string> = { name: 'name', description: 'description', tags: 'tags' };

const tagsOf = (text: string) =>
  text
    .split(',')
    .map((tag) => tag.trim())
    .filter(Boolean);

/** Tags are one list however they are spaced: "a, b" and "a,b" are the same value. */
const same: Same = (path, one, other) =>
  path === 'tags' ? tagsOf(one).join(',') === tagsOf(other).join(',') : one === other;

/** The merge patch that sets these fields: an empty description or tag list removes it. */
const patchOf = (fields: Record<string, string>) => {
  const patch: { name?: string; description?: string | null; tags?: string[] | null } = {};
  if (fields.name !== undefined) patch.name = fields.name;
  if (fields.description !== undefined) patch.description = fields.description || null;
  if (fields.tags !== undefined) {
    const tags = tagsOf(fields.tags);
    patch.tags = tags.length > 0 ? tags : null;
  }
  return patch;
};

export const AnnotationList = () => {
  const { client } = useApp();
  return (
    <section>
      <h1>Annotations</h1>
      <CreateForm
        section="annotations"
        noun="annotation"
        initial={{ name: '' }}
        fields={[{ name: 'name', label: 'New annotation name' }]}
        send={(values, key) => client.call('POST /annotations', { body: values, idempotencyKey: key })}
      />
      <ListView<Annotation>
        label="Annotations"
        searchLabel="Search annotations by name"
        fetch={(query) => client.call('GET /annotations', { query })}
        href={(item) => `#/annotations/${item.id}`}
        columns={[
          { title: 'Name', cell: (item) => item.name },
          { title: 'Tags', cell: (item) => (item.tags ?? []).join(', ') },
        ]}
      />
    </section>
  );
};

export const AnnotationEditor = ({ id }: { id: string }) => {
  const { client } = useApp();
  const href = `#/annotations/${id}`;
  const open = useRecord<Annotation>({
    name: `annotations/${id}`,
    href,
    title: (record) => `Annotation “${record.name}”`,
    read: (ifNoneMatch) =>
      client.call('GET /annotations/{id}', { params: { id }, ...(ifNoneMatch ? { ifNoneMatch } : {}) }),
    values: (record) => ({
      name: record.name,
      description: record.description ?? '',
      tags: (record.tags ?? []).join(', '),
    }),
    same,
  });
  const lock = useLock('annotations', id, open.record?.lock, open.readAt, open.reload);
  open.watchLock(lock.watching);
  const saving = useVersionedSave<Annotation>({
    open,
    lock,
    unitOf: () => 'record',
    send: async (_unit, sent, version, key, lockToken) => {
      const answer = await client.call('PATCH /annotations/{id}', {
        params: { id },
        ifMatch: version,
        body: patchOf(sent),
        idempotencyKey: key,
        ...(lockToken ? { lockToken } : {}),
      });
      return {
        applied: answer.appliedVersion ?? answer.body.version,
        record: answer.body,
        replayed: answer.replayed,
      };
    },
    fieldOf: (_unit, pointer) => names[pointer.split('/')[1] ?? ''],
  });

  const { record, session, conflict } = open;
  if (!record || !session)
    return (
      <section>
        <h1>Annotation</h1>
        <Notice error={open.gone ?? open.error} />
        {open.kept ? <KeptText edits={open.kept.edits} onDiscard={open.forget} /> : null}
      </section>
    );

  const { input } = open;
  const diffs = conflict ? differences(session, open.snapshot(conflict.current), same) : [];
  const onlySame = diffs.length > 0 && diffs.every((d) => d.side === 'same' || d.side === 'theirs');

  return (
    <section>
      <h1>Annotation “{record.name}”</h1>
      <EditorNotes open={{ ...open, record }} saving={saving} onSendAgain={() => void saving.sendAgain()}>
        {lock.panel}
      </EditorNotes>
      {conflict ? (
        <ConflictView
          {...(onlySame
            ? {
                title: `Already saved by ${conflict.current.updatedBy}: the stored record (version ${conflict.current.version}) holds your change`,
                label: 'Already saved',
                saveLabel: `Continue with version ${conflict.current.version}`,
              }
            : {})}
          diffs={diffs}
          current={conflict.current}
          choices={conflict.choices}
          nameOf={(path) => names[path] ?? path}
          onChoose={(path, choice) =>
            open.setConflict({ ...conflict, choices: { ...conflict.choices, [path]: choice } })
          }
          onSave={() => saving.decide((d) => conflict.choices[d.path] ?? 'yours')}
          onDiscard={saving.takeTheirs}
          busy={saving.busy}
        />
      ) : null}
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void saving.save();
        }}
      >
        <Field label="Name" error={saving.errors.name}>
          <input {...input('name')} />
        </Field>
        <Field label="Description" error={saving.errors.description}>
          <textarea {...input('description')} />
        </Field>
        <Field label="Tags (comma-separated)" error={saving.errors.tags}>
          <input {...input('tags')} />
        </Field>
        <div class="actions">
          <Submit label="Save" busy={saving.busy} disabled={Boolean(conflict) || Boolean(open.pending)} />
          <ConfirmButton
            label="Delete"
            question={`Delete “${record.name}”?`}
            consequence={`Version ${record.version} is deleted for everyone; it shows as deleted by you, and it cannot be brought back from here.${
              isDirty(session) ? ' Your unsaved changes to it are dropped.' : ''
            }`}
            confirm="Delete it"
            onConfirm={() => {
              client
                .call('DELETE /annotations/{id}', {
                  params: { id },
                  ifMatch: record.version,
                  ...(lock.lockToken ? { lockToken: lock.lockToken } : {}),
                })
                .then(
                  () => {
                    open.forget();
                    location.hash = '#/annotations';
                  },
                  (failure: unknown) => {
                    lock.failed(failure);
                    saving.report(undefined, `Not deleted: ${explain(failure)}`);
                  },
                );
            }}
          />
        </div>
      </form>
    </section>
  );
};
