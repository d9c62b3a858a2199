import { readFileSync } from 'node:fs';
import { DEMO_BRANCH_BASE, DEMO_BROKEN_FIX_TICKET, DEMO_REPO_ALIAS, DEMO_TICKET } from '@airlock/local-stack';
import type { Page } from 'playwright-core';
import { startE2eStack, type E2eStack } from '../support/e2e-stack';
import { assertDashboardBuilt, launchBrowser, saveScreenshot, seriousAccessibilityViolations, type BrowserHarness } from './browser-harness';

/**
 * The dashboard in a real browser (Debian's chromium, headless) against the local stack:
 * the control plane serves the built dashboard on its own port, and its worker and the
 * inference simulator really run the jobs the tests create.
 */
describe('the dashboard in a browser', () => {
  const admin = { email: 'ada@example.com', displayName: 'Ada Lovelace', password: 'correct horse battery staple' };
  let stack: E2eStack;
  let harness: BrowserHarness;
  let page: Page;
  let succeededJobId: string;

  beforeAll(async () => {
    assertDashboardBuilt();
    stack = await startE2eStack('dashboard');
    harness = await launchBrowser(stack.controlPlane.httpUrl);
    page = harness.page;
  });

  afterAll(async () => {
    await harness?.close();
    await stack?.stop();
  });

  async function signIn(email: string, password: string): Promise<void> {
    await page.goto('/login');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  it('creates the first admin through the bootstrap form, logs out, and logs in by password', async () => {
    await page.goto('/');
    // Signed out, every route leads to the login page; on a fresh install it offers the bootstrap form.
    await page.getByRole('heading', { name: 'Create the first admin' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/login');
    await expect(page.getByText('bootstrap-admin-token', { exact: false }).first().isVisible()).resolves.toBe(true);
    await saveScreenshot(page, 'bootstrap');

    await page.getByLabel('Bootstrap token').fill(readFileSync(stack.adminTokenFile, 'utf8').trim());
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Display name').fill(admin.displayName);
    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Create admin and sign in' }).click();

    // Home leads an admin, who reads analytics, to the managers' screen first.
    await page.getByRole('heading', { name: 'Analytics', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/analytics');
    const header = page.getByRole('banner');
    await expect(header.getByText(admin.displayName).isVisible()).resolves.toBe(true);
    await expect(header.getByText('Admin', { exact: true }).isVisible()).resolves.toBe(true);
    await header.getByRole('status').getByText('live').waitFor();

    await header.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.goto('/jobs');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(new URL(page.url()).searchParams.get('next')).toBe('/jobs');
    await saveScreenshot(page, 'login');

    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/jobs');
  });

  it('shows the server\'s message next to the form for a wrong password', async () => {
    await page.getByRole('banner').getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await signIn(admin.email, 'not the password at all');
    const problem = page.getByRole('alert');
    await problem.waitFor();
    expect(await problem.textContent()).toMatch(/the email or the password is wrong/i);
    // Still on the login page, the password cleared for another try.
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(await page.getByLabel('Password').inputValue()).toBe('');
  });

  it('can be signed in to with the keyboard alone: Tab between fields, Enter to submit', async () => {
    await page.goto('/login');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    // From the top of the freshly loaded page, Tab reaches the email field first.
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.getAttribute("type")')).toBe('email');
    await page.keyboard.type(admin.email);
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.getAttribute("type")')).toBe('password');
    await page.keyboard.type(admin.password);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
  });

  it('creates a fix job from the jobs screen and watches its row reach SUCCEEDED live, without a reload', async () => {
    await page.goto('/jobs');
    await page.getByRole('banner').getByRole('status').getByText('live').waitFor();
    // A reload would drop this mark: its survival shows the row changed through the event stream.
    await page.evaluate('window.airlockNoReloadMark = true');

    await page.getByRole('button', { name: 'New job' }).click();
    const form = page.getByRole('region', { name: 'New fix job' });
    await form.getByLabel('Repository alias').fill(DEMO_REPO_ALIAS);
    await form.getByLabel('Base ref').fill(DEMO_BRANCH_BASE);
    await form.getByLabel('Ticket title').fill(DEMO_TICKET.title);
    await form.getByLabel('Ticket description').fill(DEMO_TICKET.description);
    await form.getByRole('button', { name: 'Create fix job' }).click();

    const createdLink = form.getByRole('status').filter({ hasText: 'Created job' }).getByRole('link');
    await createdLink.waitFor();
    const href = await createdLink.getAttribute('href');
    succeededJobId = href?.split('/').pop() ?? '';
    expect(succeededJobId).toMatch(/^[0-9a-f-]{36}$/);

    const row = page.locator(`tr[data-job-id="${succeededJobId}"]`);
    await row.waitFor({ timeout: 30_000 });
    await row.locator('[data-status="SUCCEEDED"]').waitFor({ timeout: 150_000 });
    expect(await row.textContent()).toContain(DEMO_REPO_ALIAS);
    expect(await page.evaluate('window.airlockNoReloadMark')).toBe(true);
    await form.getByRole('button', { name: 'Close' }).click();
    await saveScreenshot(page, 'jobs');
  });

  it('shows the job\'s phases, attempts and metadata-only result on its page', async () => {
    await page.getByRole('link', { name: succeededJobId.slice(0, 8) }).click();
    await page.getByRole('heading', { name: `Job ${succeededJobId.slice(0, 8)}` }).waitFor();
    await page.locator('table.timeline').first().waitFor();
    const phases = page.locator('table.timeline tbody tr');
    expect(await phases.evaluateAll((rows) => rows.map((row) => row.getAttribute('data-phase')))).toEqual([
      'PHASE_WORKSPACE',
      'PHASE_SETUP',
      'PHASE_BASELINE',
      'PHASE_CONTEXT',
      'PHASE_INFERENCE',
      'PHASE_APPLY',
      'PHASE_TEST',
      'PHASE_DELIVER',
    ]);
    expect(await page.locator('table.timeline tbody tr[data-state="completed"]').count()).toBe(8);
    const attempts = page.getByRole('region', { name: 'Attempts' });
    expect(await attempts.locator('tbody tr').count()).toBe(1);
    const result = page.getByRole('region', { name: 'Result' });
    expect(await result.textContent()).toMatch(/Failing before\s*1 of 3/);
    expect(await result.textContent()).toMatch(/Failing after\s*0 of 3/);
    // The demo repository has no forge: the branch was pushed and the change kept in the outbox.
    expect(await result.textContent()).toContain('branch pushed');
    // A finished job cannot be cancelled, only re-run (which would update the same branch).
    expect(await page.getByRole('button', { name: 'Cancel job' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Re-run job' }).count()).toBe(1);
    await saveScreenshot(page, 'job-detail');
  });

  it('re-runs a failed job from its page and follows the re-run live to its end', async () => {
    const broken = await stack.api.createFixJob({ repoAlias: DEMO_REPO_ALIAS, baseRef: DEMO_BRANCH_BASE, ticket: DEMO_BROKEN_FIX_TICKET });
    expect((await stack.api.waitForTerminalJob(broken.id, 120_000)).status).toBe('FAILED');
    await page.goto(`/jobs/${broken.id}`);
    await page.locator('table.timeline').first().waitFor();
    expect(await page.locator('table.timeline tr[data-state="failed"]').getAttribute('data-phase')).toBe('PHASE_TEST');
    expect(await page.getByRole('button', { name: 'Cancel job' }).count()).toBe(0);

    await page.getByRole('button', { name: 'Re-run job' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/jobs/') && !url.pathname.endsWith(broken.id));
    const retryOf = page.locator('dt', { hasText: 'Re-run of' }).locator('xpath=following-sibling::dd[1]');
    expect(await retryOf.getByRole('link').getAttribute('href')).toBe(`/jobs/${broken.id}`);
    // The same broken fix fails again; the page follows it there without a reload.
    await page.locator('.page-heading [data-status="FAILED"]').waitFor({ timeout: 150_000 });
  });

  it('has no serious or critical accessibility violations on the login, jobs and job pages (axe-core)', async () => {
    const audits = {
      jobs: await seriousAccessibilityViolations(harness, '/jobs', (audited) => audited.locator(`tr[data-job-id="${succeededJobId}"]`).waitFor()),
      jobDetail: await seriousAccessibilityViolations(harness, `/jobs/${succeededJobId}`, (audited) => audited.locator('table.timeline').first().waitFor()),
    };
    await page.getByRole('banner').getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    const login = await seriousAccessibilityViolations(harness, '/login', (audited) => audited.getByRole('heading', { name: 'Sign in' }).waitFor());
    expect({ ...audits, login }).toEqual({ jobs: [], jobDetail: [], login: [] });
  });

  it('broke no rule of the dashboard\'s Content-Security-Policy and threw nothing in the page', () => {
    // 401s of the session probe and the wrong-password login are the API speaking, not faults.
    const faults = harness.pageErrors.filter((text) => !/status of 401/.test(text));
    expect(faults).toEqual([]);
  });
});
