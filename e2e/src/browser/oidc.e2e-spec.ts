import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort, startTestIdentityProvider, type TestIdentityProvider } from '@airlock/testing';
import type { BrowserContext, Page } from 'playwright-core';
import { startE2eStack, type E2eStack } from '../support/e2e-stack';
import { assertDashboardBuilt, launchBrowser, saveScreenshot, seriousAccessibilityViolations, type BrowserHarness } from './browser-harness';

const CLIENT_ID = 'airlock-e2e';
const DISPLAY_NAME = 'Test IdP';

/**
 * Single sign-on in a real browser: the local stack's control plane is configured for a real
 * OpenID Connect provider (oidc-provider, in its own process), and chromium goes through the
 * provider's own login and consent pages and back to the dashboard.
 */
describe('single sign-on in a browser', () => {
  const ada = { email: 'ada@example.com', displayName: 'Ada Lovelace' };
  let scratchDir: string;
  let identityProvider: TestIdentityProvider;
  let stack: E2eStack;
  let harness: BrowserHarness;
  let page: Page;
  let publicUrl: string;
  /** Console errors of the dashboard's pages only: the provider's pages are not ours to judge. */
  const dashboardErrors: string[] = [];

  /** Records the console errors and uncaught exceptions a page of the dashboard (the public URL) shows. */
  function watchDashboardErrors(watched: Page): void {
    watched.on('console', (message) => {
      if (message.type() === 'error' && message.location().url.startsWith(publicUrl)) dashboardErrors.push(message.text());
    });
    watched.on('pageerror', (error) => {
      if (watched.url().startsWith(publicUrl)) dashboardErrors.push(`${error.name}: ${error.message}`);
    });
  }

  /** Goes through the provider's development pages as `login`: the login form, then consent. */
  async function signInAtProvider(at: Page, login: string): Promise<void> {
    await at.waitForURL((url) => url.href.startsWith(identityProvider.issuer));
    await at.locator('input[name="login"]').fill(login);
    await at.locator('input[name="password"]').fill('any password: the provider takes any');
    await at.getByRole('button', { name: 'Sign-in' }).click();
    await at.getByRole('button', { name: 'Continue' }).click();
  }

  beforeAll(async () => {
    assertDashboardBuilt();
    scratchDir = mkdtempSync(join(tmpdir(), 'airlock-e2e-oidc-'));
    const clientSecret = randomBytes(24).toString('base64url');
    const secretFile = join(scratchDir, 'client-secret');
    writeFileSync(secretFile, `${clientSecret}\n`, { mode: 0o600 });
    // The redirect URI is registered at the provider before the control plane starts, so its port is chosen up front.
    const port = await findFreePort();
    publicUrl = `http://127.0.0.1:${port}`;
    identityProvider = await startTestIdentityProvider({
      clients: [{ client_id: CLIENT_ID, client_secret: clientSecret, redirect_uris: [`${publicUrl}/api/v1/auth/oidc/callback`] }],
      accounts: {
        ada: { claims: { email: ada.email, email_verified: true, name: ada.displayName } },
        stranger: { claims: { email: 'stranger@example.com', email_verified: true, name: 'Stranger' } },
      },
    });
    stack = await startE2eStack('oidc', {
      controlPlaneEnv: {
        AIRLOCK_HTTP_PORT: String(port),
        AIRLOCK_PUBLIC_URL: publicUrl,
        AIRLOCK_OIDC_ISSUER: identityProvider.issuer,
        AIRLOCK_OIDC_CLIENT_ID: CLIENT_ID,
        AIRLOCK_OIDC_CLIENT_SECRET_FILE: secretFile,
        AIRLOCK_OIDC_DISPLAY_NAME: DISPLAY_NAME,
      },
    });
    expect(stack.controlPlane.httpUrl).toBe(publicUrl);
    // An admin added Ada (with a password she need not use): her first single sign-on links her by her verified email.
    const created = await stack.api.request('POST', '/users', { ...ada, role: 'ADMIN', password: randomBytes(18).toString('base64url') });
    expect(created.status).toBe(201);
    harness = await launchBrowser(publicUrl);
    page = harness.page;
    watchDashboardErrors(page);
  });

  afterAll(async () => {
    await harness?.close();
    await stack?.stop();
    await identityProvider?.stop();
    if (scratchDir) rmSync(scratchDir, { recursive: true, force: true });
  });

  it('offers "Sign in with …" on the login page, which has no serious accessibility violations', async () => {
    await page.goto('/jobs');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(new URL(page.url()).searchParams.get('next')).toBe('/jobs');
    const button = page.getByRole('link', { name: `Sign in with ${DISPLAY_NAME}` });
    await button.waitFor();
    expect(await button.getAttribute('href')).toBe('/api/v1/auth/oidc/login?next=%2Fjobs');
    await saveScreenshot(page, 'login-sso');
    const violations = await seriousAccessibilityViolations(harness, '/login', (audited) => audited.getByRole('link', { name: `Sign in with ${DISPLAY_NAME}` }).waitFor());
    expect(violations).toEqual([]);
  });

  it('goes through the identity provider\'s pages and lands on the dashboard signed in as that person', async () => {
    await page.getByRole('link', { name: `Sign in with ${DISPLAY_NAME}` }).click();
    await signInAtProvider(page, 'ada');
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    expect(page.url()).toBe(`${publicUrl}/jobs`);
    const header = page.getByRole('banner');
    await expect(header.getByText(ada.displayName).isVisible()).resolves.toBe(true);
    await expect(header.getByText('Admin', { exact: true }).isVisible()).resolves.toBe(true);
    // Live, like a password session: the event stream authenticated by the same session cookie.
    await header.getByRole('status').getByText('live').waitFor();
    // The attempt cookie is gone; the session cookie is the password login's. (Cookies do not
    // tell ports apart: the provider's own, on another port of 127.0.0.1, are left out.)
    const ours = (await harness.context.cookies(publicUrl)).filter((cookie) => cookie.name.startsWith('airlock_'));
    expect(ours).toEqual([expect.objectContaining({ name: 'airlock_session', httpOnly: true, sameSite: 'Lax', path: '/' })]);
  });

  it('sends someone Airlock does not know back to the login page, saying why', async () => {
    // A browser of its own: the provider still has Ada signed in in the first one.
    let context: BrowserContext | undefined;
    try {
      context = await harness.browser.newContext({ baseURL: publicUrl, viewport: { width: 1280, height: 860 }, locale: 'en-GB', timezoneId: 'UTC' });
      const stranger = await context.newPage();
      watchDashboardErrors(stranger);
      await stranger.goto('/login');
      await stranger.getByRole('link', { name: `Sign in with ${DISPLAY_NAME}` }).click();
      await signInAtProvider(stranger, 'stranger');
      await stranger.getByRole('heading', { name: 'Sign in' }).waitFor();
      expect(new URL(stranger.url()).searchParams.get('error')).toBe('OIDC_UNKNOWN_USER');
      expect(await stranger.getByRole('alert').textContent()).toMatch(/Airlock has no account for your email address/);
    } finally {
      await context?.close();
    }
  });

  it('broke no rule of the dashboard\'s Content-Security-Policy and threw nothing in its pages', () => {
    // 401s of the session probe while signed out are the API speaking, not faults.
    expect(dashboardErrors.filter((text) => !/status of 401/.test(text))).toEqual([]);
  });
});
