import { type ComponentChildren, cloneElement, createContext, type VNode } from 'preact';
import { useContext, useEffect, useId, useRef, useState } from 'preact/hooks';
import type { ApiClient } from '../../lib/client/api-client';
import type { RouteKey } from '../../lib/contract/operations';
import { routes } from '../../lib/routes';
import { useLiveStatus } from './live';
import { formatMoney } from './money';
import type { AppConfig, Session } from './session';
import { when } from './time';

/** The signed-in user and their client, for every page. */
export interface App {
  session: Session;
  client: ApiClient;
  config: AppConfig;
  /** How often open records and lists are asked for again, in ms (`?poll=` in the address). */
  pollMs: number;
}
export const AppContext = createContext<App | undefined>(undefined);
export const useApp = (): App => {
  const app = useContext(AppContext);
  if (!app) throw new Error('useApp outside the signed-in app');
  return app;
};

export const hasRole = (session: Session, roles: readonly string[]): boolean =>
  session.groups.some((group) => roles.includes(group));

/** Whether the route table lets this user call the route: controls nobody may use are not shown. */
export const mayCall = (session: Session, key: RouteKey): boolean => {
  const access = routes.find((route) => `${route.method} ${route.path}` === key)?.access;
  return access === 'any' || access === 'public' || (Array.isArray(access) && hasRole(session, access));
};

/**
 * Runs `ask` every `pollMs` after its last answer while the live channel is not up (it
 * pushes every change while it is), and at once when the window gets focus back or the tab
 * is shown again: lists, records, locks and balances stay current while the person looks
 * elsewhere, and while the channel is down.
 */
export const usePolling = (ask: () => Promise<void>, deps: unknown[], enabled = true) => {
  const { pollMs } = useApp();
  const polling = useLiveStatus() !== 'live';
  const latest = useRef(ask);
  latest.current = ask;
  useEffect(() => {
    if (!enabled) return;
    let stopped = false;
    let running = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      if (stopped || running) return;
      running = true;
      clearTimeout(timer);
      try {
        await latest.current();
      } catch {
        // A failed poll is tried again at the next tick; the page's own reads report errors.
      }
      running = false;
      if (!stopped && polling) timer = setTimeout(() => void run(), pollMs);
    };
    const visible = () => {
      if (document.visibilityState === 'visible') void run();
    };
    if (polling) timer = setTimeout(() => void run(), pollMs);
    addEventListener('focus', visible);
    document.addEventListener('visibilitychange', visible);
    return () => {
      stopped = true;
      clearTimeout(timer);
      removeEventListener('focus', visible);
      document.removeEventListener('visibilitychange', visible);
    };
  }, [...deps, pollMs, enabled, polling]);
};

/** A moment with its date, in the reader's locale; the exact time is in its `datetime`. */
export const Time = ({ iso }: { iso: string }) => <time dateTime={iso}>{when(iso)}</time>;

/** An amount in minor units, shown in major units of its currency. */
export const Money = ({ minor, currency }: { minor: number | bigint | undefined; currency: string }) => (
  <span class="money">{formatMoney(minor, currency)}</span>
);

/**
 * A labelled control with its error: the control is the label's child, so the label names
 * it; an error is said below it, tied to it by `aria-describedby`, and marks it invalid.
 */
export const Field = ({
  label,
  error,
  hint,
  children,
}: {
  label: string;
  error?: string | undefined;
  hint?: string | undefined;
  children: VNode;
}) => {
  const id = useId();
  const described = [error ? `${id}-error` : '', hint ? `${id}-hint` : ''].filter(Boolean).join(' ');
  return (
    <div class={error ? 'field invalid' : 'field'}>
      {/* biome-ignore lint/a11y/noLabelWithoutControl: the control arrives as children. */}
      <label>
        <span>{label}</span>
        {cloneElement(children, {
          ...(described ? { 'aria-describedby': described } : {}),
          ...(error ? { 'aria-invalid': 'true' } : {}),
        })}
      </label>
      {hint ? (
        <span class="hint" id={`${id}-hint`}>
          {hint}
        </span>
      ) : null}
      {error ? (
        <span class="field-error" id={`${id}-error`}>
          {error}
        </span>
      ) : null}
    </div>
  );
};

export const Notice = ({ message, error }: { message?: string | undefined; error?: string | undefined }) => (
  <>
    {message ? (
      <p class="banner ok" role="status">
        {message}
      </p>
    ) : null}
    {error ? (
      <p class="banner error" role="alert">
        {error}
      </p>
    ) : null}
  </>
);

const ANNOUNCE = 'no-lost-updates:announce';

/** Says `text` to screen readers at once (the app's one assertive live region). */
export const announce = (text: string) => dispatchEvent(new CustomEvent(ANNOUNCE, { detail: text }));

/** The live region `announce` speaks through: rendered once by the app. */
export const Announcer = () => {
  const [text, setText] = useState('');
  useEffect(() => {
    const said = (event: Event) => setText((event as CustomEvent<string>).detail);
    addEventListener(ANNOUNCE, said);
    return () => removeEventListener(ANNOUNCE, said);
  }, []);
  return (
    <div class="visually-hidden" aria-live="assertive" aria-atomic="true" data-testid="announcer">
      {text}
    </div>
  );
};

/**
 * A section that takes the focus when it appears and is announced: a conflict, a lost lock.
 * Its heading gets the focus, so the decision below it is the next thing the keyboard reaches.
 */
export const Decision = ({
  label,
  heading,
  announcement,
  children,
}: {
  label: string;
  heading: ComponentChildren;
  announcement: string;
  children: ComponentChildren;
}) => {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus();
    announce(announcement);
  }, [announcement]);
  return (
    <section class="conflict" aria-label={label}>
      <h2 tabIndex={-1} ref={ref}>
        {heading}
      </h2>
      {children}
    </section>
  );
};

/**
 * A button for something that cannot be undone: it asks first, in a modal dialog that says
 * what will happen, and acts only on the confirming button.
 */
export const ConfirmButton = ({
  label,
  question,
  consequence,
  confirm,
  onConfirm,
  disabled,
}: {
  label: string;
  question: string;
  consequence: string;
  confirm: string;
  onConfirm: () => void;
  disabled?: boolean;
}) => {
  const dialog = useRef<HTMLDialogElement>(null);
  return (
    <>
      <button type="button" class="danger" disabled={disabled} onClick={() => dialog.current?.showModal()}>
        {label}
      </button>
      <dialog ref={dialog} aria-label={question}>
        <h2>{question}</h2>
        <p>{consequence}</p>
        <div class="actions">
          <button
            type="button"
            class="danger"
            onClick={() => {
              dialog.current?.close();
              onConfirm();
            }}
          >
            {confirm}
          </button>
          <button type="button" onClick={() => dialog.current?.close()}>
            Keep it
          </button>
        </div>
      </dialog>
    </>
  );
};

/** "Saving…" while `busy`; disabled then, so a second click sends nothing. */
export const Submit = ({
  label,
  busy,
  busyLabel = 'Saving…',
  disabled,
  describedBy,
  onClick,
}: {
  label: string;
  busy: boolean;
  busyLabel?: string;
  disabled?: boolean | undefined;
  describedBy?: string;
  onClick?: () => void;
}) => (
  <button
    type={onClick ? 'button' : 'submit'}
    disabled={busy || disabled}
    aria-busy={busy ? 'true' : undefined}
    aria-describedby={describedBy}
    onClick={onClick}
  >
    {busy ? busyLabel : label}
  </button>
);
