import { DEMO_BRANCH_BASE, DEMO_BROKEN_FIX_TICKET, DEMO_REPO_ALIAS, DEMO_TICKET, type JobView } from '@airlock/local-stack';
import type { BrowserContext, Page } from 'playwright-core';
import { startE2eStack, type E2eStack } from '../support/e2e-stack';
import { assertDashboardBuilt, launchBrowser, openFreshContext, saveScreenshot, seriousAccessibilityViolations, type BrowserHarness } from './browser-harness';
import { createPerson, signIn, type TestPerson } from './browser-session';

/** The model the stack's inference simulator answers as: workers report its tokens under this name. */
const SIMULATOR_MODEL = 'airlock-sim-coder';
const TENANT_PRICE_PER_1K = 0.5;
const MODEL_PRICE_PER_1K = 0.8;
const DAY_MS = 86_400_000;

interface ResultTokens {
  readonly tokens?: { readonly promptTokens: number; readonly completionTokens: number };
}

/** An amount as the page writes it: the tenant's currency, 4 decimals under 1 (the API keeps 4), else 2. */
function moneyAsShown(amount: number, currency: string): string {
  const rounded = Math.round(amount * 10_000) / 10_000;
  const fractionDigits = rounded !== 0 && Math.abs(rounded) < 1 ? 4 : 2;
  return new Intl.NumberFormat('en-US', { style: 'currency', currency, minimumFractionDigits: 2, maximumFractionDigits: fractionDigits }).format(rounded);
}

/**
 * The analytics screen in a real browser against the local stack. The tenant's history is
 * made by the real system: the stack's worker runs fix jobs (two delivered, one refused by
 * its tests) and noop jobs, and the control plane's rollups count each as it changes. A
 * manager reads the outcomes, filters them, sets prices and the hours-saved assumption (the
 * server's refusals shown at their fields), and watches a job that ends update the page; a
 * viewer reads the same figures with no settings.
 */
describe('an analytics page rendering seeded data', () => {
  const manager: TestPerson = { email: 'margaret@example.com', displayName: 'Margaret Hamilton', password: 'a long manager password' };
  const viewer: TestPerson = { email: 'vince@example.com', displayName: 'Vince Viewer', password: 'a long viewer password' };
  let stack: E2eStack;
  let harness: BrowserHarness;
  let page: Page;
  let viewerContext: BrowserContext | undefined;
  let seeded: JobView[];

  const card = (figure: string) => page.locator(`[data-figure="${figure}"]`);
  const cardValue = async (figure: string) => ((await card(figure).locator('.headline-value').textContent()) ?? '').replace(/\s+/g, ' ').trim();
  const funnelCount = (stage: string) => page.locator(`tr[data-stage="${stage}"] td`).first();
  const waitForFigures = () => card('delivered').waitFor();
  const settingsPanel = () => page.getByRole('region', { name: 'Analytics settings' });
  const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

  beforeAll(async () => {
    assertDashboardBuilt();
    stack = await startE2eStack('analytics', { allowNoop: true });
    const fix = (ticket: { readonly title: string; readonly description: string }) => stack.api.createFixJob({ repoAlias: DEMO_REPO_ALIAS, baseRef: DEMO_BRANCH_BASE, ticket });
    const created = [await fix(DEMO_TICKET), await fix(DEMO_TICKET), await fix(DEMO_BROKEN_FIX_TICKET), await stack.api.createNoopJob(), await stack.api.createNoopJob()];
    seeded = [];
    // One at a time: the stack's worker takes one job at once.
    for (const job of created) seeded.push(await stack.api.waitForTerminalJob(job.id, 150_000));
    expect(seeded.map((job) => job.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'FAILED', 'SUCCEEDED', 'SUCCEEDED']);

    await createPerson(stack, manager, 'MANAGER');
    await createPerson(stack, viewer, 'VIEWER');
    harness = await launchBrowser(stack.controlPlane.httpUrl);
    page = harness.page;
  }, 600_000);

  afterAll(async () => {
    await viewerContext?.close();
    await harness?.close();
    await stack?.stop();
  });

  it('opens on the analytics for a manager, first in the navigation, with the outcomes the jobs had', async () => {
    await signIn(page, manager);
    await page.goto('/');
    await page.waitForURL((url) => url.pathname === '/analytics');
    await page.getByRole('heading', { name: 'Analytics', level: 1 }).waitFor();
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link').first().textContent()).toBe('Analytics');
    await waitForFigures();

    expect(await cardValue('delivered')).toBe('2');
    // Delivered of those that ran: the two fixes, of five jobs (noop jobs run but never deliver).
    expect(await cardValue('success-rate')).toBe('40%');
    expect(await card('success-rate').textContent()).toContain('2 of the 5 jobs created in the range that ran delivered a change.');
    expect(
      await Promise.all(['Created', 'Ran', 'Tests passed', 'Delivered'].map(async (stage) => (await funnelCount(stage).textContent())?.trim())),
    ).toEqual(['5', '5', '2', '2']);
    // No price yet: the cost is zero and the card says why; no assumption yet for the hours saved.
    expect(await card('cost-per-change').textContent()).toContain('No price per 1,000 tokens is set');
    expect(await cardValue('hours-saved')).toBe('0.0 h');
    expect(await card('hours-saved').textContent()).toContain('No hours per delivered change are set yet');
    // Implausible results and small groups are accounted for in words; the default minimum group size is 5.
    expect(await page.locator('[data-caveat="implausible"]').textContent()).toBe('No implausible result was left out of these figures.');
    const grouping = (await page.locator('[data-caveat="grouping"]').textContent()) ?? '';
    expect(grouping).toContain('fewer than 5 jobs into “Other”');
    expect(grouping).toContain('Some slices below were merged.');
    expect(await page.locator('tr[data-slice="(other)"]').count()).toBeGreaterThan(0);

    // Each chart's numbers are a table the keyboard can put on screen.
    const funnel = page.getByRole('region', { name: 'Job funnel' });
    const toggle = funnel.getByRole('button', { name: 'Show as table' });
    // Until then the table is there for screen readers only, in a 1-pixel clip.
    const tableWidth = async () => (await funnel.locator('table').locator('xpath=..').boundingBox())?.width ?? 0;
    expect(await tableWidth()).toBeLessThanOrEqual(1);
    await toggle.focus();
    await page.keyboard.press('Enter');
    expect(await toggle.getAttribute('aria-pressed')).toBe('true');
    expect(await tableWidth()).toBeGreaterThan(100);
    await page.keyboard.press('Enter');
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');
    expect(await tableWidth()).toBeLessThanOrEqual(1);
  });

  it('keeps the filters in the address, and exports the same query as CSV', async () => {
    await page.getByRole('button', { name: '7 days', exact: true }).click();
    await page.waitForURL((url) => url.search === '?days=7');
    await waitForFigures();
    expect(await page.getByRole('button', { name: '7 days', exact: true }).getAttribute('aria-pressed')).toBe('true');

    await page.getByLabel('Job kind').selectOption('fix');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL((url) => url.search === '?days=7&kind=fix');
    // Of the fix jobs alone: two of three delivered.
    await card('success-rate').getByText('66.7%').waitFor();
    expect(await cardValue('delivered')).toBe('2');
    expect(await page.locator('.report-scope').textContent()).toContain('fix jobs');

    const today = Date.now();
    const href = await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
    expect(href).toBe(`/api/v1/analytics/export.csv?from=${utcDay(today - 6 * DAY_MS)}&to=${utcDay(today)}&kind=fix`);
    const csv = await page.request.get(href ?? '');
    expect(csv.status()).toBe(200);
    expect(csv.headers()['content-type']).toContain('text/csv');
    // The funnel of the same query: 3 fix jobs created and run, 2 passed their tests, 2 delivered.
    expect(await csv.text()).toMatch(/creation-day,3,3,2,2,0,0/);

    // A bookmarked address opens on the same figures.
    await page.reload();
    await card('success-rate').getByText('66.7%').waitFor();
    expect(await page.getByLabel('Job kind').inputValue()).toBe('fix');

    // A custom range the wrong way round: the API's refusal is shown under the field it names.
    await page.getByLabel('From', { exact: true }).fill(utcDay(today));
    await page.getByLabel('To', { exact: true }).fill(utcDay(today - 7 * DAY_MS));
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL((url) => url.searchParams.get('from') === utcDay(today) && url.searchParams.get('to') === utcDay(today - 7 * DAY_MS));
    const rangeError = page.locator('.field-error').filter({ hasText: 'expected a date on or after from' });
    await rangeError.waitFor();
    expect(await page.getByLabel('To', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('[data-figure="delivered"]').count()).toBe(0);

    await page.getByRole('button', { name: 'Clear' }).click();
    await page.waitForURL((url) => url.pathname === '/analytics' && url.search === '');
    await card('success-rate').getByText('40%').waitFor();
  });

  it('shows the server\'s refusals at their fields, and saved settings re-render the figures', async () => {
    await page.getByRole('button', { name: 'Settings' }).click();
    const panel = settingsPanel();
    await panel.getByLabel('Currency').waitFor();
    await panel.getByLabel('Currency').fill('EUX');
    await panel.getByLabel('Price per 1,000 tokens', { exact: true }).fill(String(TENANT_PRICE_PER_1K));
    await panel.getByLabel('Hours saved per delivered fix').fill('2');
    await panel.getByLabel('Minimum group size').fill('1');
    await panel.getByRole('button', { name: 'Add a model price' }).click();
    // A model name as no worker reports one: with a space.
    await panel.getByLabel('Model 1', { exact: true }).fill('airlock sim coder');
    await panel.getByLabel('Price per 1,000 tokens of model 1').fill(String(MODEL_PRICE_PER_1K));
    await panel.getByRole('button', { name: 'Save settings' }).click();

    // Both refusals, each under its own field, in the server's words; the first takes the focus.
    const currencyError = panel.locator('.field-error').filter({ hasText: 'expected an ISO 4217 currency code' });
    await currencyError.waitFor();
    expect(await panel.getByLabel('Currency').getAttribute('aria-invalid')).toBe('true');
    expect((await panel.getByLabel('Currency').getAttribute('aria-describedby'))?.split(' ')).toContain(await currencyError.getAttribute('id'));
    const modelError = panel.locator('.field-error').filter({ hasText: 'expected a model name matching' });
    await modelError.waitFor();
    expect(await panel.getByLabel('Model 1', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect((await panel.getByLabel('Model 1', { exact: true }).getAttribute('aria-describedby'))?.split(' ')).toContain(await modelError.getAttribute('id'));
    expect(await page.evaluate('document.activeElement?.getAttribute("aria-invalid")')).toBe('true');
    // Nothing was saved: the page still has no price.
    expect(await card('cost-per-change').textContent()).toContain('No price per 1,000 tokens is set');

    await panel.getByLabel('Currency').fill('EUR');
    await panel.getByLabel('Model 1', { exact: true }).fill(SIMULATOR_MODEL);
    await panel.getByRole('button', { name: 'Save settings' }).click();
    await panel.getByRole('status').filter({ hasText: 'Saved. The figures on this page now use these settings.' }).waitFor();
    expect(await panel.locator('.field-error').count()).toBe(0);

    // The cost of every token the seeded jobs reported, at the model's own price, over the two delivered changes.
    const tokens = seeded.reduce((sum, job) => {
      const reported = (job.result as ResultTokens | null)?.tokens;
      return sum + (reported ? reported.promptTokens + reported.completionTokens : 0);
    }, 0);
    expect(tokens).toBeGreaterThan(0);
    const total = (tokens / 1_000) * MODEL_PRICE_PER_1K;
    await card('cost-per-change').getByText(moneyAsShown(total / 2, 'EUR'), { exact: true }).waitFor();
    expect(await card('cost-per-change').textContent()).toContain(`${moneyAsShown(total, 'EUR')} of tokens for 2 delivered changes`);
    expect(await cardValue('hours-saved')).toBe('4.0 h');
    expect(await card('hours-saved').textContent()).toContain('Assumption: 2.0 h per delivered fix, set by your manager.');
    // With a minimum group size of 1, no slice is merged: the repository stands on its own.
    await page.locator(`tr[data-slice="${DEMO_REPO_ALIAS}"]`).first().waitFor({ state: 'attached' });
    expect(await page.locator('[data-caveat="grouping"]').textContent()).toContain('No slice needed merging here.');
    await saveScreenshot(page, 'analytics-settings');

    await panel.getByRole('button', { name: 'Close' }).click();
    await panel.waitFor({ state: 'detached' });
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Settings');
  });

  it('reads the figures again when a job ends, without a reload', async () => {
    await page.getByRole('banner').getByRole('status').getByText('live', { exact: true }).waitFor();
    // A reload would drop this mark: its survival shows the figures came through the event stream.
    await page.evaluate('window.airlockNoReloadMark = true');
    expect((await funnelCount('Created').textContent())?.trim()).toBe('5');
    const noop = await stack.api.createNoopJob();
    expect((await stack.api.waitForTerminalJob(noop.id, 60_000)).status).toBe('SUCCEEDED');
    // Refreshes are at most 5 s apart.
    await page.locator('tr[data-stage="Created"] td').first().getByText('6', { exact: true }).waitFor({ timeout: 15_000 });
    expect(await page.evaluate('window.airlockNoReloadMark')).toBe(true);
    expect(await cardValue('success-rate')).toBe('33.3%');
    await saveScreenshot(page, 'analytics');
  });

  it('shows a viewer the same figures and no settings', async () => {
    const fresh = await openFreshContext(harness);
    viewerContext = fresh.context;
    const viewerPage = fresh.page;
    await signIn(viewerPage, viewer);
    await viewerPage.goto('/');
    await viewerPage.waitForURL((url) => url.pathname === '/analytics');
    await viewerPage.locator('[data-figure="delivered"]').waitFor();
    expect((await viewerPage.locator('[data-figure="delivered"] .headline-value').textContent())?.trim()).toBe('2');
    expect((await viewerPage.locator('[data-figure="hours-saved"] .headline-value').textContent())?.trim()).toBe('4.0 h');
    expect(await viewerPage.getByRole('button', { name: 'Settings' }).count()).toBe(0);
    expect(await viewerPage.getByRole('region', { name: 'Analytics settings' }).count()).toBe(0);
    // The form is hidden, and the server refuses anyway: settings sent from the viewer's page, CSRF token and all.
    const refused = await viewerPage.evaluate(async () => {
      const session = (await (await fetch('/api/v1/auth/session')).json()) as { csrfToken: string };
      const settings = { currency: 'EUR', pricePer1kTokens: 0, modelPrices: [], monthlyBudget: null, hoursSavedPerDeliveredChange: { fix: 0, noop: 0 }, minimumGroupSize: 1 };
      const response = await fetch('/api/v1/analytics/settings', {
        method: 'PUT',
        headers: { 'X-CSRF-Token': session.csrfToken, 'Content-Type': 'application/json' },
        body: JSON.stringify(settings),
      });
      return { status: response.status, body: (await response.json()) as { code?: string } };
    });
    expect(refused).toEqual({ status: 403, body: expect.objectContaining({ code: 'FORBIDDEN' }) });
  });

  it('passes axe-core on the page, and with the settings form open', async () => {
    const audits = {
      page: await seriousAccessibilityViolations(harness, '/analytics', (audited) => audited.locator('[data-figure="delivered"]').waitFor()),
      settings: await seriousAccessibilityViolations(harness, '/analytics', async (audited) => {
        await audited.locator('[data-figure="delivered"]').waitFor();
        await audited.getByRole('button', { name: 'Settings' }).click();
        await audited.getByRole('button', { name: 'Save settings' }).waitFor();
      }),
    };
    expect(audits).toEqual({ page: [], settings: [] });
  });

  it('raised no script error and no CSP violation on the way', () => {
    // The 401s of the sessions before signing in, the 400 of the refused settings and the viewer's 403 were answers the test asked for.
    const faults = harness.pageErrors.filter((text) => !/status of 40[013]/.test(text));
    expect(faults).toEqual([]);
  });
});
