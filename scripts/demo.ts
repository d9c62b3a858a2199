/**
 * `npm run demo`: boots the embedded default (control plane with embedded PostgreSQL, one
 * enrolled worker, the local inference server, a demo repository on a local git server),
 * publishes a baseline central policy, hands the worker a real ticket, prints progress phase
 * by phase, and shows the pushed branch's diff from the customer's side next to what the
 * control plane holds. Then it keeps everything running, dashboard included, until Ctrl-C.
 *
 * Flags: --once (stop once the job has ended, exiting 0 only if it succeeded), --dir <path>
 * (state folder, default .airlock/demo, wiped at start), --apps <path> (run the control plane
 * and the worker from the bundles `npm run build` made there, e.g. dist/apps, instead of from
 * their TypeScript sources).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEMO_BRANCH_BASE, DEMO_REPO_ALIAS, DEMO_TICKET, startLocalStack, type ControlPlaneApiClient, type JobView } from '@airlock/local-stack';

const args = process.argv.slice(2);
const once = args.includes('--once');
const dirFlag = args.indexOf('--dir');
const baseDir = resolve(dirFlag >= 0 && args[dirFlag + 1] ? args[dirFlag + 1]! : '.airlock/demo');
const appsFlag = args.indexOf('--apps');

/** The folder `--apps` names, refused unless it holds both bundled apps. */
function bundledApps(dir: string | undefined): string {
  if (dir === undefined || dir.startsWith('--')) throw new Error('--apps expects the folder `npm run build` wrote, e.g. dist/apps');
  const apps = resolve(dir);
  const missing = ['control-plane', 'worker'].filter((app) => !existsSync(join(apps, app, 'main.js')));
  if (missing.length > 0) throw new Error(`--apps ${dir}: no ${missing.map((app) => `${app}/main.js`).join(' or ')} there; run npm run build first`);
  return apps;
}

const bold = (text: string): string => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const stamp = (): string => new Date().toISOString().slice(11, 19);

const phaseStartedAt = new Map<string, number>();

const DEMO_ADMIN_EMAIL = 'admin@airlock.local';

/** A tenant baseline the demo fix passes, so the dashboard's policy and rollout screens have one to show. */
const DEMO_POLICY = {
  schemaVersion: 1,
  description: 'Demo baseline: small changes, no secrets, no dependency or CI edits, tests must pass',
  rules: {
    'protected-paths': { paths: ['.airlock.yml', '.github/**', 'deploy/**'] },
    'max-files-changed': { max: 10 },
    'max-lines-changed': { max: 400 },
    secrets: { enabled: true },
    'dependency-manifests': { allowChanges: false },
    'tests-must-pass': { required: true },
  },
};
const POLICY_APPLIED_TIMEOUT_MS = 15_000;

/**
 * Illustrative assumptions for the analytics screen, so the demo job shows a cost and hours
 * saved rather than zeros; a manager replaces them under Analytics → Settings.
 */
const DEMO_ANALYTICS_SETTINGS = {
  currency: 'USD',
  pricePer1kTokens: 0.002,
  modelPrices: [],
  monthlyBudget: 500,
  hoursSavedPerDeliveredChange: { fix: 1.5, noop: 0 },
  minimumGroupSize: 5,
};

/** Publishes DEMO_POLICY to the tenant and waits until every connected worker applied it. */
async function publishDemoPolicy(api: ControlPlaneApiClient): Promise<number> {
  const created = await api.request<{ id?: string; message?: string }>('POST', '/policies', { name: 'demo baseline', document: DEMO_POLICY });
  if (created.status !== 201 || !created.body.id) throw new Error(`creating the demo policy answered ${created.status}: ${created.body.message ?? ''}`);
  const published = await api.request<{ revision?: number; message?: string }>('POST', `/policies/${created.body.id}/versions/1/publish`, { scope: 'tenant', mode: 'enforce' });
  const revision = published.body.revision;
  if (published.status !== 200 || revision === undefined) throw new Error(`publishing the demo policy answered ${published.status}: ${published.body.message ?? ''}`);
  const deadline = Date.now() + POLICY_APPLIED_TIMEOUT_MS;
  for (;;) {
    const rollout = await api.request<{ workers: { status: string; upToDate: boolean }[] }>('GET', '/policy/rollout');
    const online = rollout.body.workers.filter((worker) => worker.status === 'ONLINE');
    if (online.length > 0 && online.every((worker) => worker.upToDate)) return revision;
    if (Date.now() > deadline) throw new Error(`the worker did not apply policy revision ${revision} within ${POLICY_APPLIED_TIMEOUT_MS / 1_000} s`);
    await new Promise((resolveTimer) => setTimeout(resolveTimer, 100));
  }
}

/**
 * Creates the dashboard's first admin through POST /api/v1/auth/bootstrap with a random
 * password, kept only in `passwordFile` (mode 0600) and never printed. The password is
 * written beside the file first and moved into place once the admin exists, so a failed
 * call leaves nothing behind and an admin that exists already (409) keeps the file as it is.
 */
async function createFirstAdmin(httpUrl: string, bootstrapTokenFile: string, passwordFile: string): Promise<'created' | 'existed'> {
  const password = randomBytes(24).toString('base64url');
  const pending = `${passwordFile}.pending`;
  // A leftover of an interrupted run would keep its own mode: start from no file.
  rmSync(pending, { force: true });
  writeFileSync(pending, `${password}\n`, { mode: 0o600 });
  try {
    const response = await fetch(`${httpUrl}/api/v1/auth/bootstrap`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ bootstrapToken: readFileSync(bootstrapTokenFile, 'utf8').trim(), email: DEMO_ADMIN_EMAIL, displayName: 'Demo admin', password }),
    });
    if (response.status === 409) return 'existed';
    if (response.status !== 201) {
      const { code } = (await response.json().catch(() => ({}))) as { code?: string };
      throw new Error(`creating the first admin answered ${response.status}${code ? ` ${code}` : ''}`);
    }
    renameSync(pending, passwordFile);
    return 'created';
  } finally {
    rmSync(pending, { force: true });
  }
}

function describeEvent(event: JobView['events'][number]): string {
  const parts = [event.type.toLowerCase().replace(/_/g, ' ')];
  if (event.phase) parts.push(event.phase.replace(/^PHASE_/, '').toLowerCase());
  if (event.attempt) parts.push(`(attempt ${event.attempt})`);
  if (event.failureCode) parts.push(`→ ${event.failureCode}`);
  const phaseKey = `${event.attempt}/${event.phase}`;
  if (event.type === 'PHASE_STARTED') phaseStartedAt.set(phaseKey, Date.parse(event.at));
  const started = phaseStartedAt.get(phaseKey);
  if (event.type !== 'PHASE_STARTED' && started !== undefined) parts.push(`${Date.parse(event.at) - started} ms`);
  return parts.join(' ');
}

/** Lays two blocks of text next to each other, each cut to its column's width. */
function sideBySide(leftTitle: string, left: string, rightTitle: string, right: string): string {
  const total = Math.max(100, Math.min(process.stdout.columns || 160, 200));
  const width = Math.floor((total - 3) / 2);
  const fit = (line: string): string => (line.length > width ? `${line.slice(0, width - 1)}…` : line.padEnd(width));
  const leftLines = [leftTitle, '─'.repeat(width), ...left.split('\n')];
  const rightLines = [rightTitle, '─'.repeat(width), ...right.split('\n')];
  const rows = Math.max(leftLines.length, rightLines.length);
  return Array.from({ length: rows }, (_, i) => `${fit(leftLines[i] ?? '')} │ ${rightLines[i] ?? ''}`).join('\n');
}

async function main(): Promise<void> {
  const bundledAppsDir = appsFlag >= 0 ? bundledApps(args[appsFlag + 1]) : undefined;
  rmSync(baseDir, { recursive: true, force: true });
  console.log(bold('Airlock demo — the embedded default, every piece a real process on this machine\n'));
  if (bundledAppsDir !== undefined) console.log(`  ${stamp()}  control plane and worker run from the bundles in ${bundledAppsDir}`);
  const canary = `AIRLOCK-CANARY-${randomBytes(6).toString('hex')}`;
  const stack = await startLocalStack({
    baseDir,
    canary,
    // The customer's forge: a double of ours speaking GitLab's REST API, so the fix ends as a merge request.
    forge: { flavour: 'gitlab', labels: ['airlock'], reviewers: ['alice'] },
    ...(bundledAppsDir === undefined ? {} : { bundledAppsDir }),
    onProgress: (line) => console.log(`  ${stamp()}  ${line}`),
  });
  let exitCode = 1;
  try {
    const adminPasswordFile = join(baseDir, 'admin-password');
    const admin = await createFirstAdmin(stack.controlPlane.httpUrl, stack.adminTokenFile, adminPasswordFile);
    const dashboard = `dashboard ${stack.controlPlane.httpUrl}/ — log in as ${DEMO_ADMIN_EMAIL} with the password in ${adminPasswordFile}`;
    console.log(`  ${stamp()}  ${admin === 'created' ? 'first admin created;' : 'first admin exists;'} ${dashboard}`);

    const revision = await publishDemoPolicy(stack.api);
    console.log(`  ${stamp()}  central policy "demo baseline" published as revision ${revision}; the worker applied it`);
    const settings = await stack.api.request<{ message?: string }>('PUT', '/analytics/settings', DEMO_ANALYTICS_SETTINGS);
    if (settings.status !== 200) throw new Error(`setting the demo's analytics assumptions answered ${settings.status}: ${settings.body.message ?? ''}`);
    console.log(`  ${stamp()}  analytics assumptions set for the demo: $0.002 per 1k tokens, 1.5 h saved per delivered fix, $500 a month`);

    console.log(`\n${bold('Ticket')}: ${DEMO_TICKET.title}`);
    const created = await stack.api.createFixJob({ repoAlias: DEMO_REPO_ALIAS, baseRef: DEMO_BRANCH_BASE, ticket: DEMO_TICKET });
    console.log(`  ${stamp()}  job ${created.id} created through POST /api/v1/jobs\n`);

    let printed = 0;
    const job = await stack.api.waitForTerminalJob(created.id, 5 * 60_000, (update) => {
      for (const event of update.events.slice(printed)) console.log(`  ${event.at.slice(11, 23)}  ${describeEvent(event)}`);
      printed = update.events.length;
    });

    const branch = `airlock/${job.id}`;
    let customerSide: string;
    try {
      customerSide = execFileSync('git', ['--git-dir', stack.demoRepositoryPath, 'diff', `${DEMO_BRANCH_BASE}...${branch}`], { encoding: 'utf8' });
    } catch {
      customerSide = `(no branch ${branch}: nothing was delivered)`;
    }
    const controlPlaneSide = JSON.stringify(
      { id: job.id, status: job.status, failureCode: job.failureCode, attempts: job.attempts, result: job.result },
      null,
      2,
    );
    const mergeRequest = stack.forge?.state.mergeRequests.find((request) => request.sourceBranch === branch);
    if (mergeRequest) {
      customerSide = `Merge request !${mergeRequest.number} "${mergeRequest.title}" (${mergeRequest.sourceBranch} → ${mergeRequest.targetBranch}, labels ${mergeRequest.labels.join(', ')}, reviewer ${mergeRequest.reviewers.join(', ')})\n\n${customerSide}`;
    }
    console.log(`\n${bold(`Job ${job.status}`)}\n`);
    console.log(
      sideBySide(
        `CUSTOMER SIDE — branch ${branch} on your own git server and forge`,
        customerSide,
        'CONTROL PLANE SIDE — all Airlock holds about this job',
        controlPlaneSide,
      ),
    );
    console.log(`\nThe planted canary ${canary} is in the repository and the model's answer (left), never on the right.`);
    console.log(`Logs: ${stack.dirs.logs}`);
    exitCode = job.status === 'SUCCEEDED' ? 0 : 1;

    if (!once) {
      console.log(`\n${bold(`Dashboard: ${stack.controlPlane.httpUrl}/`)} — log in as ${DEMO_ADMIN_EMAIL} with the password in ${adminPasswordFile}`);
      console.log(`Still running (Ctrl-C to stop): REST ${stack.controlPlane.httpUrl}/api/docs, worker config ${stack.worker.configPath}`);
      console.log(`Admin API token: in ${stack.adminTokenFile} (send it as 'Authorization: Bearer …')`);
      await new Promise<void>((resolveSignal) => {
        process.once('SIGINT', resolveSignal);
        process.once('SIGTERM', resolveSignal);
      });
    }
  } finally {
    await stack.stop();
  }
  process.exitCode = exitCode;
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
