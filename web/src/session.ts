import { type ApiClient, createApiClient } from '../../lib/client/api-client';
import { demoUsers } from '../../lib/local/demo-users';

/**
 * Who is signed in, in this tab. Locally the server's demo users sign in with a token from
 * `POST /_local/token`; deployed, the stack's Cognito user pool signs in with a user name and
 * password (`USER_PASSWORD_AUTH`) and its ID token carries the user's groups.
 */
export interface Session {
  /** The user as the API knows them (the token's `sub`): owners and authors are compared with it. */
  sub: string;
  /** The user as people know them (Cognito's user name; locally the same as `sub`). */
  name: string;
  groups: string[];
  token: string;
}

export type AppConfig =
  | { mode: 'local'; apiUrl: string }
  | { mode: 'cognito'; apiUrl: string; region: string; clientId: string };

export { demoUsers };

const STORAGE_KEY = 'no-lost-updates.session';

/**
 * `/config.json`: the local server says `{"mode":"local"}`; the deployed stack writes
 * `{apiUrl, userPoolId, clientId, region}` next to the app, so a client id means Cognito.
 */
export const loadConfig = async (): Promise<AppConfig> => {
  const response = await fetch('/config.json');
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  const config = (await response.json()) as {
    mode?: string;
    apiUrl?: string;
    region?: string;
    clientId?: string;
  };
  const apiUrl = (config.apiUrl ?? '').replace(/\/$/, '');
  if (config.mode === 'local') return { mode: 'local', apiUrl };
  if (config.clientId && config.region)
    return { mode: 'cognito', apiUrl, region: config.region, clientId: config.clientId };
  throw new Error(
    'config.json names no sign-in: the web app signs in with the stack’s own Cognito user pool.',
  );
};

export const storedSession = (): Session | undefined => {
  const stored = sessionStorage.getItem(STORAGE_KEY);
  return stored ? (JSON.parse(stored) as Session) : undefined;
};

const keep = (session: Session): Session => {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  return session;
};

export const signOut = (): void => sessionStorage.removeItem(STORAGE_KEY);

export const signInLocal = async (config: AppConfig, sub: string, groups: string[]): Promise<Session> => {
  const response = await fetch(`${config.apiUrl}/_local/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sub, groups, ttlSeconds: 12 * 3600 }),
  });
  if (!response.ok) throw new Error(`Sign-in failed: HTTP ${response.status}`);
  const { token } = (await response.json()) as { token: string };
  return keep({ sub, name: sub, groups, token });
};

const claimsOf = (token: string): Record<string, unknown> => {
  const payload = token.split('.')[1] ?? '';
  return JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
};

export const signInCognito = async (
  config: Extract<AppConfig, { mode: 'cognito' }>,
  username: string,
  password: string,
): Promise<Session> => {
  const response = await fetch(`https://cognito-idp.${config.region}.amazonaws.com/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth',
    },
    body: JSON.stringify({
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: config.clientId,
      AuthParameters: { USERNAME: username, PASSWORD: password },
    }),
  });
  const answer = (await response.json()) as {
    AuthenticationResult?: { IdToken: string };
    message?: string;
  };
  const token = answer.AuthenticationResult?.IdToken;
  if (!token) throw new Error(answer.message ?? 'Sign-in failed.');
  const claims = claimsOf(token);
  const groups = Array.isArray(claims['cognito:groups']) ? (claims['cognito:groups'] as string[]) : [];
  const sub = String(claims.sub);
  return keep({ sub, name: String(claims['cognito:username'] ?? sub), groups, token });
};

export const clientFor = (config: AppConfig, session: Session): ApiClient =>
  createApiClient({ baseUrl: config.apiUrl, token: session.token });
