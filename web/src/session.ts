import { type ApiClient, createApiClient } from '../../lib/client/api-client';
import { demoUsers } from '../../lib/local/demo-users';

/**
 * Who is signed in, in this tab, and how their token stays valid. Locally the server's demo
 * users sign in with a token from `POST /_local/token`, and an expired one is replaced by a
 * new one from there. Deployed, the stack's Cognito user pool signs in with a user name and
 * password (`USER_PASSWORD_AUTH`), answers its challenges (a new password on first sign-in,
 * a code from an authenticator app), and renews the ID token with the refresh token
 * (`REFRESH_TOKEN_AUTH`). When nothing can renew it, the person signs in again in place
 * and the request that met the expired token goes on.
 */
export interface Session {
  /** The user as the API knows them (the token's `sub`): owners and authors are compared with it. */
  sub: string;
  /** The user as people know them (Cognito's user name; locally the same as `sub`). */
  name: string;
  groups: string[];
  token: string;
  /** Cognito's refresh token; none locally (the server hands out a new token) or with a pasted one. */
  refreshToken?: string;
}

interface Common {
  apiUrl: string;
  /** The live channel (`wss://…`; the stack's `LiveUrl`); locally `/live` on the page's own host. */
  liveUrl?: string;
  /** The currency of prices, totals and credit limits (accounts carry their own). */
  currency: string;
}
export type CognitoConfig = Common & { mode: 'cognito'; region: string; clientId: string };
export type AppConfig =
  | (Common & { mode: 'local' })
  | CognitoConfig
  /** An identity provider the app cannot sign in with: it says what to configure, and takes a token. */
  | (Common & { mode: 'external' });

export { demoUsers };

const STORAGE_KEY = 'no-lost-updates.session';

/**
 * `/config.json`: the local server says `{"mode":"local"}`; the deployed stack writes
 * `{apiUrl, userPoolId, clientId, region}` next to the app, and leaves out the pool and
 * client when it trusts an external identity provider (`-c jwtIssuer`).
 */
export const loadConfig = async (): Promise<AppConfig> => {
  const response = await fetch('/config.json');
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  const config = (await response.json()) as {
    mode?: string;
    apiUrl?: string;
    region?: string;
    clientId?: string;
    currency?: string;
    liveUrl?: string;
  };
  const common = {
    apiUrl: (config.apiUrl ?? '').replace(/\/$/, ''),
    currency: config.currency ?? 'EUR',
    ...(config.liveUrl ? { liveUrl: config.liveUrl } : {}),
  };
  if (config.mode === 'local') return { ...common, mode: 'local' };
  if (config.clientId && config.region)
    return { ...common, mode: 'cognito', region: config.region, clientId: config.clientId };
  return { ...common, mode: 'external' };
};

export const storedSession = (): Session | undefined => {
  const stored = sessionStorage.getItem(STORAGE_KEY);
  return stored ? (JSON.parse(stored) as Session) : undefined;
};

/** Makes `session` this tab's: every request from now on carries its token. */
export const keepSession = (session: Session): Session => {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  return session;
};

export const signOut = (): void => sessionStorage.removeItem(STORAGE_KEY);

const claimsOf = (token: string): Record<string, unknown> => {
  const payload = token.split('.')[1] ?? '';
  return JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
};

/** The session a token stands for: its `sub`, its groups (`cognito:groups` or `groups`), its user name. */
export const sessionOf = (token: string, refreshToken?: string): Session => {
  const claims = claimsOf(token);
  const groupsClaim = claims['cognito:groups'] ?? claims.groups;
  const groups = Array.isArray(groupsClaim) ? groupsClaim.map(String) : [];
  const sub = String(claims.sub);
  return {
    sub,
    name: String(claims['cognito:username'] ?? claims.username ?? sub),
    groups,
    token,
    ...(refreshToken ? { refreshToken } : {}),
  };
};

export const signInLocal = async (config: AppConfig, sub: string, groups: string[]): Promise<Session> => {
  const response = await fetch(`${config.apiUrl}/_local/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sub, groups, ttlSeconds: 12 * 3600 }),
  });
  if (!response.ok) throw new Error(`Sign-in failed: HTTP ${response.status}`);
  const { token } = (await response.json()) as { token: string };
  return { sub, name: sub, groups, token };
};

/** A token from an identity provider the app cannot talk to, pasted by the person. */
export const signInWithToken = (token: string): Session => {
  try {
    return sessionOf(token.trim());
  } catch {
    throw new Error('That is not a JWT (three parts separated by dots).');
  }
};

/** A step of Cognito's sign-in: signed in, or a challenge to answer. */
export type SignInStep =
  | { session: Session }
  | { challenge: 'NEW_PASSWORD_REQUIRED'; username: string; cognitoSession: string; required: string[] }
  | { challenge: 'SOFTWARE_TOKEN_MFA'; username: string; cognitoSession: string };

interface CognitoAnswer {
  AuthenticationResult?: { IdToken: string; RefreshToken?: string };
  ChallengeName?: string;
  Session?: string;
  ChallengeParameters?: Record<string, string>;
  message?: string;
  __type?: string;
}

const cognito = async (config: CognitoConfig, action: string, body: unknown): Promise<CognitoAnswer> => {
  const response = await fetch(`https://cognito-idp.${config.region}.amazonaws.com/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSCognitoIdentityProviderService.${action}`,
    },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as CognitoAnswer;
  if (!response.ok) throw new Error(answer.message ?? `Sign-in failed: ${answer.__type ?? response.status}`);
  return answer;
};

const stepOf = (answer: CognitoAnswer, username: string, refreshToken?: string): SignInStep => {
  const result = answer.AuthenticationResult;
  if (result) return { session: sessionOf(result.IdToken, result.RefreshToken ?? refreshToken) };
  const cognitoSession = answer.Session ?? '';
  const parameters = answer.ChallengeParameters ?? {};
  const user = parameters.USER_ID_FOR_SRP ?? username;
  if (answer.ChallengeName === 'NEW_PASSWORD_REQUIRED') {
    const required = JSON.parse(parameters.requiredAttributes ?? '[]') as string[];
    return {
      challenge: 'NEW_PASSWORD_REQUIRED',
      username: user,
      cognitoSession,
      required: required.map((name) => name.replace(/^userAttributes\./, '')),
    };
  }
  if (answer.ChallengeName === 'SOFTWARE_TOKEN_MFA')
    return { challenge: 'SOFTWARE_TOKEN_MFA', username: user, cognitoSession };
  throw new Error(
    `The user pool asks for ${answer.ChallengeName ?? 'an unknown step'}, which this app does not answer: ` +
      'an operator can set the user up with the AWS CLI (admin-set-user-password, an authenticator app).',
  );
};

export const signInCognito = async (
  config: CognitoConfig,
  username: string,
  password: string,
): Promise<SignInStep> =>
  stepOf(
    await cognito(config, 'InitiateAuth', {
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: config.clientId,
      AuthParameters: { USERNAME: username, PASSWORD: password },
    }),
    username,
  );

/** Answers a challenge: the new password (and the attributes the pool requires), or the authenticator's code. */
export const answerChallenge = async (
  config: CognitoConfig,
  step: Exclude<SignInStep, { session: Session }>,
  answers: Record<string, string>,
): Promise<SignInStep> =>
  stepOf(
    await cognito(config, 'RespondToAuthChallenge', {
      ChallengeName: step.challenge,
      ClientId: config.clientId,
      Session: step.cognitoSession,
      ChallengeResponses: { USERNAME: step.username, ...answers },
    }),
    step.username,
  );

/** A new token without the person: Cognito's refresh token, or locally a new demo token. */
const renewQuietly = async (config: AppConfig, stale: Session): Promise<Session> => {
  if (config.mode === 'local') return signInLocal(config, stale.sub, stale.groups);
  if (config.mode === 'cognito' && stale.refreshToken) {
    const step = stepOf(
      await cognito(config, 'InitiateAuth', {
        AuthFlow: 'REFRESH_TOKEN_AUTH',
        ClientId: config.clientId,
        AuthParameters: { REFRESH_TOKEN: stale.refreshToken },
      }),
      stale.name,
      stale.refreshToken,
    );
    if ('session' in step) return step.session;
  }
  throw new Error('The session cannot be renewed without the person.');
};

/**
 * The API client of this tab. Each request carries the token stored now (a renewal in
 * another request is used at once); a 401 (expired, or the local server restarted with a
 * new key) renews the token once, quietly or by asking the person to sign in again as the
 * same user, and sends the request again: a 401 wrote nothing. Renewals are shared, so ten
 * requests meeting one expired token renew it once.
 */
export const clientFor = (
  config: AppConfig,
  signInAgain: (stale: Session) => Promise<Session>,
): ApiClient => {
  let renewing: Promise<Session> | undefined;
  const renew = (stale: Session) => {
    renewing ??= renewQuietly(config, stale)
      .catch(() => signInAgain(stale))
      .then(keepSession)
      .finally(() => {
        renewing = undefined;
      });
    return renewing;
  };
  const authorized: typeof fetch = async (input, init) => {
    const send = (session: Session | undefined) =>
      fetch(input, {
        ...init,
        headers: {
          ...(init?.headers as Record<string, string>),
          authorization: `Bearer ${session?.token ?? ''}`,
        },
      });
    const session = storedSession();
    const response = await send(session);
    if (response.status !== 401 || !session) return response;
    const current = storedSession();
    // Another request may have renewed it while this one was on its way.
    return send(current && current.token !== session.token ? current : await renew(session));
  };
  // The token is set per request by `authorized`; the client's own is only its placeholder.
  return createApiClient({ baseUrl: config.apiUrl, token: '', fetch: authorized });
};
