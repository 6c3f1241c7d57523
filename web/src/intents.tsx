import { useRef, useState } from 'preact/hooks';
import { keepDraft, readDraft } from './drafts';
import { codeOf, outcomeOf, refusalOf, whyUnknown } from './problems';
import { Field, Notice, Submit, useApp } from './ui';

/** A create-like action's form as kept in the drafts: the typed text, and its key once sent. */
interface Kept<V> {
  values: V;
  /** The Idempotency-Key of this intention, made at its first send and kept until it is answered. */
  key?: string;
  /** Sent, and the answer never came: only the same request may follow. */
  unknown?: boolean;
}

export interface IntentSpec<V extends Record<string, string>, A> {
  /** The draft's name, `annotations/new`. */
  name: string;
  title: string;
  href: string;
  initial: V;
  /** Field errors found before anything is sent (an amount that is not one), by field. */
  check?: (values: V) => Record<string, string>;
  send: (values: V, key: string) => Promise<A>;
  /** Applied: what to tell the person (`replayed` when the key's first answer came back). */
  done: (answer: A, values: V) => string | undefined;
  /** The form field a problem's pointer names. */
  fieldOf?: (pointer: string) => string | undefined;
  /** A refusal the page shows itself (an order changed meanwhile); true when it did. */
  refused?: (error: unknown, values: V) => boolean;
}

/**
 * One action a person means once: create a record, add a line, move money or stock. Its
 * Idempotency-Key is made when it is first sent and kept with its text (in the drafts, so
 * a reload or a new sign-in keeps both) until it is answered: a double click sends nothing
 * more while the first is in flight, and a retry after a lost answer or `OUTCOME_UNKNOWN`
 * is the same request under the same key, which the API applies at most once. Only an
 * answer proves what happened: a success or a refusal ends it; an unknown outcome freezes
 * the form until it is sent again or the person abandons it.
 */
export const useIntent = <V extends Record<string, string>, A>(spec: IntentSpec<V, A>) => {
  const { session } = useApp();
  const [kept, setKeptState] = useState<Kept<V>>(
    () => readDraft<Kept<V>>(session.sub, spec.name) ?? { values: spec.initial },
  );
  const [busy, setBusy] = useState(false);
  const inFlight = useRef(false);
  const [message, setMessage] = useState<string>();
  const [error, setError] = useState<string>();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const setKept = (next: Kept<V>) => {
    const untouched =
      !next.key && Object.entries(next.values).every(([field, text]) => spec.initial[field] === text);
    keepDraft<Kept<V>>(
      session.sub,
      spec.name,
      untouched ? undefined : { ...next, title: spec.title, href: spec.href },
    );
    setKeptState(next);
  };

  const submit = async () => {
    if (inFlight.current) return;
    const checked = spec.check?.(kept.values) ?? {};
    setErrors(checked);
    if (Object.keys(checked).length > 0) return setError('Not sent: see the fields marked.');
    inFlight.current = true;
    setBusy(true);
    setMessage(undefined);
    setError(undefined);
    const intended: Kept<V> = { values: kept.values, key: kept.key ?? crypto.randomUUID() };
    setKept(intended);
    try {
      const answer = await spec.send(intended.values, intended.key ?? '');
      setKept({ values: spec.initial });
      setMessage(spec.done(answer, intended.values));
    } catch (failure) {
      if (codeOf(failure) === 'IDEMPOTENCY_KEY_REUSED') {
        // The key was used by an earlier send of this intention that was applied after all.
        setKept({ values: spec.initial });
        setError('Your earlier attempt of this was applied after all; it is not applied again.');
      } else if (outcomeOf(failure) === 'unknown') {
        setKept({ ...intended, unknown: true });
        setError(
          `Not sure it was applied: ${whyUnknown(failure)}. Send it again: it is the same request, applied at most once.`,
        );
      } else {
        setKept({ values: intended.values, ...(intended.key ? { key: intended.key } : {}) });
        if (!spec.refused?.(failure, intended.values)) {
          const refusal = refusalOf(failure, spec.fieldOf ?? ((pointer) => pointer.slice(1)));
          setErrors(refusal.errors);
          setError(refusal.message);
        }
      }
    } finally {
      inFlight.current = false;
      setBusy(false);
    }
  };

  return {
    values: kept.values,
    /** Sent, its answer lost: the form is frozen until it is sent again or abandoned. */
    unknown: Boolean(kept.unknown),
    busy,
    message,
    error,
    errors,
    set: (field: keyof V & string, text: string) =>
      setKept({ ...kept, values: { ...kept.values, [field]: text } }),
    submit,
    abandon: () => {
      setKept({ values: spec.initial });
      setError(undefined);
      setMessage('Abandoned: check the list before trying again; it may have been applied.');
    },
    report: (text: string | undefined, failure?: string) => {
      setMessage(text);
      setError(failure);
    },
  };
};

export type Intent<V extends Record<string, string>, A> = ReturnType<typeof useIntent<V, A>>;

/** The `done` of a create: the new record's page opens. */
export const openCreated =
  (section: string) =>
  (answer: { body: { id: string } }): undefined => {
    location.hash = `#/${section}/${encodeURIComponent(answer.body.id)}`;
  };

/** A field of an intent's form. */
export interface IntentField<V> {
  name: keyof V & string;
  label: string;
  hint?: string;
  inputMode?: 'text' | 'decimal' | 'numeric';
  /** How typed text is kept (SKUs upper case). */
  transform?: (text: string) => string;
  optional?: boolean;
  /** The id of a `<datalist>` of suggestions. */
  list?: string;
}

/**
 * An intent's form: its fields (frozen while its outcome is unknown), its button ("…" while
 * in flight, "Send it again" after a lost answer), a way to abandon it, and what happened.
 */
export const IntentForm = <V extends Record<string, string>, A>({
  intent,
  label,
  fields,
  submit,
  busyLabel = 'Sending…',
  again = 'Send it again',
}: {
  intent: Intent<V, A>;
  label: string;
  fields: IntentField<V>[];
  submit: string;
  busyLabel?: string;
  again?: string;
}) => (
  <>
    <form
      class="inline"
      aria-label={label}
      onSubmit={(event) => {
        event.preventDefault();
        void intent.submit();
      }}
    >
      {fields.map((field) => (
        <Field key={field.name} label={field.label} hint={field.hint} error={intent.errors[field.name]}>
          <input
            value={intent.values[field.name]}
            inputMode={field.inputMode}
            list={field.list}
            disabled={intent.unknown}
            required={!field.optional}
            onInput={(event) =>
              intent.set(field.name, (field.transform ?? String)(event.currentTarget.value))
            }
          />
        </Field>
      ))}
      <Submit label={intent.unknown ? again : submit} busyLabel={busyLabel} busy={intent.busy} />
      {intent.unknown && !intent.busy ? (
        <button type="button" onClick={intent.abandon}>
          Abandon it
        </button>
      ) : null}
    </form>
    <Notice message={intent.message} error={intent.error} />
  </>
);

/**
 * A list page's form for a new record (`noun`: "annotation"), shown only to roles that may
 * create one; the record opens once it is created.
 */
export const CreateForm = <V extends Record<string, string>>({
  section,
  noun,
  initial,
  fields,
  send,
  fieldOf,
  submit = 'Create',
}: {
  section: string;
  noun: string;
  initial: V;
  fields: IntentField<V>[];
  send: (values: V, key: string) => Promise<{ body: { id: string } }>;
  fieldOf?: (pointer: string) => string | undefined;
  submit?: string;
}) => {
  const intent = useIntent({
    name: `${section}/new`,
    title: `A new ${noun}`,
    href: `#/${section}`,
    initial,
    send,
    done: openCreated(section),
    ...(fieldOf ? { fieldOf } : {}),
  });
  return (
    <IntentForm intent={intent} label={`New ${noun}`} fields={fields} submit={submit} busyLabel="Creating…" />
  );
};
