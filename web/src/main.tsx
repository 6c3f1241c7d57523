import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { AccountPage } from './pages/accounts';
import { AnnotationEditor, AnnotationList } from './pages/annotations';
import { GroupRecordPage } from './pages/groups';
import { OrderEditor, OrderList } from './pages/orders';
import {
  type AppConfig,
  clientFor,
  demoUsers,
  loadConfig,
  type Session,
  signInCognito,
  signInLocal,
  signOut,
  storedSession,
} from './session';
import './style.css';
import { AppContext, Notice } from './ui';

const useHash = (): string => {
  const [hash, setHash] = useState(location.hash || '#/annotations');
  useEffect(() => {
    const changed = () => setHash(location.hash || '#/annotations');
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return hash;
};

const Page = ({ hash }: { hash: string }) => {
  const [, section = 'annotations', id] = hash.slice(1).split('/');
  if (section === 'annotations') return id ? <AnnotationEditor id={id} /> : <AnnotationList />;
  if (section === 'orders') return id ? <OrderEditor id={id} /> : <OrderList />;
  if (section === 'debtors' || section === 'articles') return <GroupRecordPage kind={section} id={id} />;
  if (section === 'accounts') return <AccountPage id={id} />;
  return <p>No such page.</p>;
};

const SignIn = ({ config, onSignedIn }: { config: AppConfig; onSignedIn: (session: Session) => void }) => {
  const [error, setError] = useState<string>();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const attempt = (signIn: () => Promise<Session>) =>
    signIn().then(onSignedIn, (failure: unknown) => setError(String((failure as Error).message)));
  return (
    <main class="signin">
      <h1>Sign in</h1>
      {config.mode === 'local' ? (
        <ul class="users">
          {demoUsers.map((user) => (
            <li key={user.sub}>
              <button
                type="button"
                onClick={() => void attempt(() => signInLocal(config, user.sub, user.groups))}
              >
                Sign in as {user.sub} ({user.groups.join(', ')})
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            void attempt(() => signInCognito(config, username, password));
          }}
        >
          <label class="field">
            <span>User name</span>
            <input value={username} onInput={(event) => setUsername(event.currentTarget.value)} required />
          </label>
          <label class="field">
            <span>Password</span>
            <input
              type="password"
              value={password}
              onInput={(event) => setPassword(event.currentTarget.value)}
              required
            />
          </label>
          <button type="submit">Sign in</button>
        </form>
      )}
      <Notice error={error} />
    </main>
  );
};

const App = ({ config }: { config: AppConfig }) => {
  const [session, setSession] = useState(storedSession());
  const hash = useHash();
  const pollMs = Number(new URLSearchParams(location.search).get('poll') ?? 5000);
  const app = useMemo(
    () => (session ? { session, client: clientFor(config, session), pollMs } : undefined),
    [session],
  );
  if (!app) return <SignIn config={config} onSignedIn={setSession} />;
  const links = ['annotations', 'orders', 'debtors', 'articles', 'accounts'];
  return (
    <AppContext.Provider value={app}>
      <header>
        <nav aria-label="Sections">
          {links.map((link) => (
            <a key={link} href={`#/${link}`} aria-current={hash.startsWith(`#/${link}`) ? 'page' : undefined}>
              {link[0]?.toUpperCase()}
              {link.slice(1)}
            </a>
          ))}
        </nav>
        <p class="who">
          <strong>{`Signed in as ${app.session.name}`}</strong> ({app.session.groups.join(', ') || 'no roles'}
          ){' '}
          <button
            type="button"
            onClick={() => {
              signOut();
              setSession(undefined);
            }}
          >
            Sign out
          </button>
        </p>
      </header>
      <main>
        <Page key={hash} hash={hash} />
      </main>
    </AppContext.Provider>
  );
};

loadConfig().then(
  (config) => render(<App config={config} />, document.getElementById('app') as HTMLElement),
  (error: unknown) => {
    (document.getElementById('app') as HTMLElement).textContent = `Cannot start: ${String(error)}`;
  },
);
