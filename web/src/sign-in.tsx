import { useState } from 'preact/hooks';
import {
  type AppConfig,
  answerChallenge,
  type CognitoConfig,
  demoUsers,
  type Session,
  type SignInStep,
  signInCognito,
  signInLocal,
  signInWithToken,
} from './session';
import { Field, Notice, Submit } from './ui';

type Challenge = Exclude<SignInStep, { session: Session }>;

/** Cognito's sign-in: user name and password, then whatever the pool asks (a new password, a code). */
const CognitoSignIn = ({
  config,
  as,
  attempt,
}: {
  config: CognitoConfig;
  as?: Session | undefined;
  attempt: (step: () => Promise<SignInStep>) => Promise<Challenge | undefined>;
}) => {
  const [username, setUsername] = useState(as?.name ?? '');
  const [password, setPassword] = useState('');
  const [challenge, setChallenge] = useState<Challenge>();
  const [answers, setAnswers] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [mismatch, setMismatch] = useState<string>();
  const go = async (step: () => Promise<SignInStep>) => {
    setBusy(true);
    setChallenge(await attempt(step));
    setBusy(false);
  };
  const answer = (name: string, value: string) => setAnswers({ ...answers, [name]: value });
  if (challenge?.challenge === 'NEW_PASSWORD_REQUIRED')
    return (
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (answers.NEW_PASSWORD !== answers.repeat) return setMismatch('The two passwords differ.');
          setMismatch(undefined);
          const { repeat: _repeat, ...rest } = answers;
          void go(() =>
            answerChallenge(
              config,
              challenge,
              Object.fromEntries(
                Object.entries(rest).map(([name, value]) => [
                  name === 'NEW_PASSWORD' ? name : `userAttributes.${name}`,
                  value,
                ]),
              ),
            ),
          );
        }}
      >
        <h2>Choose your own password</h2>
        <p>
          This is your first sign-in: the password you were given works once. Choose the one you will use.
        </p>
        {(
          [
            ['NEW_PASSWORD', 'New password', undefined],
            ['repeat', 'New password again', mismatch],
          ] as const
        ).map(([name, label, error]) => (
          <Field
            key={name}
            label={label}
            error={error}
            hint={
              name === 'NEW_PASSWORD'
                ? 'At least 12 characters, with upper and lower case, a digit and a symbol.'
                : undefined
            }
          >
            <input
              type="password"
              autocomplete="new-password"
              value={answers[name] ?? ''}
              onInput={(event) => answer(name, event.currentTarget.value)}
              required
            />
          </Field>
        ))}
        {challenge.required.map((name) => (
          <Field key={name} label={name}>
            <input
              value={answers[name] ?? ''}
              onInput={(event) => answer(name, event.currentTarget.value)}
              required
            />
          </Field>
        ))}
        <Submit label="Set password and sign in" busyLabel="Signing in…" busy={busy} />
      </form>
    );
  if (challenge?.challenge === 'SOFTWARE_TOKEN_MFA')
    return (
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void go(() => answerChallenge(config, challenge, { SOFTWARE_TOKEN_MFA_CODE: answers.code ?? '' }));
        }}
      >
        <Field label="Code from your authenticator app">
          <input
            inputMode="numeric"
            autocomplete="one-time-code"
            value={answers.code ?? ''}
            onInput={(event) => answer('code', event.currentTarget.value)}
            required
          />
        </Field>
        <Submit label="Sign in" busyLabel="Signing in…" busy={busy} />
      </form>
    );
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        void go(() => signInCognito(config, username, password));
      }}
    >
      <Field label="User name">
        <input
          autocomplete="username"
          value={username}
          readOnly={Boolean(as)}
          onInput={(event) => setUsername(event.currentTarget.value)}
          required
        />
      </Field>
      <Field label="Password">
        <input
          type="password"
          autocomplete="current-password"
          value={password}
          onInput={(event) => setPassword(event.currentTarget.value)}
          required
        />
      </Field>
      <Submit label="Sign in" busyLabel="Signing in…" busy={busy} />
    </form>
  );
};

/**
 * Signing in: the local demo users, the stack's Cognito user pool, or, with an identity
 * provider the app cannot talk to, what to configure and a field for a token from it.
 * `as`: the session expired and nothing could renew it; the same user signs in again here,
 * over the page, and what was being sent goes on.
 */
export const SignIn = ({
  config,
  as,
  onSignedIn,
}: {
  config: AppConfig;
  as?: Session | undefined;
  onSignedIn: (session: Session) => void;
}) => {
  const [error, setError] = useState<string>();
  const [token, setToken] = useState('');
  const attempt = async (step: () => Promise<SignInStep>): Promise<Challenge | undefined> => {
    try {
      const next = await step();
      if (!('session' in next)) {
        setError(undefined);
        return next;
      }
      if (as && next.session.sub !== as.sub)
        setError(
          `That is ${next.session.name}, not ${as.name}: sign in as ${as.name} to go on with ${as.name}’s work.`,
        );
      else onSignedIn(next.session);
    } catch (failure) {
      setError((failure as Error).message);
    }
    return undefined;
  };
  const users = as ? demoUsers.filter((user) => user.sub === as.sub) : demoUsers;
  return (
    <main class="signin" aria-labelledby="signin-title">
      <h1 id="signin-title">{as ? `Your session has expired: sign in again as ${as.name}` : 'Sign in'}</h1>
      {as ? (
        <p>Nothing you typed is lost: what you were saving is sent as soon as you are signed in.</p>
      ) : null}
      {config.mode === 'local' ? (
        <ul class="users">
          {(users.length > 0 ? users : [{ sub: as?.sub ?? '', groups: as?.groups ?? [] }]).map((user) => (
            <li key={user.sub}>
              <button
                type="button"
                onClick={() =>
                  void attempt(async () => ({
                    session: await signInLocal(config, user.sub, [...user.groups]),
                  }))
                }
              >
                Sign in as {user.sub} ({user.groups.join(', ')})
              </button>
            </li>
          ))}
        </ul>
      ) : config.mode === 'cognito' ? (
        <CognitoSignIn config={config} as={as} attempt={attempt} />
      ) : (
        <>
          <div class="banner stale">
            <p>
              This deployment trusts an external identity provider: its <code>config.json</code> names no
              Cognito user pool client, and this app signs in only with the stack’s own user pool (user name
              and password).
            </p>
            <p>
              To sign in here, deploy without <code>-c jwtIssuer</code> and <code>-c jwtAudience</code>, so
              the stack makes its own pool and writes its client into <code>config.json</code>. Or paste a
              token your provider issued for this API (its <code>aud</code> the stack’s{' '}
              <code>jwtAudience</code>); it is used until it expires, then asked for again.
            </p>
          </div>
          <form
            onSubmit={(event) => {
              event.preventDefault();
              void attempt(async () => ({ session: signInWithToken(token) }));
            }}
          >
            <Field label="Token from your identity provider">
              <textarea value={token} onInput={(event) => setToken(event.currentTarget.value)} required />
            </Field>
            <button type="submit">Use this token</button>
          </form>
        </>
      )}
      <Notice error={error} />
    </main>
  );
};
