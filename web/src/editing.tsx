import type { ComponentChildren } from 'preact';
import { discard, type EditSession, isDirty } from './edit-session';
import { PresenceNote } from './live';
import type { LiveChange, OpenRecord, Versioned } from './record';
import { Notice, Submit, Time } from './ui';

/**
 * The notes every editing page shows from its edit session: what was restored from the
 * drafts, what changed since the person started, and a save whose answer never came.
 */

/** "Your unsaved changes from … were restored", with a way to drop them. */
export const RestoredNote = ({
  keptAt,
  session,
  onDiscard,
}: {
  keptAt: string | undefined;
  session: EditSession | undefined;
  onDiscard: () => void;
}) =>
  keptAt && session && isDirty(session) ? (
    <div class="banner stale restored" role="status">
      <p>
        Your unsaved changes from <Time iso={keptAt} /> were kept and are shown below; nothing of them is
        saved yet.
      </p>
      <button type="button" onClick={onDiscard}>
        Discard my unsaved changes
      </button>
    </div>
  ) : null;

/**
 * Someone saved a newer version while the person has changes: untouched fields show it
 * already, and **Merge now** opens the conflict view at once, before they save (`onMerge`;
 * none when nothing of theirs meets the change). Not while a conflict says the same in more
 * detail (`quiet`).
 */
export const ChangedSince = ({
  session,
  quiet,
  onMerge,
}: {
  session: EditSession | undefined;
  quiet?: boolean;
  onMerge?: (() => void) | null | undefined;
}) =>
  !quiet && session && isDirty(session) && session.stored.version > session.base.version ? (
    <div class="banner stale changed-since">
      <p role="status">
        Changed by {session.stored.updatedBy} at <Time iso={session.stored.updatedAt} /> since you started
        editing (version {session.base.version} → {session.stored.version}). Fields you did not change show it
        already; saving shows you what collides.
      </p>
      {onMerge ? (
        <button type="button" onClick={onMerge}>
          Merge now
        </button>
      ) : null}
    </div>
  ) : null;

/**
 * A colleague's change, shown as it arrives: who, when, the versions, and each field that
 * changed with the value it has now. Put away with **OK**.
 */
export const LiveNote = ({
  change,
  session,
  nameOf = (path) => path,
  onDismiss,
}: {
  change: LiveChange | undefined;
  session: EditSession | undefined;
  nameOf?: ((path: string) => string) | undefined;
  onDismiss: () => void;
}) =>
  change && session ? (
    <div class="banner live-change" role="status">
      <p>
        {change.by} changed this at <Time iso={change.at} /> (version {change.from} → {change.to})
        {change.paths.length > 0 ? ': ' : '.'}
        {change.paths.map((path, index) => (
          <span key={path} class="changed-field">
            {index > 0 ? ', ' : ''}
            {nameOf(path)} “{session.stored.values[path] ?? ''}”
          </span>
        ))}
        {change.paths.length > 0 ? '.' : ''}
      </p>
      <button type="button" onClick={onDismiss}>
        OK
      </button>
    </div>
  ) : null;

/** A save sent whose answer never came: it can only be sent again, as the same request. */
export const SendAgain = ({
  pending,
  busy,
  onSend,
}: {
  pending: boolean;
  busy: boolean;
  onSend: () => void;
}) =>
  pending ? (
    <div class="banner error unknown">
      <p>
        Not sure your last save was applied. The fields it sent stay as they were until you send it again.
      </p>
      <Submit label="Send it again" busyLabel="Sending…" busy={busy} onClick={onSend} />
    </div>
  ) : null;

/** Version, who changed it last and when. */
export const Meta = ({ record }: { record: Versioned }) => (
  <p class="meta">
    Version {record.version}, last changed by {record.updatedBy} at <Time iso={record.updatedAt} />
  </p>
);

/** What the person typed into a record that can no longer be read (deleted): to copy before dropping it. */
export const KeptText = ({
  edits,
  onDiscard,
}: {
  edits: Record<string, { value: string }>;
  onDiscard: () => void;
}) => (
  <div class="banner stale">
    <p>Your unsaved text for it, to copy elsewhere:</p>
    <dl>
      {Object.entries(edits).map(([path, edit]) => (
        <div key={path}>
          <dt>{path}</dt>
          <dd>{edit.value}</dd>
        </div>
      ))}
    </dl>
    <button type="button" onClick={onDiscard}>
      Drop my unsaved text
    </button>
  </div>
);

/**
 * The notes above an editing form, in order: version and last writer, restored drafts, what
 * changed since, the page's own panel (a lock), what the last save did, a save to send again.
 */
export const EditorNotes = <R extends Versioned>({
  open,
  saving,
  onSendAgain,
  nameOf,
  onMerge = () => open.mergeNow(),
  children,
}: {
  open: OpenRecord<R> & { record: R };
  saving: { busy: boolean; message: string | undefined; error: string | undefined };
  onSendAgain: () => void;
  /** What people call the field at a path (default: the path). */
  nameOf?: (path: string) => string;
  /** Merge now, before saving (default: the whole record's conflict); null: not offered. */
  onMerge?: (() => void) | null;
  children?: ComponentChildren;
}) => (
  <>
    <Meta record={open.record} />
    <PresenceNote people={open.people} />
    <Notice error={open.gone} />
    {open.conflict ? null : (
      <LiveNote change={open.change} session={open.session} nameOf={nameOf} onDismiss={open.dismissChange} />
    )}
    <RestoredNote
      keptAt={open.restored}
      session={open.session}
      onDiscard={() => {
        open.update((before) => discard(before, Object.keys(before.edits)));
        open.setConflict(undefined);
        open.setPending(undefined);
      }}
    />
    <ChangedSince session={open.session} quiet={Boolean(open.conflict)} onMerge={onMerge} />
    {children}
    <Notice message={saving.message} error={saving.error} />
    <SendAgain pending={Boolean(open.pending)} busy={saving.busy} onSend={onSendAgain} />
  </>
);
