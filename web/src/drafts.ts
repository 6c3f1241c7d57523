import { useEffect, useLayoutEffect, useState } from 'preact/hooks';

/**
 * What a person has not saved yet, kept per user and record in this browser's local
 * storage: changed fields, an open conflict with their choices, an action whose answer was
 * lost, text typed into a form. It survives a reload, the back button, navigating away,
 * signing out and in again, and an expired session; it is removed once saved or discarded.
 * Signing out asks first when there is any, as it stays on this device.
 */
export interface DraftMeta {
  /** What people call the record: "Annotation “Cell 4”". */
  title: string;
  /** Where it is edited: `#/annotations/<id>`. */
  href: string;
  keptAt: string;
}

const PREFIX = 'no-lost-updates.draft.';
const CHANGED = 'no-lost-updates:drafts';

const storageKey = (sub: string, name: string) => `${PREFIX}${sub}/${name}`;

/**
 * Two tabs may have the same record open, and they share the drafts. A tab only removes a
 * draft it kept or restored itself (a tab with nothing unsaved would otherwise remove what
 * the person is typing in the other one), and keeps a draft again only when its own work
 * changed, not when a fresh read changed what is stored (which would put an older copy of
 * the work over the other tab's newer one). What this tab last kept or restored, per draft:
 */
const keptHere = new Map<string, string>();
/** The work itself, without what a fresh read changes (the title) or when it was kept. */
const workOf = (draft: object): string => {
  const { title: _title, keptAt: _keptAt, ...work } = draft as Partial<DraftMeta>;
  return JSON.stringify(work);
};

export const readDraft = <T>(sub: string, name: string): (T & DraftMeta) | undefined => {
  const stored = localStorage.getItem(storageKey(sub, name));
  if (!stored) return undefined;
  const draft = JSON.parse(stored) as T & DraftMeta;
  keptHere.set(storageKey(sub, name), workOf(draft));
  return draft;
};

/**
 * Keeps the draft, or removes it when there is nothing left to keep (`undefined`): only a
 * draft this tab kept or restored, and only when the work differs from what this tab kept.
 * `force` removes it whoever kept it (the person chose to drop it).
 */
export const keepDraft = <T>(
  sub: string,
  name: string,
  draft: (T & Omit<DraftMeta, 'keptAt'>) | undefined,
  { force = false }: { force?: boolean } = {},
) => {
  const key = storageKey(sub, name);
  const before = localStorage.getItem(key);
  if (draft) {
    const work = workOf(draft);
    if (before !== null && keptHere.get(key) === work) return;
    localStorage.setItem(key, JSON.stringify({ ...draft, keptAt: new Date().toISOString() }));
    keptHere.set(key, work);
  } else {
    if (before !== null && !force && !keptHere.has(key)) return;
    localStorage.removeItem(key);
    keptHere.delete(key);
  }
  if ((before === null) !== (draft === undefined)) dispatchEvent(new Event(CHANGED));
};

/** Every draft this user has in this browser. */
export const draftsOf = (sub: string): (DraftMeta & { name: string })[] =>
  Object.keys(localStorage)
    .filter((key) => key.startsWith(`${PREFIX}${sub}/`))
    .flatMap((key) => {
      const draft = JSON.parse(localStorage.getItem(key) ?? 'null') as DraftMeta | null;
      return draft ? [{ ...draft, name: key.slice(PREFIX.length + sub.length + 1) }] : [];
    })
    .sort((a, b) => b.keptAt.localeCompare(a.keptAt));

export const discardDrafts = (sub: string): void => {
  for (const { name } of draftsOf(sub)) localStorage.removeItem(storageKey(sub, name));
  dispatchEvent(new Event(CHANGED));
};

/** This user's drafts, kept current as pages keep and remove them (in this tab and others). */
export const useDrafts = (sub: string) => {
  const [drafts, setDrafts] = useState(() => draftsOf(sub));
  useEffect(() => {
    const changed = () => setDrafts(draftsOf(sub));
    changed();
    addEventListener(CHANGED, changed);
    addEventListener('storage', changed);
    return () => {
      removeEventListener(CHANGED, changed);
      removeEventListener('storage', changed);
    };
  }, [sub]);
  return drafts;
};

/**
 * The browser asks before the page is left while anything is unsaved (a reload, closing
 * the tab, another site): the drafts are kept either way, but a person on a shared
 * computer, or one who meant to save, is told.
 */
export const useLeaveWarning = (unsaved: boolean) => {
  // Before the page shows the work as unsaved, not after its next paint: a reload in between
  // would leave without a word.
  useLayoutEffect(() => {
    if (!unsaved) return;
    const warn = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      event.returnValue = '';
    };
    addEventListener('beforeunload', warn);
    return () => removeEventListener('beforeunload', warn);
  }, [unsaved]);
};
