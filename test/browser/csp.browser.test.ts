import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { variant } from '../cdk/fixtures';
import { useBrowser } from '../support/browser';

const { api, newPage } = useBrowser();

/** The Content-Security-Policy the stack's CloudFront sends, as synthesised for a stack in eu-west-1. */
let deployedPolicy: string;

beforeAll(() => {
  const { template } = variant({ env: { account: '111122223333', region: 'eu-west-1' } });
  const [policy] = Object.values(template.findResources('AWS::CloudFront::ResponseHeadersPolicy'));
  deployedPolicy =
    policy?.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig.ContentSecurityPolicy
      .ContentSecurityPolicy;
}, 60_000);

/**
 * A page whose documents arrive with `policy` as their Content-Security-Policy header, as
 * CloudFront sends them, and that records every violation the browser reports.
 */
const pageUnder = async (policy: string): Promise<{ page: Page; violations: () => Promise<string[]> }> => {
  const page = await newPage();
  const reported: string[] = [];
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) reported.push(message.text());
  });
  // Runs before the page's own scripts; a string, since this file is not typed for the DOM.
  await page.context().addInitScript({
    content: `window.cspViolations = [];
      document.addEventListener('securitypolicyviolation', (event) =>
        window.cspViolations.push(event.effectiveDirective + ' ' + event.blockedURI));`,
  });
  await page.context().route('**/*', async (route) => {
    if (route.request().resourceType() !== 'document') return route.continue();
    const response = await route.fetch();
    return route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': policy } });
  });
  const violations = async () => [...(await page.evaluate<string[]>('window.cspViolations')), ...reported];
  return { page, violations };
};

/** Signs in as a demo user of the local server and opens every kind of page, each reading the API. */
const tourAsAlice = async (page: Page) => {
  const sales = api.client(await api.tokenFor('alice', 'sales'));
  const annotation = await sales.createAnnotation({ name: 'Under a CSP' });
  const order = await sales.createOrder({
    customer: 'ACME',
    lines: [{ sku: 'BOLT', quantity: 1, unitPrice: 2 }],
  });
  await page.goto(`${api.url}/?poll=300#/annotations`);
  await page.getByRole('button', { name: /^Sign in as alice / }).click();
  await page.getByText('Signed in as alice').waitFor();
  for (const hash of [
    '#/annotations',
    `#/annotations/${annotation.id}`,
    '#/orders',
    `#/orders/${order.id}`,
  ]) {
    // Only the hash changes: the same document, still signed in.
    await page.goto(`${api.url}/?poll=300${hash}`);
    await page.locator('main h1').waitFor();
    await page.locator('main input, main button').first().waitFor();
  }
};

/** Signs in with the stack's Cognito user pool (Cognito answered by the test), as the deployed app does. */
const signInWithCognito = async (page: Page) => {
  await page.route('**/config.json', (route) =>
    route.fulfill({
      json: { apiUrl: api.url, userPoolId: 'eu-west-1_pool', clientId: 'web-client', region: 'eu-west-1' },
    }),
  );
  const idToken = ['{"alg":"RS256"}', '{"sub":"f00","cognito:username":"maria"}', 'signature']
    .map((part) => Buffer.from(part).toString('base64url'))
    .join('.');
  await page.route('https://cognito-idp.eu-west-1.amazonaws.com/', (route) =>
    route.fulfill({
      json: { AuthenticationResult: { IdToken: idToken } },
      headers: { 'access-control-allow-origin': '*' },
    }),
  );
  await page.goto(`${api.url}/#/annotations`);
  await page.getByLabel('User name').fill('maria');
  await page.getByLabel('Password').fill('correct horse');
  await page.getByRole('button', { name: 'Sign in' }).click();
};

describe('the web app under the content security policy CloudFront sends', () => {
  it('is the policy the stack builds for its region: own scripts and styles, the API and its live channel, Cognito', () => {
    expect(deployedPolicy).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
        "connect-src 'self' https://*.execute-api.eu-west-1.amazonaws.com wss://*.execute-api.eu-west-1.amazonaws.com https://cognito-idp.eu-west-1.amazonaws.com; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
  });

  it('signs in, lists and opens records, with nothing refused', async () => {
    const { page, violations } = await pageUnder(deployedPolicy);

    await tourAsAlice(page);

    expect(await violations()).toEqual([]);
  });

  it('signs in with Cognito, with nothing refused', async () => {
    const { page, violations } = await pageUnder(deployedPolicy);

    await signInWithCognito(page);
    await page.getByText('Signed in as maria').waitFor();

    expect(await violations()).toEqual([]);
  });

  it('would be refused its own scripts by a stricter policy: the check sees a violation when there is one', async () => {
    const { page, violations } = await pageUnder(
      deployedPolicy.replace("script-src 'self'", "script-src 'none'"),
    );

    await page.goto(`${api.url}/`);

    await expect
      .poll(async () => (await violations()).some((violation) => violation.startsWith('script-src-elem ')))
      .toBe(true);
  });

  it('would be refused Cognito without it in connect-src', async () => {
    const { page, violations } = await pageUnder(
      deployedPolicy.replace(' https://cognito-idp.eu-west-1.amazonaws.com', ''),
    );

    await signInWithCognito(page);

    await expect.poll(violations).toContain('connect-src https://cognito-idp.eu-west-1.amazonaws.com/');
  });
});
