import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { artifacts, useBrowser } from '../support/browser';

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

describe('the main pages', () => {
  it('sign-in works from the keyboard alone, and the user’s name and roles stay visible', async () => {
    const page = await signedIn('alice', '#/annotations');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByText('Signed in as bob').waitFor();
    expect(await page.locator('header .who').textContent()).toBe('Signed in as bob (sales) Sign out');
  });

  it('every page has labelled controls; a screenshot of each is left for the README', async () => {
    const sales = api.client(await api.tokenFor('alice', 'sales'));
    const finance = api.client(await api.tokenFor('erin', 'finance'));
    const relations = api.client(await api.tokenFor('frank', 'customer-relations'));
    const annotation = await sales.createAnnotation({
      name: 'Cell 4',
      description: 'mitosis',
      tags: ['draft'],
    });
    const order = await sales.createOrder({
      customer: 'ACME',
      lines: [{ sku: 'BOLT', quantity: 10, unitPrice: 25 }],
    });
    const debtor = await relations.call('POST /debtors', { body: { name: 'Müller GmbH', city: 'Berlin' } });
    const account = await finance.call('POST /accounts', { body: { name: 'Till', currency: 'EUR' } });
    const pages: [string, string, string][] = [
      ['alice', '#/annotations', 'annotations'],
      ['alice', `#/annotations/${annotation.id}`, 'annotation'],
      ['alice', `#/orders/${order.id}`, 'order'],
      ['frank', `#/debtors/${debtor.body.id}`, 'debtor'],
      ['erin', `#/accounts/${account.body.id}`, 'account'],
    ];
    const found: Record<string, string[]> = {};
    for (const [user, hash, name] of pages) {
      const page = await signedIn(user, hash);
      await page.locator('main h1').waitFor();
      await page.locator('main input, main button').first().waitFor();
      found[name] = await unlabelled(page);
      await page.screenshot({ path: join(artifacts, `page-${name}.png`), fullPage: true });
    }
    expect(found).toEqual({ annotations: [], annotation: [], order: [], debtor: [], account: [] });
  });
});

describe('deployed: sign-in with the stack’s Cognito user pool', () => {
  it('signs in with user name and password (USER_PASSWORD_AUTH) and shows the ID token’s user and groups', async () => {
    const page = await newPage();
    const sent: unknown[] = [];
    await page.route('**/config.json', (route) =>
      route.fulfill({
        json: {
          apiUrl: `${api.url}/`,
          userPoolId: 'eu-west-1_pool',
          clientId: 'web-client',
          region: 'eu-west-1',
        },
      }),
    );
    const claims = {
      sub: 'f00-ba4',
      'cognito:username': 'maria',
      'cognito:groups': ['finance', 'supervisor'],
    };
    const idToken = ['{"alg":"RS256"}', JSON.stringify(claims), 'signature']
      .map((part) => Buffer.from(part).toString('base64url'))
      .join('.');
    await page.route('https://cognito-idp.eu-west-1.amazonaws.com/', async (route) => {
      sent.push([route.request().headers()['x-amz-target'], route.request().postDataJSON()]);
      await route.fulfill({ json: { AuthenticationResult: { IdToken: idToken } } });
    });
    await page.goto(`${api.url}/#/accounts`);
    await page.getByLabel('User name').fill('maria');
    await page.getByLabel('Password').fill('correct horse');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Signed in as maria').waitFor();
    expect([await page.locator('header .who').textContent(), sent]).toEqual([
      'Signed in as maria (finance, supervisor) Sign out',
      [
        [
          'AWSCognitoIdentityProviderService.InitiateAuth',
          {
            AuthFlow: 'USER_PASSWORD_AUTH',
            ClientId: 'web-client',
            AuthParameters: { USERNAME: 'maria', PASSWORD: 'correct horse' },
          },
        ],
      ],
    ]);
  });
});
