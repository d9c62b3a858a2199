import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import axe from 'axe-core';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { WORKSPACE_ROOT } from '@airlock/local-stack';

/** Debian's chromium, driven through playwright-core (no browser download). */
export const CHROMIUM_PATH = process.env['AIRLOCK_E2E_CHROMIUM'] ?? '/usr/bin/chromium';

/** Where full-page screenshots of the main pages go; CI keeps the folder as an artifact. */
export const SCREENSHOT_DIR = join(WORKSPACE_ROOT, 'e2e', 'artifacts', 'screenshots');

/** The built dashboard the control plane of the stack serves (its default AIRLOCK_DASHBOARD_DIR). */
const DASHBOARD_INDEX = join(WORKSPACE_ROOT, 'dist', 'apps', 'dashboard', 'index.html');

/**
 * Runs in the page (a string: this project is compiled without the DOM's types): the whole
 * document against axe's default rules, each violation reduced to plain data.
 */
const RUN_AXE = `axe.run(document, { resultTypes: ['violations'] }).then((results) => results.violations.map((violation) => ({
  id: violation.id,
  impact: violation.impact ?? null,
  help: violation.help,
  targets: violation.nodes.map((node) => node.target.join(' ')),
})))`;

const CONTEXT_OPTIONS = { viewport: { width: 1280, height: 860 }, locale: 'en-GB', timezoneId: 'UTC' } as const;

/** An axe-core finding, as much of it as a failure message needs. */
export interface AccessibilityViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly targets: readonly string[];
}

/** A browser with one context per test group, and what its pages complained about. */
export interface BrowserHarness {
  readonly baseUrl: string;
  readonly browser: Browser;
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors and uncaught exceptions of the pages, CSP violations included. */
  readonly pageErrors: string[];
  close(): Promise<void>;
}

/**
 * Fails early, naming the command, when the dashboard has not been built: the control plane
 * would answer every page with its "not built" notice and each test would fail obscurely.
 */
export function assertDashboardBuilt(): void {
  if (!existsSync(DASHBOARD_INDEX)) throw new Error(`${DASHBOARD_INDEX} is missing: run npm run dashboard:build before the browser tests`);
}

/** Launches headless chromium with a fresh profile (no cookies) and one page on `baseUrl`. */
export async function launchBrowser(baseUrl: string): Promise<BrowserHarness> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`no chromium at ${CHROMIUM_PATH}: install Debian's chromium (scripts/ensure-system-packages.sh does)`);
  // No sandbox: CI and these machines run the tests as root, where chromium's sandbox refuses to start.
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, chromiumSandbox: false });
  const context = await browser.newContext({ ...CONTEXT_OPTIONS, baseURL: baseUrl });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  collectErrors(page, pageErrors);
  return {
    baseUrl,
    browser,
    context,
    page,
    pageErrors,
    close: async () => {
      await context.close().catch(() => undefined);
      await browser.close();
    },
  };
}

function collectErrors(page: Page, pageErrors: string[]): void {
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  page.on('pageerror', (error) => pageErrors.push(`${error.name}: ${error.message}`));
}

/**
 * A second browser context with no cookies, as another person on another machine would have,
 * and one page on the harness's base URL; its errors join the harness's pageErrors. Close the
 * context when done (harness.close() closes the browser, and so every context, anyway).
 */
export async function openFreshContext(harness: BrowserHarness): Promise<{ readonly context: BrowserContext; readonly page: Page }> {
  const context = await harness.browser.newContext({ ...CONTEXT_OPTIONS, baseURL: harness.baseUrl });
  const page = await context.newPage();
  collectErrors(page, harness.pageErrors);
  return { context, page };
}

/**
 * Opens `path` in a second context signed in as the first (same cookies), waits for `ready`,
 * injects axe-core with page.addScriptTag and returns the serious and critical violations of
 * the whole page. That context bypasses the dashboard's CSP, which (rightly) refuses the
 * inline script addScriptTag adds; the main context keeps the CSP, so its pageErrors would
 * show any violation of the dashboard's own.
 */
export async function seriousAccessibilityViolations(harness: BrowserHarness, path: string, ready: (page: Page) => Promise<void>): Promise<AccessibilityViolation[]> {
  const storageState = await harness.context.storageState();
  const context = await harness.browser.newContext({ ...CONTEXT_OPTIONS, baseURL: harness.baseUrl, bypassCSP: true, storageState });
  try {
    const page = await context.newPage();
    await page.goto(path);
    await ready(page);
    await page.addScriptTag({ content: axe.source });
    const violations = await page.evaluate<AccessibilityViolation[]>(RUN_AXE);
    return violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
  } finally {
    await context.close();
  }
}

/** Saves a full-page screenshot as e2e/artifacts/screenshots/<name>.png. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
