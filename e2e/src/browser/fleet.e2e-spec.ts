import { readFileSync } from 'node:fs';
import type { WorkerHandle } from '@airlock/local-stack';
import type { Page } from 'playwright-core';
import { startE2eStack, type E2eStack } from '../support/e2e-stack';
import { assertDashboardBuilt, launchBrowser, saveScreenshot, seriousAccessibilityViolations, type BrowserHarness } from './browser-harness';
import { bootstrapAdminSession, createPerson, signIn, signOut, type TestPerson } from './browser-session';

interface WorkerFacts {
  readonly id: string;
  readonly name: string | null;
  readonly status: string;
  readonly policyRevision: number;
  readonly policyAppliedAt: string | null;
  readonly revoked: boolean;
  readonly draining: boolean;
}

/**
 * The fleet screens (workers, a worker's trust view, enrollment tokens) and the audit log in a
 * real browser against the local stack, whose worker really runs and really connects: drains,
 * revocations and enrollments go through the control plane and come back as live events.
 */
describe('the fleet and audit screens in a browser', () => {
  const admin: TestPerson = { email: 'grace@example.com', displayName: 'Grace Hopper', password: 'a long admin password' };
  const viewer: TestPerson = { email: 'vera@example.com', displayName: 'Vera Viewer', password: 'a long viewer password' };
  let stack: E2eStack;
  let harness: BrowserHarness;
  let page: Page;
  let worker: WorkerFacts;
  let policyId: string;

  const workers = async (): Promise<WorkerFacts[]> => (await stack.api.request<WorkerFacts[]>('GET', '/workers')).body;
  const nameOf = (facts: { readonly id: string; readonly name: string | null }) => facts.name ?? facts.id.slice(0, 8);
  const rowOf = (workerId: string) => page.locator(`tr[data-worker-id="${workerId}"]`);
  const waitForLive = () => page.getByRole('banner').getByRole('status').getByText('live', { exact: true }).waitFor();

  beforeAll(async () => {
    assertDashboardBuilt();
    stack = await startE2eStack('fleet', { allowNoop: true, workerLabels: ['build'] });
    const [first] = await stack.api.workers();
    if (!first) throw new Error('the stack has no worker');

    // A result names the worker's metadata level: from then on its trust view lists the fields it may send.
    const noop = await stack.api.createNoopJob();
    expect((await stack.api.waitForTerminalJob(noop.id, 60_000)).status).toBe('SUCCEEDED');

    // A central policy wider than the worker's own limit (25 files): the worker keeps its own and says so.
    const created = await stack.api.request<{ id: string }>('POST', '/policies', {
      name: 'fleet-baseline',
      document: { schemaVersion: 1, rules: { 'max-files-changed': { max: 100 } } },
    });
    expect(created.status).toBe(201);
    policyId = created.body.id;
    const published = await stack.api.request<{ revision: number }>('POST', `/policies/${policyId}/versions/1/publish`, { scope: 'tenant', mode: 'enforce' });
    expect(published.status).toBe(200);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const found = (await workers()).find((facts) => facts.id === first.id);
      if (found && found.policyRevision === published.body.revision && found.policyAppliedAt !== null) {
        worker = found;
        break;
      }
      if (Date.now() > deadline) throw new Error(`the worker did not apply revision ${published.body.revision}: ${JSON.stringify(found)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    harness = await launchBrowser(stack.controlPlane.httpUrl);
    page = harness.page;
    await bootstrapAdminSession(harness, stack, admin);
  });

  afterAll(async () => {
    await harness?.close();
    await stack?.stop();
  });

  it('lists the stack\'s worker online, with its version, pools, load and the central policy it applied', async () => {
    await page.goto('/fleet');
    await page.getByRole('heading', { name: 'Fleet', level: 1 }).waitFor();
    const row = rowOf(worker.id);
    await row.waitFor();
    expect(await row.locator('[data-worker-state]').textContent()).toBe('Online');
    const text = (await row.textContent()) ?? '';
    expect(text).toContain(nameOf(worker));
    expect(text).toContain('build');
    expect(text).toMatch(/0 \/ 1/);
    expect(text).toContain(`revision ${worker.policyRevision}`);
    expect(text).toContain('max-files-changed');
    // Relative, with the exact time for the mouse (title) and for screen readers (hidden text).
    expect(await row.locator('time').first().getAttribute('title')).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).isVisible()).resolves.toBe(true);
  });

  it('drains and undrains the worker, and follows changes made elsewhere live, without a reload', async () => {
    await page.goto('/fleet');
    await waitForLive();
    const row = rowOf(worker.id);
    await row.waitFor();
    // A reload would drop this mark: its survival shows the rows changed in place.
    await page.evaluate('window.airlockNoReloadMark = true');

    await row.getByRole('button', { name: `Drain ${nameOf(worker)}` }).click();
    await row.locator('[data-worker-state="draining"]').waitFor();
    await page.getByRole('status').filter({ hasText: 'is draining' }).waitFor();
    await row.getByRole('button', { name: `Undrain ${nameOf(worker)}` }).click();
    await row.locator('[data-worker-state="online"]').waitFor();

    // The same through the API, as another admin would: the page hears of it on the event stream.
    expect((await stack.api.request('POST', `/workers/${worker.id}/drain`)).status).toBe(200);
    await row.locator('[data-worker-state="draining"]').waitFor({ timeout: 10_000 });
    expect((await stack.api.request('POST', `/workers/${worker.id}/undrain`)).status).toBe(200);
    await row.locator('[data-worker-state="online"]').waitFor({ timeout: 10_000 });
    expect(await page.evaluate('window.airlockNoReloadMark')).toBe(true);
  });

  it('shows the worker\'s trust view: what it may send at its metadata level, field by field, and the policy layers it applied', async () => {
    await page.goto('/fleet');
    await rowOf(worker.id).getByRole('link', { name: nameOf(worker) }).click();
    await page.getByRole('heading', { name: `Worker ${nameOf(worker)}`, level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/fleet/workers/${worker.id}`);

    const allowed = page.getByRole('region', { name: 'What this worker may send at its metadata level' });
    await allowed.locator('table').waitFor();
    const allowedText = (await allowed.textContent()) ?? '';
    expect(allowedText).toContain('airlock-worker policy show');
    expect(allowedText).toContain('airlock-worker audit verify');
    expect(allowedText).toMatch(/Metadata level Standard/);
    expect(await allowed.locator('tbody tr').count()).toBeGreaterThan(20);
    const promptTokens = allowed.locator('tr[data-field="tokens.promptTokens"]');
    expect(await promptTokens.locator('td').allTextContents()).toEqual(['uint32', 'yes', 'As measured', 'Sent as measured.']);

    const policy = page.getByRole('region', { name: 'Central policy it applied' });
    expect(await policy.textContent()).toContain(`Revision ${worker.policyRevision}`);
    expect(await policy.getByRole('link', { name: 'fleet-baseline' }).getAttribute('href')).toBe(`/policies/${policyId}`);
    await saveScreenshot(page, 'worker-trust');
  });

  it('creates an enrollment token, shows it once with the enroll command, refuses a bad pool in the server\'s words, and revokes an unused token', async () => {
    await harness.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.controlPlane.httpUrl });
    await page.goto('/fleet/enrollment-tokens');
    await page.getByRole('heading', { name: 'Enrollment tokens', level: 1 }).waitFor();
    const form = page.getByRole('region', { name: 'New enrollment token' });

    // The server names the field it refuses; the form shows that under the input.
    await form.getByLabel('Pool (optional)').fill('Not A Pool');
    await form.getByRole('button', { name: 'Create enrollment token' }).click();
    await form.locator('.field-error').filter({ hasText: 'expected a pool label' }).waitFor();
    expect(await form.getByLabel('Pool (optional)').getAttribute('aria-invalid')).toBe('true');

    await form.getByLabel('Expires after').selectOption({ label: '15 minutes' });
    await form.getByLabel('Pool (optional)').fill('gpu');
    await form.getByRole('button', { name: 'Create enrollment token' }).click();
    const created = page.getByRole('region', { name: /^Enrollment token [0-9a-f]{8} created$/ });
    await created.waitFor();
    const token = ((await created.locator('[data-secret="token"]').textContent()) ?? '').trim();
    expect(token).toMatch(/^aet_/);
    expect(await created.locator('[data-secret="command"]').textContent()).toBe(`airlock-worker enroll --config worker.yml --token ${token}`);
    expect(await created.textContent()).toContain('you will not see this token again');
    await created.getByRole('button', { name: 'Copy token' }).click();
    await created.getByRole('status').filter({ hasText: 'Copied.' }).first().waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(token);

    const heading = (await created.getByRole('heading').textContent()) ?? '';
    const tokenShortId = /([0-9a-f]{8})/.exec(heading)?.[1] ?? '';
    const row = page.locator('tr[data-token-id]').filter({ has: page.locator('th', { hasText: tokenShortId }) });
    await row.locator('[data-token-state="ACTIVE"]').waitFor();
    expect(await row.textContent()).toContain('gpu');
    expect(await row.textContent()).toContain(`by ${admin.displayName}`);
    await saveScreenshot(page, 'enrollment-tokens');

    // Once: the page read again has no trace of it.
    await page.reload();
    await row.waitFor();
    expect(await page.content()).not.toContain(token);

    await row.getByRole('button', { name: `Revoke token ${tokenShortId}` }).click();
    const dialog = page.getByRole('dialog', { name: `Revoke enrollment token ${tokenShortId}?` });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Revoke token' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await row.locator('[data-token-state="REVOKED"]').waitFor();
    expect(await row.getByRole('button', { name: /Revoke/ }).count()).toBe(0);
  });

  it('revokes a second worker after a confirmation saying it is final, and the worker stops', async () => {
    const throwaway: WorkerHandle = await stack.addWorker('throwaway');
    const added = (await workers()).find((facts) => facts.id !== worker.id);
    if (!added) throw new Error('the second worker is not listed');

    await page.goto('/fleet');
    const row = rowOf(added.id);
    await row.locator('[data-worker-state="online"]').waitFor();
    const revokeButton = row.getByRole('button', { name: `Revoke ${nameOf(added)}` });

    // Keyboard: the dialog opens with focus on Cancel, and Escape leaves the worker as it was.
    await revokeButton.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: `Revoke worker ${nameOf(added)}?` });
    await dialog.waitFor();
    const said = (await dialog.textContent()) ?? '';
    expect(said).toContain('Revoking is final');
    expect(said).toContain('enrolled anew');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Cancel');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await row.locator('[data-worker-state]').textContent()).toBe('Online');

    await revokeButton.click();
    await dialog.getByRole('button', { name: 'Revoke worker' }).click();
    await row.locator('[data-worker-state="revoked"]').waitFor();
    expect(await row.getByRole('button').filter({ hasText: /Drain|Undrain|Revoke/ }).count()).toBe(0);
    await page.getByRole('status').filter({ hasText: `Worker ${nameOf(added)} is revoked.` }).waitFor();

    // Its stream was ended and every later Hello is refused: the daemon exits with 5.
    await throwaway.process.waitForExit();
    expect(throwaway.process.exitCode).toBe(5);
    expect(await rowOf(worker.id).locator('[data-worker-state]').textContent()).toBe('Online');
    await saveScreenshot(page, 'fleet');
  });

  it('shows a viewer no fleet controls and no audit log, and the API refuses the viewer a revoke with 403 FORBIDDEN', async () => {
    await createPerson(stack, viewer, 'VIEWER');
    await signOut(page);
    await signIn(page, viewer);

    await page.goto('/fleet');
    await rowOf(worker.id).waitFor();
    expect(await page.getByRole('button', { name: /^(Drain|Undrain|Revoke)/ }).count()).toBe(0);
    expect(await page.getByRole('columnheader', { name: 'Actions' }).count()).toBe(0);
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).count()).toBe(0);

    await page.goto('/fleet/enrollment-tokens');
    await page.locator('tr[data-token-id]').first().waitFor();
    expect(await page.getByRole('button', { name: 'Create enrollment token' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /Revoke/ }).count()).toBe(0);

    // The buttons are hidden, and the server refuses anyway: a revoke sent from the viewer's page, CSRF token and all.
    const refused = await page.evaluate(async (workerId: string) => {
      const session = (await (await fetch('/api/v1/auth/session')).json()) as { csrfToken: string };
      const response = await fetch(`/api/v1/workers/${workerId}/revoke`, { method: 'POST', headers: { 'X-CSRF-Token': session.csrfToken } });
      return { status: response.status, body: (await response.json()) as { code?: string; message?: string } };
    }, worker.id);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('FORBIDDEN');
    expect((await workers()).find((facts) => facts.id === worker.id)?.revoked).toBe(false);

    await page.goto('/audit');
    await page.getByRole('heading', { name: 'Audit log', level: 1 }).waitFor();
    expect(await page.getByText('needs the audit:read scope').isVisible()).toBe(true);
    expect(await page.locator('table').count()).toBe(0);

    await signOut(page);
    await signIn(page, admin);
  });

  it('shows the audit log newest first with the fleet\'s actions, filters by family in the address, verifies the chain and exports', async () => {
    await page.goto('/audit');
    await page.getByRole('heading', { name: 'Audit log', level: 1 }).waitFor();
    await page.locator('tr[data-seq]').first().waitFor();
    const actions = await page.locator('tr[data-seq]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-action')));
    for (const action of ['worker.revoked', 'worker.drained', 'worker.undrained', 'enrollment-token.created', 'enrollment-token.revoked', 'user.created', 'policy.published']) {
      expect(actions).toContain(action);
    }
    const seqs = await page.locator('tr[data-seq]').evaluateAll((rows) => rows.map((row) => Number(row.getAttribute('data-seq'))));
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    const revoked = page.locator('tr[data-action="worker.revoked"]');
    expect(await revoked.textContent()).toContain(admin.displayName);
    expect(await revoked.textContent()).toContain('liveAttempts');

    await page.getByRole('button', { name: 'Verify chain' }).click();
    const verified = page.getByRole('status').filter({ hasText: 'The chain is intact' });
    await verified.waitFor();
    expect(await verified.textContent()).toMatch(/all \d+ entries link to the one before/);
    await saveScreenshot(page, 'audit-log');

    // "Older" pages by sequence number, in the address like the filters.
    await page.goto('/audit?before=5');
    await page.locator('tr[data-seq="4"]').waitFor();
    expect(await page.locator('tr[data-seq]').evaluateAll((rows) => rows.map((row) => Number(row.getAttribute('data-seq'))))).toEqual([4, 3, 2, 1]);
    await page.getByRole('navigation', { name: 'Pages of the audit log' }).getByRole('link', { name: 'Newest entries' }).click();
    await page.locator(`tr[data-seq="${seqs[0] ?? 0}"]`).waitFor();

    await page.getByLabel('Action', { exact: true }).selectOption('worker.');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL((url) => url.searchParams.get('action') === 'worker.');
    // The unfiltered rows go, the filtered ones come.
    await page.locator('tr[data-seq]:not([data-action^="worker."])').first().waitFor({ state: 'detached' });
    await page.locator('tr[data-action="worker.revoked"]').waitFor();
    const filtered = await page.locator('tr[data-seq]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-action') ?? ''));
    expect(filtered.length).toBeGreaterThanOrEqual(5);
    expect(filtered.every((action) => action.startsWith('worker.'))).toBe(true);

    expect(await page.getByRole('link', { name: 'JSON Lines' }).getAttribute('href')).toBe('/api/v1/audit-log/export?format=jsonl&action=worker.');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'CSV' }).click()]);
    expect(download.suggestedFilename()).toBe('airlock-audit-log.csv');
    const csv = readFileSync(await download.path(), 'utf8').trim().split(/\r?\n/);
    expect(csv[0]).toBe('seq,at,actorKind,actorId,actorName,action,target,details,sourceIp,prevHash,hash');
    expect(csv.slice(1).every((line) => line.includes(',worker.'))).toBe(true);
    expect(csv.length - 1).toBe(filtered.length);
  });

  it('has no serious or critical accessibility violations on the fleet, worker, enrollment token and audit pages (axe-core)', async () => {
    const audits = {
      fleet: await seriousAccessibilityViolations(harness, '/fleet', (audited) => audited.locator(`tr[data-worker-id="${worker.id}"]`).waitFor()),
      revokeDialog: await seriousAccessibilityViolations(harness, '/fleet', async (audited) => {
        await audited.locator(`tr[data-worker-id="${worker.id}"]`).getByRole('button', { name: /^Revoke/ }).click();
        await audited.getByRole('dialog').waitFor();
      }),
      worker: await seriousAccessibilityViolations(harness, `/fleet/workers/${worker.id}`, (audited) => audited.locator('table.allowed-fields').waitFor()),
      enrollmentTokens: await seriousAccessibilityViolations(harness, '/fleet/enrollment-tokens', (audited) => audited.locator('tr[data-token-id]').first().waitFor()),
      audit: await seriousAccessibilityViolations(harness, '/audit', (audited) => audited.locator('tr[data-seq]').first().waitFor()),
    };
    expect(audits).toEqual({ fleet: [], revokeDialog: [], worker: [], enrollmentTokens: [], audit: [] });
  });

  it('broke no rule of the dashboard\'s Content-Security-Policy and threw nothing in the page', () => {
    // The API speaking, not faults: the 400 refusing the bad pool, the 401 of the session probe
    // after logging out, and the 403 refusing the viewer's deliberate revoke.
    const faults = harness.pageErrors.filter((text) => !/status of 40[013]/.test(text));
    expect(faults).toEqual([]);
  });
});
