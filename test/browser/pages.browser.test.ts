import { join } from 'node:path';
import type { Page, Route } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { artifacts, expiredToken, focused, overflowX, useBrowser } from '../support/browser';

const { api, signedIn, newPage } = useBrowser();

/** Controls on the page without an accessible name: a label, aria-label, or a button's text. */
const unlabelled = (page: Page) =>
  page.locator('input, textarea, select, button').evaluateAll((controls) =>
    controls
      .filter((control) => {
        const labels = (control as unknown as { labels?: { length: number } | null }).labels;
        const named =
          control.getAttribute('aria-label') || (control.tagName === 'BUTTON' && control.textContent?.trim());
        return !named && !(labels && labels.length > 0);
      })
      .map((control) => control.outerHTML),
  );

/** Visible buttons whose right edge is past the window's: controls a phone could not reach without scrolling sideways. */
const offScreen = (page: Page, width: number) =>
  page
    .locator('button:visible')
    .evaluateAll(
      (buttons, right) =>
        buttons
          .filter((button) => button.getBoundingClientRect().right > (right as number))
          .map((button) => button.textContent),
      width,
    );

describe('the main pages', () => {
  it('sign-in works from the keyboard alone, and the user’s name and roles stay visible', async () => {
    const page = await signedIn('alice', '#/annotations');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByText('Signed in as bob').waitFor();
    expect(await page.locator('header .who').innerText()).toBe('Signed in as bob (sales) Sign out');
  });

  it('every page has labelled controls and no sideways scroll at 390 × 844; a screenshot of each is left for the docs', async () => {
    const sales = api.client(await api.tokenFor('alice', 'sales'));
    const finance = api.client(await api.tokenFor('erin', 'finance'));
    const relations = api.client(await api.tokenFor('frank', 'customer-relations'));
    const purchasing = api.client(await api.tokenFor('grace', 'purchasing'));
    const long =
      'Zweigniederlassung-der-Müller-und-Söhne-Werkzeugmaschinen-Gesellschaft-mit-beschränkter-Haftung';
    const annotation = await sales.createAnnotation({ name: 'Cell 4', description: long, tags: ['draft'] });
    const order = await sales.createOrder({
      customer: long,
      lines: [
        { sku: 'BOLT-M8-ZINC-PLATED-DIN-933', quantity: 10, unitPrice: 25 },
        { sku: 'NUT', quantity: 100, unitPrice: 5 },
      ],
    });
    const debtor = await relations.call('POST /debtors', {
      body: { name: 'Müller GmbH', city: 'Berlin', street: long, creditLimit: 500000 },
    });
    const article = await purchasing.call('POST /articles', {
      body: { id: `BOLT-${Date.now()}`, description: 'Bolt M8', salesPrice: 25 },
    });
    const account = await finance.call('POST /accounts', { body: { name: 'Till', currency: 'EUR' } });
    await finance.call('POST /accounts/{id}/deposits', {
      params: { id: account.body.id },
      body: { amount: 420, reference: long },
      idempotencyKey: `${account.body.id}-1`,
    });
    const pages: [string, string, string][] = [
      ['alice', '#/annotations', 'annotations'],
      ['alice', `#/annotations/${annotation.id}`, 'annotation'],
      ['alice', '#/orders', 'orders'],
      ['alice', `#/orders/${order.id}`, 'order'],
      ['frank', '#/debtors', 'debtors'],
      ['erin', `#/debtors/${debtor.body.id}`, 'debtor'],
      ['grace', '#/articles', 'articles'],
      ['alice', `#/articles/${article.body.id}`, 'article'],
      ['erin', '#/accounts', 'accounts'],
      ['erin', `#/accounts/${account.body.id}`, 'account'],
      ['alice', '#/drafts', 'drafts'],
    ];
    const found: Record<string, unknown> = {};
    const expected: Record<string, unknown> = {};
    for (const [user, hash, name] of pages) {
      for (const [width, height] of [
        [1100, 800],
        [390, 844],
      ] as const) {
        const page = await signedIn(user, hash, { width, height });
        await page.locator('main h1').waitFor();
        await page.locator('main :is(input, button, table, p)').first().waitFor();
        found[`${name} at ${width}`] = {
          unlabelled: await unlabelled(page),
          overflow: await overflowX(page),
          offScreen: await offScreen(page, width),
        };
        expected[`${name} at ${width}`] = { unlabelled: [], overflow: 0, offScreen: [] };
        await page.screenshot({
          path: join(artifacts, width === 1100 ? `page-${name}.png` : `phone-${name}.png`),
          fullPage: true,
        });
        await page.context().close();
      }
    }
    expect(found).toEqual(expected);
  });

  it('a conflict is reached, announced and decided from the keyboard alone, at phone width', async () => {
    const sales = api.client(await api.tokenFor('alice', 'sales'));
    const created = await sales.createAnnotation({ name: 'Keyboard', description: 'd0' });
    const b = await signedIn('bob', `#/annotations/${created.id}`, {
      poll: 600_000,
      width: 390,
      height: 844,
    });
    await b.getByLabel('Description').waitFor();
    await sales.patchAnnotation(created.id, 1, { description: 'alice desc' });
    // Tab to the description field, type, and save with Enter from the name field.
    for (let tabs = 0; tabs < 30 && (await focused(b)) !== 'TEXTAREA'; tabs += 1)
      await b.keyboard.press('Tab');
    await b.keyboard.press('Control+A');
    await b.keyboard.type('bob desc');
    await b.keyboard.press('Shift+Tab');
    await b.keyboard.press('Enter');
    await b.getByRole('region', { name: 'Conflict' }).waitFor();
    expect([
      await focused(b),
      await b.getByTestId('announcer').textContent(),
      await overflowX(b),
      await offScreen(b, 390),
    ]).toEqual([
      'H2',
      expect.stringMatching(/^Conflict: alice changed this .*\. 1 field needs your decision\.$/),
      0,
      [],
    ]);
    await b.screenshot({ path: join(artifacts, 'phone-annotation-conflict.png'), fullPage: true });
    // The decision is the next thing the keyboard reaches: keep mine, then save.
    await b.keyboard.press('Tab');
    expect(
      await b.evaluate<string | undefined>('document.activeElement?.labels?.[0]?.textContent?.trim()'),
    ).toBe('Keep mine for description');
    await b.keyboard.press('Tab');
    await b.keyboard.press('Enter');
    await b.getByText('Saved: version 3.').waitFor();
    expect(await sales.getAnnotation(created.id)).toMatchObject({ description: 'bob desc', version: 3 });
  });
});

/** A stand-in for Cognito's endpoint: answers each action in turn and keeps what was sent. */
const cognitoStub = (answers: Record<string, unknown[]>) => {
  const sent: [string, unknown][] = [];
  const handle = async (route: Route) => {
    const action = String(route.request().headers()['x-amz-target']).split('.').pop() ?? '';
    const body = route.request().postDataJSON() as Record<string, unknown>;
    sent.push([action, body]);
    const flow = String(body.AuthFlow ?? body.ChallengeName ?? '');
    const answer = answers[`${action} ${flow}`]?.shift();
    await route.fulfill(
      answer
        ? { json: answer }
        : {
            status: 400,
            json: { __type: 'NotAuthorizedException', message: 'Incorrect username or password.' },
          },
    );
  };
  return { sent, handle };
};

const configWith = (page: Page, config: Record<string, unknown>) =>
  page.route('**/config.json', (route) => route.fulfill({ json: { apiUrl: `${api.url}/`, ...config } }));

describe('deployed: sign-in with the stack’s Cognito user pool', () => {
  it('the first sign-in of an admin-created user: a new password, then an authenticator code; an expired ID token is renewed with the refresh token', async () => {
    const page = await newPage();
    await configWith(page, { userPoolId: 'eu-west-1_pool', clientId: 'web-client', region: 'eu-west-1' });
    // The local server accepts its own tokens, so the stand-in hands out those: expired first, then fresh.
    const expired = await expiredToken(api, 'maria-sub', ['finance']);
    const fresh = await api.tokens.sign({ sub: 'maria-sub', groups: ['finance'] });
    const cognito = cognitoStub({
      'InitiateAuth USER_PASSWORD_AUTH': [
        {
          ChallengeName: 'NEW_PASSWORD_REQUIRED',
          Session: 'session-1',
          ChallengeParameters: { USER_ID_FOR_SRP: 'maria', requiredAttributes: '[]', userAttributes: '{}' },
        },
      ],
      'RespondToAuthChallenge NEW_PASSWORD_REQUIRED': [
        { ChallengeName: 'SOFTWARE_TOKEN_MFA', Session: 'session-2', ChallengeParameters: {} },
      ],
      'RespondToAuthChallenge SOFTWARE_TOKEN_MFA': [
        // The stand-in's token for `maria` is expired: the app renews it with the refresh token.
        { AuthenticationResult: { IdToken: expired, RefreshToken: 'refresh-1', ExpiresIn: 3600 } },
      ],
      'InitiateAuth REFRESH_TOKEN_AUTH': [{ AuthenticationResult: { IdToken: fresh, ExpiresIn: 3600 } }],
    });
    await page.route('https://cognito-idp.eu-west-1.amazonaws.com/', cognito.handle);
    await page.goto(`${api.url}/#/accounts`);
    await page.getByLabel('User name').fill('maria');
    await page.getByLabel('Password', { exact: true }).fill('Temporary-passw0rd!');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Choose your own password' }).waitFor();
    await page.getByLabel('New password', { exact: true }).fill('My-own-long-passw0rd!');
    await page.getByLabel('New password again').fill('My-own-long-passw0rd!');
    await page.getByRole('button', { name: 'Set password and sign in' }).click();
    await page.getByLabel('Code from your authenticator app').fill('123456');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Signed in as maria-sub').waitFor();
    // Opening an account reads it with the expired token: 401, renewed, read again.
    const finance = api.client(await api.tokenFor('erin', 'finance'));
    const account = await finance.call('POST /accounts', { body: { name: 'Maria’s till', currency: 'EUR' } });
    await page.goto(`${api.url}/#/accounts/${account.body.id}`);
    await page.getByRole('heading', { name: 'Account Maria’s till' }).waitFor();
    expect(cognito.sent).toEqual([
      [
        'InitiateAuth',
        {
          AuthFlow: 'USER_PASSWORD_AUTH',
          ClientId: 'web-client',
          AuthParameters: { USERNAME: 'maria', PASSWORD: 'Temporary-passw0rd!' },
        },
      ],
      [
        'RespondToAuthChallenge',
        {
          ChallengeName: 'NEW_PASSWORD_REQUIRED',
          ClientId: 'web-client',
          Session: 'session-1',
          ChallengeResponses: { USERNAME: 'maria', NEW_PASSWORD: 'My-own-long-passw0rd!' },
        },
      ],
      [
        'RespondToAuthChallenge',
        {
          ChallengeName: 'SOFTWARE_TOKEN_MFA',
          ClientId: 'web-client',
          Session: 'session-2',
          ChallengeResponses: { USERNAME: 'maria', SOFTWARE_TOKEN_MFA_CODE: '123456' },
        },
      ],
      [
        'InitiateAuth',
        {
          AuthFlow: 'REFRESH_TOKEN_AUTH',
          ClientId: 'web-client',
          AuthParameters: { REFRESH_TOKEN: 'refresh-1' },
        },
      ],
    ]);
  });

  it('a wrong password is said as Cognito says it', async () => {
    const page = await newPage();
    await configWith(page, { userPoolId: 'eu-west-1_pool', clientId: 'web-client', region: 'eu-west-1' });
    await page.route('https://cognito-idp.eu-west-1.amazonaws.com/', cognitoStub({}).handle);
    await page.goto(`${api.url}/`);
    await page.getByLabel('User name').fill('maria');
    await page.getByLabel('Password', { exact: true }).fill('wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toBe('Incorrect username or password.');
  });

  it('with an external identity provider the app says what to configure, and takes a token from it', async () => {
    const page = await newPage();
    await configWith(page, { region: 'eu-west-1' });
    await page.goto(`${api.url}/`);
    await page.getByText(/^This deployment trusts an external identity provider/).waitFor();
    await page.getByLabel('Token from your identity provider').fill(await api.tokenFor('ext-user', 'sales'));
    await page.getByRole('button', { name: 'Use this token' }).click();
    await page.getByText('Signed in as ext-user').waitFor();
    expect(await page.locator('header .who').innerText()).toBe('Signed in as ext-user (sales) Sign out');
  });
});
