import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';
import type { Choice, Difference } from './edit-session';
import { written } from './edit-session';
import { when } from './time';
import { Decision, Submit } from './ui';

/** Who stored the version a conflict is with. */
interface Stored {
  version: number;
  updatedBy: string;
  updatedAt: string;
}

const empty = (text: string | undefined) => (text === undefined ? '' : text === '' ? '(empty)' : text);

/**
 * A conflict, field by field, from the edit session: what the person started from, what is
 * stored now (and by whom), and their change. True collisions are marked and decided one by
 * one; changes only one side made are said as what happens to them (theirs kept, yours
 * written), and the summary says exactly what saving will write.
 */
export const ConflictView = ({
  label = 'Conflict',
  title,
  diffs,
  current,
  choices,
  nameOf,
  showOf = (_path, text) => empty(text),
  onChoose,
  onSave,
  onDiscard,
  busy,
  blocked,
  saveLabel = 'Save my choices',
  discardLabel = 'Take theirs for all',
  named = true,
  children,
}: {
  label?: string;
  title?: string;
  diffs: Difference[];
  current: Stored;
  choices: Record<string, Choice>;
  nameOf: (path: string) => string;
  showOf?: (path: string, text: string | undefined) => string;
  onChoose: (path: string, choice: Choice) => void;
  onSave: () => void;
  onDiscard: () => void;
  busy: boolean;
  /** Why nothing can be saved now (the order was approved meanwhile). */
  blocked?: string | undefined;
  saveLabel?: string;
  discardLabel?: string;
  /**
   * Whether the record's last writer is who changed these fields: not for one field group,
   * whose writer the record does not say (it names who changed the record last).
   */
  named?: boolean;
  children?: ComponentChildren;
}) => {
  const summaryId = useId();
  const choose = (d: Difference) => choices[d.path] ?? 'yours';
  const writes = written(diffs, choose);
  const collisions = diffs.filter((d) => d.side === 'both').length;
  const who = named ? current.updatedBy : 'someone else';
  const heading =
    title ??
    `${who} changed this at ${when(current.updatedAt)} while you were editing (now version ${current.version})`;
  const outcome = (d: Difference) => {
    if (d.side === 'theirs') return `Only ${who} changed it: kept`;
    if (d.side === 'yours') return 'Only you changed it: written';
    if (d.side === 'same') return `${who} saved the same: nothing to write`;
    return null;
  };
  return (
    <Decision
      label={label}
      heading={heading}
      announcement={`Conflict: ${heading}. ${
        collisions > 0
          ? `${collisions} field${collisions > 1 ? 's need' : ' needs'} your decision.`
          : 'Nothing collides.'
      }`}
    >
      {children}
      <table class="diff">
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">You started from</th>
            <th scope="col">
              Stored now ({named ? `by ${who}, ` : ''}version {current.version})
            </th>
            <th scope="col">Yours</th>
            <th scope="col">What happens</th>
          </tr>
        </thead>
        <tbody>
          {diffs.map((d) => (
            <tr key={d.path} data-field={d.path} class={d.side === 'both' ? 'collision' : d.side}>
              <th scope="row" data-label="Field">
                {nameOf(d.path)}
              </th>
              <td class="started" data-label="You started from">
                {showOf(d.path, d.started)}
              </td>
              <td class="theirs" data-label="Stored now">
                {showOf(d.path, d.stored)}
              </td>
              <td class="yours" data-label="Yours">
                {d.yours === undefined ? '' : showOf(d.path, d.yours)}
              </td>
              <td class="outcome" data-label="What happens">
                {d.side === 'both' ? (
                  <fieldset class="choice">
                    <legend>Both changed {nameOf(d.path)}</legend>
                    {(['yours', 'theirs'] as const).map((choice) => (
                      <label key={choice}>
                        <input
                          type="radio"
                          name={`keep-${d.path}`}
                          checked={choose(d) === choice}
                          onChange={() => onChoose(d.path, choice)}
                        />{' '}
                        {choice === 'yours' ? 'Keep mine' : 'Take theirs'} for {nameOf(d.path)}
                      </label>
                    ))}
                  </fieldset>
                ) : (
                  outcome(d)
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="summary" id={summaryId}>
        {blocked
          ? blocked
          : writes.length > 0
            ? `Saving writes ${writes.map(nameOf).join(', ')} over version ${current.version}; everything else stays as it is stored.`
            : `Nothing of yours is left to write: saving keeps version ${current.version} as it is.`}
      </p>
      <p class="meta">“{discardLabel}” writes nothing and drops your changes here.</p>
      <div class="actions">
        <Submit
          label={saveLabel}
          busy={busy}
          disabled={Boolean(blocked)}
          describedBy={summaryId}
          onClick={onSave}
        />
        <button type="button" onClick={onDiscard} disabled={busy}>
          {discardLabel}
        </button>
      </div>
    </Decision>
  );
};
