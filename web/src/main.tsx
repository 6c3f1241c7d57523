import { render } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { discardDrafts, keepDraft, useDrafts, useLeaveWarning } from './drafts';
import { LiveContext, LiveIndicator, useLiveClient } from './live';
import { AccountList, AccountPage } from './pages/accounts';
import { AnnotationEditor, AnnotationList } from './pages/annotations';
import { GroupRecordList, GroupRecordPage } from './pages/groups';
import { OrderEditor, OrderList } from './pages/orders';
import {
  type AppConfig,
  clientFor,
  keepSession,
  loadConfig,
  type Session,
  signOut,
  storedSession,
} from './session';
import { SignIn } from './sign-in';
import './style.css';
import { Announcer, AppContext, Time } from './ui';

const useHash = (): string => {
  const [hash, setHash] = useState(location.hash || '#/annotations');
  useEffect(() => {
    const changed = () => setHash(location.hash || '#/annotations');
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return hash;
};

const Page = ({ hash, sub }: { hash: string; sub: string }) => {
  const [, section = 'annotations', id] = hash.slice(1).split('/');
  if (section === 'annotations') return id ? <AnnotationEditor id={id} /> : <AnnotationList />;
  if (section === 'orders') return id ? <OrderEditor id={id} /> : <OrderList />;
  if (section === 'debtors' || section === 'articles')
    return id ? <GroupRecordPage kind={section} id={id} /> : <GroupRecordList kind={section} />;
  if (section === 'accounts') return id ? <AccountPage id={id} /> : <AccountList />;
  if (section === 'drafts') return <Drafts sub={sub} />;
  return <p>No such page.</p>;
};

/** Everything this user has not saved, in this browser: where it is, since when. */
const Drafts = ({ sub }: { sub: string }) => {
  const drafts = useDrafts(sub);
  return (
    <section>
      <h1>Unsaved work</h1>
      {drafts.length === 0 ? (
        <p>Nothing unsaved.</p>
      ) : (
        <ul class="drafts">
          {drafts.map((draft) => (
            <li key={draft.name}>
              <a href={draft.href}>{draft.title}</a> — kept <Time iso={draft.keptAt} />{' '}
              <button type="button" onClick={() => keepDraft(sub, draft.name, undefined, { force: true })}>
                Discard {draft.title}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
};

/** Signing out keeps the unsaved work on this device for the next sign-in, unless the person drops it. */
const SignOut = ({ sub, count, onSignedOut }: { sub: string; count: number; onSignedOut: () => void }) => {
  const dialog = useRef<HTMLDialogElement>(null);
  const leave = (drop: boolean) => {
    dialog.current?.close();
    if (drop) discardDrafts(sub);
    signOut();
    onSignedOut();
  };
  return (
    <>
      <button type="button" onClick={() => (count > 0 ? dialog.current?.showModal() : leave(false))}>
        Sign out
      </button>
      <dialog ref={dialog} aria-label="Sign out with unsaved work?">
        <h2>Sign out with unsaved work?</h2>
        <p>
          You have unsaved changes on {count} {count === 1 ? 'record' : 'records'}. Kept, they stay in this
          browser and come back when you sign in again as {sub}; on a shared computer, drop them.
        </p>
        <div class="actions">
          <button type="button" onClick={() => leave(false)}>
            Sign out, keep them
          </button>
          <button type="button" class="danger" onClick={() => leave(true)}>
            Sign out, drop them
          </button>
          <button type="button" onClick={() => dialog.current?.close()}>
            Stay signed in
          </button>
        </div>
      </dialog>
    </>
  );
};

const SECTIONS = ['annotations', 'orders', 'debtors', 'articles', 'accounts'];

/** The signed-in app: header, the page of the address, and a sign-in in place when the session expires. */
const App = ({ config }: { config: AppConfig }) => {
  const [session, setSession] = useState(storedSession());
  const [again, setAgain] = useState<{ stale: Session; done: (session: Session) => void }>();
  const hash = useHash();
  const pollMs = Number(new URLSearchParams(location.search).get('poll') ?? 5000);
  const client = useMemo(
    () => clientFor(config, (stale) => new Promise<Session>((done) => setAgain({ stale, done }))),
    [config],
  );
  const app = useMemo(() => (session ? { session, client, config, pollMs } : undefined), [session]);
  const drafts = useDrafts(session?.sub ?? '');
  useLeaveWarning(drafts.length > 0);
  const live = useLiveClient(config, session?.sub);
  if (!app) return <SignIn config={config} onSignedIn={(signedIn) => setSession(keepSession(signedIn))} />;
  return (
    <AppContext.Provider value={app}>
      <LiveContext.Provider value={live}>
        <header>
          <nav aria-label="Sections">
            {SECTIONS.map((link) => (
              <a
                key={link}
                href={`#/${link}`}
                aria-current={hash.startsWith(`#/${link}`) ? 'page' : undefined}
              >
                {link[0]?.toUpperCase()}
                {link.slice(1)}
              </a>
            ))}
          </nav>
          <p class="who">
            {drafts.length > 0 ? (
              <a class="unsaved" href="#/drafts">
                Unsaved work ({drafts.length})
              </a>
            ) : null}{' '}
            <strong>{`Signed in as ${app.session.name}`}</strong> (
            {app.session.groups.join(', ') || 'no roles'}){' '}
            <SignOut sub={app.session.sub} count={drafts.length} onSignedOut={() => setSession(undefined)} />
          </p>
          <LiveIndicator pollMs={app.pollMs} />
        </header>
        <main>
          <Page key={hash} hash={hash} sub={app.session.sub} />
        </main>
        {again ? (
          <div class="overlay">
            <SignIn
              config={config}
              as={again.stale}
              onSignedIn={(renewed) => {
                setAgain(undefined);
                again.done(renewed);
              }}
            />
          </div>
        ) : null}
        <Announcer />
      </LiveContext.Provider>
    </AppContext.Provider>
  );
};

loadConfig().then(
  (config) => render(<App config={config} />, document.getElementById('app') as HTMLElement),
  (error: unknown) => {
    (document.getElementById('app') as HTMLElement).textContent = `Cannot start: ${String(error)}`;
  },
);
