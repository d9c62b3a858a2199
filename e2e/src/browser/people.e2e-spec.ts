import type { BrowserContext, Page } from 'playwright-core';
import { startE2eStack, type E2eStack } from '../support/e2e-stack';
import { assertDashboardBuilt, launchBrowser, openFreshContext, saveScreenshot, seriousAccessibilityViolations, type BrowserHarness } from './browser-harness';
import { bootstrapAdminSession, signIn, signOut, type TestPerson } from './browser-session';

interface ProblemBody {
  readonly code?: string;
  readonly message?: string;
}

/**
 * The people, API token and account screens in a real browser against the local stack: an
 * admin adds a viewer, makes an API token that the test then really uses (and sees refused
 * once revoked), and the viewer, on a browser of their own, finds no admin controls and
 * changes their password.
 */
describe('the people, API token and account screens in a browser', () => {
  const admin: TestPerson = { email: 'ada@example.com', displayName: 'Ada Lovelace', password: 'a long admin password' };
  const viewer: TestPerson = { email: 'vera@example.com', displayName: 'Vera Viewer', password: 'a first password for vera' };
  const viewersNewPassword = 'vera chose this one herself';
  const tokenName = 'ci jobs reader';
  let stack: E2eStack;
  let harness: BrowserHarness;
  let page: Page;
  let viewerContext: BrowserContext | undefined;
  let tokenSecret = '';

  const personRow = (inPage: Page, email: string) => inPage.locator(`tr[data-email="${email}"]`);
  const tokenRow = () => page.locator('tr[data-token-id]').filter({ has: page.getByRole('rowheader', { name: tokenName, exact: true }) });
  /** The API as automation calls it: from this process, with the token alone. */
  const withToken = async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: ProblemBody | unknown[] }> => {
    const response = await fetch(`${stack.controlPlane.httpUrl}/api/v1${path}`, {
      method,
      headers: { Authorization: `Bearer ${tokenSecret}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as ProblemBody | unknown[] };
  };

  beforeAll(async () => {
    assertDashboardBuilt();
    stack = await startE2eStack('people');
    harness = await launchBrowser(stack.controlPlane.httpUrl);
    page = harness.page;
    await bootstrapAdminSession(harness, stack, admin);
  });

  afterAll(async () => {
    await viewerContext?.close().catch(() => undefined);
    await harness?.close();
    await stack?.stop();
  });

  it('lists the people, and adds a viewer with a first password, showing a taken email in the server\'s words', async () => {
    await page.goto('/jobs');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'People' }).click();
    await page.getByRole('heading', { name: 'People', level: 1 }).waitFor();
    const adminRow = personRow(page, admin.email);
    await adminRow.waitFor();
    expect(await adminRow.getByRole('rowheader').textContent()).toBe(`${admin.displayName} (you)`);
    expect(await adminRow.locator('[data-person-status]').textContent()).toBe('Active');
    expect(await adminRow.textContent()).toContain('Password');
    // Last login: relative, with the exact time for the mouse (title).
    expect(await adminRow.locator('time').getAttribute('title')).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);

    await page.getByRole('button', { name: 'Add person', expanded: false }).click();
    const form = page.getByRole('region', { name: 'Add person' });
    await form.getByLabel('Email').fill(admin.email);
    await form.getByLabel('Name').fill(viewer.displayName);
    await form.getByLabel('Role').selectOption('VIEWER');
    expect(await form.getByText('sees jobs, analytics, the fleet and policies; changes nothing.').isVisible()).toBe(true);
    await form.getByLabel('First password').fill(viewer.password);
    expect(await form.textContent()).toContain('out of band');
    await form.getByRole('button', { name: 'Add person' }).click();
    // 409 EMAIL_TAKEN names the field: its message stands under the email.
    await form.locator('.field-error').filter({ hasText: 'another account has this email already' }).waitFor();
    expect(await form.getByLabel('Email').getAttribute('aria-invalid')).toBe('true');

    await form.getByLabel('Email').fill(viewer.email);
    await form.getByRole('button', { name: 'Add person' }).click();
    await page.getByRole('status').filter({ hasText: `Added ${viewer.displayName} (${viewer.email}) as Viewer.` }).waitFor();
    const viewerRow = personRow(page, viewer.email);
    await viewerRow.waitFor();
    expect(await viewerRow.getByLabel(`Role of ${viewer.displayName}`).inputValue()).toBe('VIEWER');
    expect(await viewerRow.textContent()).toContain('never');
    // The password went with the request and nowhere else: the form is empty again.
    expect(await form.getByLabel('First password').inputValue()).toBe('');
    await form.getByRole('button', { name: 'Close' }).click();
  });

  it('refuses to demote the last admin, saying why, and changes the viewer\'s role inline', async () => {
    const adminRow = personRow(page, admin.email);
    await adminRow.getByLabel(`Role of ${admin.displayName}`).selectOption('MANAGER');
    await adminRow.getByRole('button', { name: `Save role of ${admin.displayName}` }).click();
    const refusal = adminRow.getByRole('alert');
    await refusal.filter({ hasText: 'This is the last enabled ADMIN of the organisation: make another person ADMIN first' }).waitFor();
    expect(await adminRow.getByLabel(`Role of ${admin.displayName}`).inputValue()).toBe('ADMIN');

    const viewerRow = personRow(page, viewer.email);
    await viewerRow.getByLabel(`Role of ${viewer.displayName}`).selectOption('MANAGER');
    await viewerRow.getByRole('button', { name: `Save role of ${viewer.displayName}` }).click();
    await page.getByRole('status').filter({ hasText: `${viewer.displayName} is now Manager.` }).waitFor();
    await viewerRow.getByLabel(`Role of ${viewer.displayName}`).selectOption('VIEWER');
    await viewerRow.getByRole('button', { name: `Save role of ${viewer.displayName}` }).click();
    await page.getByRole('status').filter({ hasText: `${viewer.displayName} is now Viewer.` }).waitFor();
    expect(await viewerRow.locator('select').getAttribute('data-role')).toBe('VIEWER');
  });

  it('disables and enables the viewer after a confirmation that the keyboard can refuse', async () => {
    const viewerRow = personRow(page, viewer.email);
    const disable = viewerRow.getByRole('button', { name: `Disable ${viewer.displayName}` });
    await disable.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: `Disable ${viewer.displayName}?` });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('signed out everywhere');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Cancel');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await viewerRow.locator('[data-person-status]').textContent()).toBe('Active');

    await disable.click();
    await dialog.getByRole('button', { name: 'Disable person' }).click();
    await viewerRow.locator('[data-person-status="disabled"]').waitFor();
    await page.getByRole('status').filter({ hasText: `${viewer.displayName} is disabled` }).waitFor();
    // A disabled person's right password is refused, in so many words.
    const refused = await fetch(`${stack.controlPlane.httpUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: viewer.email, password: viewer.password }),
    });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as ProblemBody).code).toBe('ACCOUNT_DISABLED');

    await viewerRow.getByRole('button', { name: `Enable ${viewer.displayName}` }).click();
    await page.getByRole('dialog', { name: `Enable ${viewer.displayName}?` }).getByRole('button', { name: 'Enable person' }).click();
    await viewerRow.locator('[data-person-status="active"]').waitFor();
    await saveScreenshot(page, 'people');
  });

  it('creates a token with jobs:read alone, shows it once with a copy button and a curl, and the token reads jobs but may not create one', async () => {
    await harness.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.controlPlane.httpUrl });
    await page.getByRole('navigation', { name: 'People and access' }).getByRole('link', { name: 'API tokens' }).click();
    await page.getByRole('heading', { name: 'API tokens', level: 1 }).waitFor();
    const form = page.getByRole('region', { name: 'New API token' });
    const scopes = form.getByRole('group', { name: 'Scopes' });
    // An admin holds every scope, and may grant each.
    expect(await scopes.getByRole('checkbox').count()).toBe(11);

    await form.getByLabel('Name').fill(tokenName);
    await scopes.getByRole('checkbox', { name: /^jobs:read / }).check();
    await form.getByRole('button', { name: '7 days' }).click();
    expect(await form.getByLabel('Expires in (days)').inputValue()).toBe('7');
    expect(await form.getByRole('button', { name: '7 days' }).getAttribute('aria-pressed')).toBe('true');
    await form.getByRole('button', { name: 'Create API token' }).click();

    const dialog = page.getByRole('dialog', { name: `API token “${tokenName}” created` });
    await dialog.waitFor();
    tokenSecret = ((await dialog.locator('[data-secret="token"]').textContent()) ?? '').trim();
    expect(tokenSecret).toMatch(/^alt_/);
    expect(await dialog.textContent()).toContain('you will not see this token again');
    expect(await dialog.locator('[data-secret="command"]').textContent()).toBe(`curl -H "Authorization: Bearer ${tokenSecret}" ${stack.controlPlane.httpUrl}/api/v1/jobs`);
    // The copy button has the focus: Enter copies.
    await page.keyboard.press('Enter');
    await dialog.getByRole('status').filter({ hasText: 'Copied.' }).first().waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(tokenSecret);

    // Used as automation would: jobs:read lists jobs; creating one needs jobs:write.
    const listed = await withToken('GET', '/jobs');
    expect(listed.status).toBe(200);
    expect(Array.isArray(listed.body)).toBe(true);
    const created = await withToken('POST', '/jobs', { kind: 'noop' });
    expect(created.status).toBe(403);
    expect((created.body as ProblemBody).code).toBe('FORBIDDEN');

    await dialog.getByRole('button', { name: 'I have copied it — close' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await page.evaluate('document.activeElement?.id')).toBe(await form.getByLabel('Name').getAttribute('id'));
    expect(await page.content()).not.toContain(tokenSecret);
    expect(page.url()).not.toContain(tokenSecret);
    expect(await page.evaluate('JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })')).not.toContain(tokenSecret);

    const row = tokenRow();
    await row.locator('[data-token-state="active"]').waitFor();
    const text = (await row.textContent()) ?? '';
    expect(text).toContain('jobs:read');
    expect(text).not.toContain('jobs:write');
    expect(text).toContain(admin.displayName);
    expect(await row.locator('time').nth(1).textContent()).toMatch(/^in (6|7) days/);
    // The bootstrap token is listed too: no expiry, created by no person.
    await page.reload();
    await row.waitFor();
    // Used a moment ago, by the requests above.
    expect(await row.locator('time').nth(2).getAttribute('datetime')).not.toBeNull();
    expect(await page.content()).not.toContain(tokenSecret);
    await saveScreenshot(page, 'api-tokens');
  });

  it('revokes the token after a confirmation, and from then on the API refuses it (401)', async () => {
    const row = tokenRow();
    await row.getByRole('button', { name: `Revoke API token ${tokenName}` }).click();
    const dialog = page.getByRole('dialog', { name: `Revoke API token “${tokenName}”?` });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('cannot be undone');
    await dialog.getByRole('button', { name: 'Revoke token' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await row.locator('[data-token-state="revoked"]').waitFor();
    await page.getByRole('status').filter({ hasText: `API token “${tokenName}” is revoked` }).waitFor();
    expect(await row.getByRole('button', { name: /Revoke/ }).count()).toBe(0);

    const refused = await withToken('GET', '/jobs');
    expect(refused.status).toBe(401);
    expect((refused.body as ProblemBody).code).toBe('UNAUTHENTICATED');
  });

  it('shows the viewer, in a browser of their own, no people, audit log or fleet controls', async () => {
    const fresh = await openFreshContext(harness);
    viewerContext = fresh.context;
    const viewerPage = fresh.page;
    await signIn(viewerPage, viewer);
    const nav = viewerPage.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Jobs' }).waitFor();
    expect(await nav.getByRole('link', { name: 'People' }).count()).toBe(0);
    expect(await nav.getByRole('link', { name: 'Audit log' }).count()).toBe(0);

    // Typed addresses say why instead of failing.
    for (const [path, title] of [
      ['/people', 'People'],
      ['/people/api-tokens', 'API tokens'],
    ] as const) {
      await viewerPage.goto(path);
      await viewerPage.getByRole('heading', { name: title, level: 1 }).waitFor();
      expect(await viewerPage.getByText('needs the people:read scope').isVisible()).toBe(true);
      expect(await viewerPage.locator('table').count()).toBe(0);
      expect(await viewerPage.getByRole('button', { name: /Add person|Create API token|Disable|Revoke/ }).count()).toBe(0);
    }
    await viewerPage.goto('/audit');
    await viewerPage.getByRole('heading', { name: 'Audit log', level: 1 }).waitFor();
    expect(await viewerPage.locator('table').count()).toBe(0);

    await viewerPage.goto('/fleet');
    await viewerPage.locator('tr[data-worker-id]').first().waitFor();
    expect(await viewerPage.getByRole('button', { name: /^(Drain|Undrain|Revoke)/ }).count()).toBe(0);
    await viewerPage.goto('/fleet/enrollment-tokens');
    await viewerPage.getByRole('heading', { name: 'Enrollment tokens', level: 1 }).waitFor();
    expect(await viewerPage.getByRole('button', { name: /Create enrollment token|Revoke/ }).count()).toBe(0);
  });

  it('lets the viewer change their password, checked here and by the server, ending their other sessions, and sign in with the new one', async () => {
    const viewerPage = viewerContext?.pages()[0];
    if (!viewerPage) throw new Error('the viewer\'s browser is not open');
    // Another session of the viewer's, as a second browser would hold.
    const otherLogin = await fetch(`${stack.controlPlane.httpUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: viewer.email, password: viewer.password }),
    });
    expect(otherLogin.status).toBe(200);
    const otherCookie = (otherLogin.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const otherSessionStatus = async () => (await fetch(`${stack.controlPlane.httpUrl}/api/v1/auth/session`, { headers: { cookie: otherCookie } })).status;
    expect(await otherSessionStatus()).toBe(200);

    await viewerPage.goto('/jobs');
    await viewerPage.getByRole('banner').getByRole('link', { name: `${viewer.displayName}: your account` }).click();
    await viewerPage.getByRole('heading', { name: 'Your account', level: 1 }).waitFor();
    const summary = (await viewerPage.locator('dl.summary').textContent()) ?? '';
    expect(summary).toContain(viewer.email);
    expect(summary).toContain('Viewer');
    expect(summary).toMatch(/This session ends\s*in (11|12) h/);
    expect(await viewerPage.locator('li[data-scope]').evaluateAll((items) => items.map((item) => item.getAttribute('data-scope')))).toEqual([
      'jobs:read',
      'analytics:read',
      'fleet:read',
      'policy:read',
    ]);

    const form = viewerPage.getByRole('region', { name: 'Change password' });
    const current = form.getByLabel('Current password');
    const fresh = form.getByLabel('New password', { exact: true });
    const again = form.getByLabel('New password again');
    const submit = form.getByRole('button', { name: 'Change password' });

    // Checked here first: too short, and a confirmation that differs.
    await current.fill(viewer.password);
    await fresh.fill('too short');
    await again.fill('too shorts');
    await submit.click();
    await form.getByText('At least 12 characters are needed (this has 9).').waitFor();
    await form.getByText('This differs from the new password').waitFor();
    expect(await fresh.getAttribute('aria-invalid')).toBe('true');

    // The server's refusal of a wrong current password, under that field.
    await current.fill('not my password at all');
    await fresh.fill(viewersNewPassword);
    await again.fill(viewersNewPassword);
    await submit.click();
    await form.locator('.field-error').filter({ hasText: 'expected your current password' }).waitFor();
    expect(await current.getAttribute('aria-invalid')).toBe('true');

    await current.fill(viewer.password);
    await submit.click();
    await form.getByRole('status').filter({ hasText: 'Your other sessions were signed out; this one stays signed in.' }).waitFor();
    expect(await current.inputValue()).toBe('');
    await saveScreenshot(viewerPage, 'account');
    expect(await otherSessionStatus()).toBe(401);
    // This session stays: a reload is still signed in.
    await viewerPage.reload();
    await viewerPage.getByRole('heading', { name: 'Your account', level: 1 }).waitFor();

    await signOut(viewerPage);
    await viewerPage.getByLabel('Email').fill(viewer.email);
    await viewerPage.getByLabel('Password').fill(viewer.password);
    await viewerPage.getByRole('button', { name: 'Sign in' }).click();
    await viewerPage.getByRole('alert').filter({ hasText: /the email or the password is wrong/i }).waitFor();
    await signIn(viewerPage, { ...viewer, password: viewersNewPassword });
    await viewerPage.getByRole('banner').getByText(viewer.displayName).waitFor();
  });

  it('has no serious or critical accessibility violations on the people, API token and account pages (axe-core)', async () => {
    const audits = {
      people: await seriousAccessibilityViolations(harness, '/people', (audited) => audited.locator(`tr[data-email="${viewer.email}"]`).waitFor()),
      addPerson: await seriousAccessibilityViolations(harness, '/people', async (audited) => {
        await audited.getByRole('button', { name: 'Add person' }).click();
        await audited.getByRole('region', { name: 'Add person' }).waitFor();
      }),
      disableDialog: await seriousAccessibilityViolations(harness, '/people', async (audited) => {
        await audited.getByRole('button', { name: `Disable ${viewer.displayName}` }).click();
        await audited.getByRole('dialog').waitFor();
      }),
      apiTokens: await seriousAccessibilityViolations(harness, '/people/api-tokens', (audited) => audited.locator('tr[data-token-id]').first().waitFor()),
      // A real token, made for this check and revoked below.
      newTokenDialog: await seriousAccessibilityViolations(harness, '/people/api-tokens', async (audited) => {
        const form = audited.getByRole('region', { name: 'New API token' });
        await form.getByLabel('Name').fill('axe check');
        await form.getByRole('group', { name: 'Scopes' }).getByRole('checkbox', { name: /^jobs:read / }).check();
        await form.getByRole('button', { name: 'Create API token' }).click();
        await audited.getByRole('dialog').waitFor();
      }),
      account: await seriousAccessibilityViolations(harness, '/account', (audited) => audited.getByRole('heading', { name: 'Your account' }).waitFor()),
    };
    expect(audits).toEqual({ people: [], addPerson: [], disableDialog: [], apiTokens: [], newTokenDialog: [], account: [] });

    const tokens = await stack.api.request<Array<{ id: string; name: string }>>('GET', '/api-tokens');
    for (const token of tokens.body.filter((listed) => listed.name === 'axe check')) {
      expect((await stack.api.request('POST', `/api-tokens/${token.id}/revoke`)).status).toBe(200);
    }
  });

  it('broke no rule of the dashboard\'s Content-Security-Policy and threw nothing in the page', () => {
    // The session probe's 401 after logging out, the refused sign-in and the wrong current password are the API speaking.
    const faults = harness.pageErrors.filter((text) => !/status of (400|401|409)/.test(text));
    expect(faults).toEqual([]);
  });
});
