import type { Locator, Page } from 'playwright-core';
import { startE2eStack, type E2eStack } from '../support/e2e-stack';
import { assertDashboardBuilt, launchBrowser, saveScreenshot, seriousAccessibilityViolations, type BrowserHarness } from './browser-harness';
import { bootstrapAdminSession, createPerson, signIn, signOut, type TestPerson } from './browser-session';

interface TableRow {
  readonly cells: ArrayLike<{ readonly textContent: string | null }>;
}

/**
 * The policy screens in a real browser against the local stack: a policy written in the
 * editor (its mistakes placed at their lines), a second version and the diff between the
 * two, a publish to the tenant that the stack's real worker applies, and the rollout page
 * showing it do so.
 */
describe('the policy screens in a browser', () => {
  const admin: TestPerson = { email: 'barbara@example.com', displayName: 'Barbara Liskov', password: 'a long admin password' };
  const viewer: TestPerson = { email: 'vic@example.com', displayName: 'Vic Viewer', password: 'a long viewer password' };
  const policyName = 'payments-baseline';
  let stack: E2eStack;
  let harness: BrowserHarness;
  let page: Page;
  let workerId: string;
  let policyId: string;

  const documentEditor = () => page.getByLabel('Document', { exact: true });
  const problems = () => page.locator('.editor-problems');
  /** The text of each cell of each row, spaces collapsed. (This project has no DOM types: a row is described by what is read of it.) */
  const cellsOf = (rows: Locator) =>
    rows.evaluateAll((elements) =>
      elements.map((row) => Array.from((row as unknown as TableRow).cells, (cell) => (cell.textContent ?? '').replace(/\s+/g, ' ').trim())),
    );
  /** The 1-based line of the first line of `text` that contains `needle`. */
  const lineOf = (text: string, needle: string) => text.split('\n').findIndex((line) => line.includes(needle)) + 1;

  beforeAll(async () => {
    assertDashboardBuilt();
    stack = await startE2eStack('policies', { workerLabels: ['payments'] });
    const [worker] = await stack.api.workers();
    if (!worker) throw new Error('the stack has no worker');
    workerId = worker.id;
    harness = await launchBrowser(stack.controlPlane.httpUrl);
    page = harness.page;
    await bootstrapAdminSession(harness, stack, admin);
  });

  afterAll(async () => {
    await harness?.close();
    await stack?.stop();
  });

  it('lists no policy and revision 0 before anything is published', async () => {
    await page.goto('/jobs');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Policies' }).click();
    await page.getByRole('heading', { name: 'Policies', level: 1 }).waitFor();
    await page.getByText('revision 0', { exact: false }).waitFor();
    expect(await page.getByText('No layer is in force.').isVisible()).toBe(true);
    expect(await page.getByText('No policy yet.', { exact: false }).isVisible()).toBe(true);
  });

  it('creates a policy in the editor: a syntax error and a wrong value are shown at their lines, and the fixed document is saved', async () => {
    await page.getByRole('link', { name: 'New policy' }).click();
    await page.getByRole('heading', { name: 'New policy', level: 1 }).waitFor();
    const template = await documentEditor().inputValue();
    // The example of docs/policy.md.
    expect(template).toContain('"max-files-changed": { "max": 10 }');
    await page.getByLabel('Name').fill(policyName);

    // A trailing comma: caught here, before anything is sent, with its line and column.
    const trailingComma = template.replace('"metadata-level": { "report": "minimal" }', '"metadata-level": { "report": "minimal" },');
    await documentEditor().fill(trailingComma);
    await page.getByRole('button', { name: 'Create policy' }).click();
    await problems().getByText('The text is not JSON').waitFor();
    const closingLine = lineOf(trailingComma, '"metadata-level"') + 1;
    expect(await problems().getByRole('button').textContent()).toBe(`Line ${closingLine}, column 3`);
    expect(await problems().textContent()).toContain('JSON allows no trailing comma');

    // A value the schema refuses: the control plane names the field, the editor shows it at its line.
    const invalid = template.replace('"max": 10', '"max": 0');
    await documentEditor().fill(invalid);
    await page.getByRole('button', { name: 'Create policy' }).click();
    await problems().getByText('The control plane refused the document').waitFor();
    const maxLine = lineOf(invalid, '"max": 0');
    const lineButton = problems().getByRole('button', { name: `Line ${maxLine}` });
    await lineButton.waitFor();
    expect(await problems().locator('li').first().textContent()).toBe(`Line ${maxLine} rules.max-files-changed.max: expected at least 1`);
    expect(await documentEditor().getAttribute('aria-invalid')).toBe('true');
    const describedBy = (await documentEditor().getAttribute('aria-describedby')) ?? '';
    expect(describedBy.split(' ')).toContain(await problems().getAttribute('id'));
    // The line numbers beside the text mark the same line.
    expect(await page.locator('.gutter-problem').allTextContents()).toEqual([`⚠ ${maxLine}`]);
    // The problem's line is a button that puts the cursor on that line of the text.
    await lineButton.click();
    const caret = await documentEditor().evaluate((element) => {
      const textarea = element as unknown as { selectionStart: number; value: string; ownerDocument: { activeElement: unknown } };
      return { focused: textarea.ownerDocument.activeElement === element, line: textarea.value.slice(0, textarea.selectionStart).split('\n').length };
    });
    expect(caret).toEqual({ focused: true, line: maxLine });
    await saveScreenshot(page, 'policy-editor');

    await documentEditor().fill(template);
    await page.getByRole('button', { name: 'Create policy' }).click();
    await page.getByRole('heading', { name: policyName, level: 1 }).waitFor();
    policyId = new URL(page.url()).pathname.split('/').pop() ?? '';
    expect(policyId).toMatch(/^[0-9a-f-]{36}$/);
    await page.getByRole('status').filter({ hasText: `Created the policy ${policyName} with its version 1.` }).waitFor();
    expect(await page.locator('tr[data-version]').count()).toBe(1);
    expect(await page.getByText('There is one version only').isVisible()).toBe(true);
  });

  it('adds version 2 from version 1, with a comment, and shows what changed between them', async () => {
    await page.getByRole('link', { name: 'New version' }).click();
    await page.getByRole('heading', { name: `New version of ${policyName}`, level: 1 }).waitFor();
    const version1 = await documentEditor().inputValue();
    expect(version1).toContain('"max-files-changed": { "max": 10 }');
    const version2 = version1
      .replace('"max-files-changed": { "max": 10 }', '"max-files-changed": { "max": 5 },\n    "tests-must-pass": { "required": true }')
      .replace(/\n {2}"description": .*,/, '');
    await documentEditor().fill(version2);
    await page.getByLabel('Comment').fill('Smaller changes, tests required');
    await page.getByRole('button', { name: 'Save version 2' }).click();

    await page.getByRole('heading', { name: policyName, level: 1 }).waitFor();
    await page.getByRole('status').filter({ hasText: 'Saved version 2.' }).waitFor();
    expect(new URL(page.url()).search).toBe('?from=1&to=2');
    const row = page.locator('tr[data-version="2"]');
    expect(await row.textContent()).toContain('Smaller changes, tests required');
    expect(await row.textContent()).toContain(admin.displayName);

    const diff = page.locator('table.diff-table');
    await diff.waitFor();
    expect(await cellsOf(diff.locator('tbody tr'))).toEqual([
      ['− Removed', 'description', '"Payments: no dependency changes, no CI edits, small changes only"'],
      ['~ Changed', 'rules.max-files-changed.max', '10 → becomes 5'],
      ['+ Added', 'rules.tests-must-pass', '{ "required": true }'],
    ]);
    expect(await diff.locator('tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-change')))).toEqual(['removed', 'changed', 'added']);
    expect(await page.getByRole('status').filter({ hasText: 'From version 1 to version 2: 1 added, 1 removed, 1 changed.' }).count()).toBe(1);
    await saveScreenshot(page, 'policy-diff');

    // Any two, either way round: from 2 to 1 the addition is a removal.
    await page.getByLabel('From version', { exact: true }).selectOption('2');
    await page.getByLabel('To version', { exact: true }).selectOption('1');
    await page.locator('table.diff-table tr[data-change="removed"][data-path="rules.tests-must-pass"]').waitFor();
    expect(new URL(page.url()).search).toBe('?from=2&to=1');
  });

  it('publishes version 2 to the tenant in enforce mode after a confirmation, and the rollout shows the worker applying it', async () => {
    await page.getByRole('link', { name: 'Version 2', exact: true }).click();
    await page.getByRole('heading', { name: `${policyName} — version 2`, level: 1 }).waitFor();
    expect(await page.getByLabel('The document of version 2').textContent()).toContain('"tests-must-pass": { "required": true }');
    const publish = page.getByRole('region', { name: 'Publish version 2' });
    expect(await publish.getByRole('radio', { name: 'Tenant' }).isChecked()).toBe(true);

    // A pool label the server refuses: its words, under the field they name; nothing is published.
    await publish.getByRole('radio', { name: 'Pool' }).check();
    await publish.getByLabel('Pool label').fill('Not A Pool');
    await publish.getByRole('button', { name: 'Publish version 2…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Publish' }).click();
    await publish.locator('.field-error').filter({ hasText: 'expected a pool label or repository alias' }).waitFor();
    expect(await publish.getByLabel('Pool label').getAttribute('aria-invalid')).toBe('true');
    expect((await stack.api.request<{ revision: number }>('GET', '/policy')).body.revision).toBe(0);

    await publish.getByRole('radio', { name: 'Tenant' }).check();
    await publish.getByRole('radio', { name: 'Enforce' }).check();

    await publish.getByRole('button', { name: 'Publish version 2…' }).click();
    const dialog = page.getByRole('dialog', { name: `Publish ${policyName} version 2?` });
    await dialog.waitFor();
    const said = (await dialog.textContent()) ?? '';
    expect(said).toContain('becomes enforced for the whole tenant');
    expect(said).toContain('This makes revision 1');
    await dialog.getByRole('button', { name: 'Publish' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const published = publish.getByRole('status');
    await published.getByText('Published as').waitFor();
    expect((await published.textContent())?.replace(/\s+/g, ' ')).toContain('Published as revision 1: version 2 is enforced for the whole tenant. Sent to 1 connected worker.');
    await page.locator('.summary').getByText('Tenant').waitFor();
    await saveScreenshot(page, 'policy-version');

    await published.getByRole('link', { name: 'Follow the rollout' }).click();
    await page.getByRole('heading', { name: 'Policy rollout', level: 1 }).waitFor();
    const row = page.locator(`tr[data-worker-id="${workerId}"]`);
    // The worker acknowledges within a second or so; the page reads the rollout again every 10 s.
    await page.locator(`tr[data-worker-id="${workerId}"][data-applied-revision="1"]`).waitFor({ timeout: 15_000 });
    expect(await row.getByText('Up to date').isVisible()).toBe(true);
    expect(await row.textContent()).toContain('payments');
    await page.getByRole('status').filter({ hasText: 'Revision 1 is current: 1 of 1 worker up to date.' }).waitFor();
    // The document allows repositories the worker's catalog lacks: its own config keeps that rule stricter, and says so.
    expect(await row.textContent()).toContain('repositories');
    await saveScreenshot(page, 'policy-rollout');

    await page.getByRole('link', { name: 'Policies', exact: true }).first().click();
    await page.getByRole('heading', { name: 'Policies', level: 1 }).waitFor();
    const layer = page.locator('tr[data-layer="tenant//enforce"]');
    await layer.waitFor();
    expect((await cellsOf(layer)).flat().slice(0, 6)).toEqual(['Tenant', 'Enforced', policyName, '2', '1', admin.displayName]);
    await page.getByText('1 of 1 worker runs it.').waitFor();
    expect(await page.locator(`tr[data-policy-id="${policyId}"]`).textContent()).toContain('Version 2 · Tenant · Enforced');
    await saveScreenshot(page, 'policies');
  });

  it('withdraws the layer only once confirmed, as the next revision', async () => {
    const layer = page.locator('tr[data-layer="tenant//enforce"]');
    await layer.getByRole('button', { name: 'Withdraw the enforce layer of the whole tenant' }).click();
    const dialog = page.getByRole('dialog', { name: 'Withdraw this layer?' });
    await dialog.waitFor();
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Cancel');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await layer.isVisible()).toBe(true);

    await layer.getByRole('button', { name: /^Withdraw/ }).click();
    await dialog.getByRole('button', { name: 'Withdraw layer' }).click();
    await page.getByRole('status').filter({ hasText: `Withdrew ${policyName} version 2 from the whole tenant (enforce) as revision 2` }).waitFor();
    await page.getByText('No layer is in force.').waitFor();
    expect((await stack.api.request<{ revision: number; layers: unknown[] }>('GET', '/policy')).body).toEqual({ revision: 2, layers: [] });
  });

  it('has no serious or critical accessibility violations on the list, editor, policy, version and rollout pages (axe-core)', async () => {
    const audits = {
      list: await seriousAccessibilityViolations(harness, '/policies', (audited) => audited.locator(`tr[data-policy-id="${policyId}"]`).waitFor()),
      editor: await seriousAccessibilityViolations(harness, `/policies/${policyId}/versions/new`, (audited) => audited.getByLabel('Comment').waitFor()),
      editorWithProblems: await seriousAccessibilityViolations(harness, '/policies/new', async (audited) => {
        await audited.getByLabel('Name').fill('broken');
        await audited.getByLabel('Document', { exact: true }).fill('{ "schemaVersion": 2, "rules": {} }');
        await audited.getByRole('button', { name: 'Create policy' }).click();
        await audited.locator('.editor-problems li').first().waitFor();
      }),
      policy: await seriousAccessibilityViolations(harness, `/policies/${policyId}?from=1&to=2`, (audited) => audited.locator('table.diff-table').waitFor()),
      version: await seriousAccessibilityViolations(harness, `/policies/${policyId}/versions/2`, (audited) => audited.getByRole('region', { name: 'Publish version 2' }).waitFor()),
      publishDialog: await seriousAccessibilityViolations(harness, `/policies/${policyId}/versions/2`, async (audited) => {
        await audited.getByRole('button', { name: 'Publish version 2…' }).click();
        await audited.getByRole('dialog').waitFor();
      }),
      rollout: await seriousAccessibilityViolations(harness, '/policies/rollout', (audited) => audited.locator(`tr[data-worker-id="${workerId}"]`).waitFor()),
    };
    expect(audits).toEqual({ list: [], editor: [], editorWithProblems: [], policy: [], version: [], publishDialog: [], rollout: [] });
  });

  it('shows a viewer the policies, versions, diff and rollout but no way to change them', async () => {
    await createPerson(stack, viewer, 'VIEWER');
    await signOut(page);
    await signIn(page, viewer);

    await page.goto('/policies');
    await page.locator(`tr[data-policy-id="${policyId}"]`).waitFor();
    expect(await page.getByRole('link', { name: 'New policy' }).count()).toBe(0);

    await page.goto(`/policies/${policyId}/versions/2`);
    await page.getByLabel('The document of version 2').waitFor();
    expect(await page.getByRole('region', { name: 'Publish version 2' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'New version from this one' }).count()).toBe(0);

    await page.goto(`/policies/${policyId}`);
    await page.locator('table.diff-table').waitFor();
    expect(await page.getByRole('link', { name: 'New version' }).count()).toBe(0);

    await page.goto('/policies/new');
    await page.getByText('Writing policies takes the policy:write scope').waitFor();
    expect(await page.getByLabel('Document', { exact: true }).count()).toBe(0);

    await page.goto('/policies/rollout');
    await page.locator(`tr[data-worker-id="${workerId}"]`).waitFor();

    await signOut(page);
  });

  it('broke no rule of the dashboard\'s Content-Security-Policy and threw nothing in the page', () => {
    // The 400s of the refused documents and the 401 of the session probe after logging out are the API speaking.
    const faults = harness.pageErrors.filter((text) => !/status of 40[01]/.test(text));
    expect(faults).toEqual([]);
  });
});
