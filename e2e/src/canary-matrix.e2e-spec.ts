import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { Client } from 'pg';
import { stringify } from 'yaml';
import { DEMO_BRANCH_BASE, DEMO_JIRA_PROJECT, DEMO_REPO_ALIAS, DEMO_TRACKER_NAME, WORKSPACE_ROOT, type JobView } from '@airlock/local-stack';
import { startNatsServer, type NatsServer } from '@airlock/testing';
import { findInDatabase, findInLogs } from './support/canary-scan';
import { startE2eStack, type E2eStack } from './support/e2e-stack';
import { eventually, processesWithArgument, waitForPhaseStarted, workerIdIn } from './support/job-progress';
import { tapNats, type NatsTap } from './support/nats-tap';
import { call, writeScenario } from './support/scenario-repository';

/**
 * The canary matrix (issue 12, point 6): a unique canary in every place customer data lives —
 * the repository's file contents, file names, directory names, branch names and commit
 * messages, the worker's environment and credentials, the model's answers and tool calls,
 * setup and test output, and a ticket read by reference from the tracker — then jobs that
 * succeed, fail their tests, break policy, time out and are cancelled, on a control plane
 * backed by NATS. Afterwards everything the control plane holds or said is searched for every
 * canary: each table of its database, its log files and data folder, every REST answer the
 * tenant can read (walked from openapi.json), the Server-Sent Events stream and every NATS
 * message. Each canary must be found on the customer's side (so that missing it upstream
 * means something) and nowhere upstream; a control canary typed into the ticket of a job on
 * purpose must be found upstream (so that every scan can fail).
 *
 * Last run (about 40 s): 15 canaries (and the control canary), 5 job outcomes (and the control
 * job, cancelled while queued); scanned 29 tables (246 rows), 1 control-plane log file, its data
 * folder, 42 API responses over the 29 GET routes of openapi.json, 14.6 kB of the event stream
 * and 403 NATS messages: 0 hits. The control canary was found in 6 rows, 6 API responses, 23
 * NATS messages and the log. Each run prints its own counts.
 */

const JOB_TIMEOUT_MS = 90_000;
/** The repository's test timeout: the hanging job ends TESTS_TIMED_OUT after it. */
const TEST_TIMEOUT = '10s';

const hex = () => randomBytes(6).toString('hex');
const canaryFor = (place: string, suffix = hex()) => `AIRLOCK-CANARY-${place}-${suffix}`;

/** One canary per place, so that a hit says where it leaked from. */
const setupOutputSuffix = hex();
const testOutputSuffix = hex();
const CANARIES = {
  fileContent: canaryFor('file-content'),
  fileName: canaryFor('file-name'),
  directoryName: canaryFor('directory-name'),
  branchPrefix: canaryFor('branch-prefix'),
  branchName: canaryFor('branch-name'),
  commitMessage: canaryFor('commit-message'),
  workerEnvironment: canaryFor('worker-env'),
  forgeToken: canaryFor('forge-token'),
  trackerToken: canaryFor('tracker-token'),
  modelOutput: canaryFor('model-output'),
  toolCall: canaryFor('tool-call'),
  // Only ever printed: the repository holds the parts, never the whole canary.
  setupOutput: canaryFor('setup-output', setupOutputSuffix),
  testOutput: canaryFor('test-output', testOutputSuffix),
  ticketByReference: canaryFor('ticket-by-reference'),
} as const;
type Place = keyof typeof CANARIES | 'demoRepository';

/**
 * The positive control, planted where the control plane holds it by design: typed in by the
 * tenant into the tickets of the typed-in jobs and, lower case, as the pool of a job no worker
 * serves (a NATS subject token); and as the worker's pool label, which the worker announces on
 * connecting (the control plane logs it). The scans must find it: were they blind, they would
 * find no canary either.
 */
const CONTROL_CANARY = canaryFor('control');
const CONTROL_LABEL = CONTROL_CANARY.toLowerCase();
const UNSERVED_POOL = `${CONTROL_LABEL}-unserved`;

const CANARY_FILE = `${CANARIES.directoryName}/${CANARIES.fileName}.txt`;
const WORKER_ENV_VARIABLE = 'CUSTOMER_BUILD_SECRET';
const TICKET_KEY = `${DEMO_JIRA_PROJECT}-77`;

const TITLES = {
  byReference: 'Canary matrix: invoice discount, ticket by reference',
  testsFail: 'Canary matrix: drop the discount (tests fail)',
  policy: 'Canary matrix: touch the protected notes (policy)',
  timeout: 'Canary matrix: ledger test that hangs (timeout)',
  cancel: 'Canary matrix: ledger test that hangs (cancel)',
};
const HANG_MARKERS = { timeout: `canary-matrix-hang-timeout-${hex()}`, cancel: `canary-matrix-hang-cancel-${hex()}` };

const GIT_IDENTITY = ['-c', 'user.name=Customer', '-c', 'user.email=dev@customer.example', '-c', 'commit.gpgsign=false'];
const git = (args: readonly string[], cwd?: string) => execFileSync('git', [...GIT_IDENTITY, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...(cwd ? { cwd } : {}) });

/**
 * Commits the customer's canaries onto the demo repository's main, before the git server
 * serves it: a directory and a file named by canaries holding a third, a commit message, a
 * branch named by a canary, a setup command and a test that print canaries they assemble at
 * run time, and a short test timeout.
 */
function plantRepositoryCanaries(gitDir: string): void {
  const bare = join(gitDir, 'demo-billing.git');
  const work = mkdtempSync(join(tmpdir(), 'airlock-e2e-canary-repo-'));
  try {
    git(['clone', '--quiet', bare, work]);
    const files: Record<string, string> = {
      [CANARY_FILE]: `Customer notes: ${CANARIES.fileContent}\n`,
      '.airlock.yml': stringify({
        version: 1,
        setup: { commands: [['node', '-e', `console.log(['AIRLOCK-CANARY-setup-output', '${setupOutputSuffix}'].join('-'))`]] },
        test: {
          command: ['node', '--test', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=junit', '--test-reporter-destination=junit.xml'],
          junit: ['junit.xml'],
          timeout: TEST_TIMEOUT,
        },
      }),
      'test/canary.test.js': [
        "'use strict';",
        "const test = require('node:test');",
        "test('prints the build marker', () => {",
        `  console.log(['AIRLOCK-CANARY-test-output', '${testOutputSuffix}'].join('-'));`,
        '});',
        '',
      ].join('\n'),
    };
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(work, path)), { recursive: true });
      writeFileSync(join(work, path), content);
    }
    git(['add', '--all'], work);
    git(['commit', '--quiet', '-m', `Customer notes and build markers ${CANARIES.commitMessage}`], work);
    git(['push', '--quiet', 'origin', `HEAD:refs/heads/${DEMO_BRANCH_BASE}`, `HEAD:refs/heads/release/${CANARIES.branchName}`], work);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const fixEdit = (comment: string) => call('edit_file', { path: 'src/invoice.js', search: '  return subtotal + discount;', replace: `  // ${comment}\n  return subtotal - discount;` });
const finishWith = (summary: string) => ({ tool_calls: [call('finish', { summary })] });
const hangingTest = (marker: string) =>
  call('edit_file', {
    path: 'test/ledger.test.js',
    search: '',
    replace: [
      "'use strict';",
      "const test = require('node:test');",
      "const { spawn } = require('node:child_process');",
      "test('waits for the ledger service', async () => {",
      `  const service = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)", '${marker}'], { stdio: 'ignore' });`,
      "  await new Promise((resolve) => service.on('exit', resolve));",
      '});',
      '',
    ].join('\n'),
  });

/** The scripted model: every answer carries the model-output canary, every conversation a tool call with the tool-call canary. */
function writeCanaryScenarios(dir: string): void {
  const stubborn = [1, 2, 3, 4].map((n) => finishWith(`Still done (${n}). ${CANARIES.modelOutput}`));
  writeScenario(dir, '01-canary-by-reference.yaml', TITLES.byReference, [
    {
      content: `Reading the customer's notes first. ${CANARIES.modelOutput}`,
      tool_calls: [call('search_code', { query: CANARIES.toolCall }), call('read_file', { path: CANARY_FILE })],
    },
    { content: `The discount is added; it must be subtracted. ${CANARIES.modelOutput}`, tool_calls: [fixEdit(`discount subtracted (${CANARIES.toolCall})`), call('run_tests')] },
    finishWith(`invoiceTotal subtracts the discount. ${CANARIES.modelOutput}`),
  ]);
  writeScenario(dir, '02-canary-tests-fail.yaml', TITLES.testsFail, [
    {
      content: `Dropping the discount. ${CANARIES.modelOutput}`,
      tool_calls: [call('edit_file', { path: 'src/invoice.js', search: '  return subtotal + discount;', replace: `  return subtotal; // ${CANARIES.toolCall}` })],
    },
    ...stubborn,
  ]);
  writeScenario(dir, '03-canary-policy.yaml', TITLES.policy, [
    {
      content: `Updating the notes too. ${CANARIES.modelOutput}`,
      tool_calls: [fixEdit(CANARIES.toolCall), call('edit_file', { path: CANARY_FILE, search: `Customer notes: ${CANARIES.fileContent}`, replace: `Customer notes (${CANARIES.toolCall})` })],
    },
    ...stubborn,
  ]);
  for (const kind of ['timeout', 'cancel'] as const) {
    writeScenario(dir, `04-canary-${kind}.yaml`, TITLES[kind], [
      { content: `Adding a ledger test. ${CANARIES.modelOutput}`, tool_calls: [fixEdit(CANARIES.toolCall), hangingTest(HANG_MARKERS[kind])] },
      ...stubborn,
    ]);
  }
}

/** Every file under `root` as "<relative path>\n<content>" (the path carries file and directory names). */
function treeText(root: string): string[] {
  if (!existsSync(root)) return [];
  const texts: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) texts.push(`${relative(root, path)}\n${statSync(path).size < 16 * 1024 * 1024 ? readFileSync(path, 'latin1') : ''}`);
    }
  };
  walk(root);
  return texts;
}

/**
 * What a canary may look like once stored or sent: as is, hex (how the database scan renders
 * bytea, and how bytes travel in JSON), and base64 and base64url at each of the three
 * alignments (the edge characters that depend on the neighbouring bytes left out).
 */
function encodingsOf(canary: string): string[] {
  const base64 = [0, 1, 2].map((skip) => {
    const rest = canary.slice(skip);
    return Buffer.from(rest).toString('base64').slice(0, Math.floor(rest.length / 3) * 4);
  });
  return [canary, Buffer.from(canary).toString('hex'), ...base64, ...base64.map((text) => text.replace(/\+/g, '-').replace(/\//g, '_'))];
}

/** Case-insensitive, in any of the canary's encodings. */
const containsCanary = (text: string, canary: string) => {
  const lower = text.toLowerCase();
  return encodingsOf(canary).some((needle) => lower.includes(needle.toLowerCase()));
};

interface ApiAnswer {
  /** The route as openapi.json names it, e.g. /api/v1/jobs/{id}. */
  readonly template: string;
  /** What was asked: the route with its ids and query. */
  readonly route: string;
  readonly status: number;
  readonly text: string;
}

/** The ids the API walk fills path parameters with. */
interface KnownIds {
  readonly jobs: readonly string[];
  readonly workers: readonly string[];
  readonly policies: readonly string[];
  readonly policyRevisions: readonly number[];
}

/** Routes read otherwise: the event stream is held open for the whole run instead. */
const STREAMED_ROUTES = new Set(['/api/v1/events']);

/**
 * GETs every route of openapi.json that takes no body, each path parameter filled with every
 * id of its kind and a few query variants, and returns the answers' text. A route whose
 * parameter this walk cannot fill fails the test: a new route must join the walk.
 */
async function walkApi(httpUrl: string, token: string, ids: KnownIds): Promise<{ readonly routes: readonly string[]; readonly answers: readonly ApiAnswer[] }> {
  const openapi = JSON.parse(readFileSync(join(WORKSPACE_ROOT, 'apps/control-plane/openapi.json'), 'utf8')) as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
  const valuesOf = (route: string, parameter: string): readonly string[] => {
    if (parameter === 'id' && route.startsWith('/api/v1/jobs/')) return ids.jobs;
    if (parameter === 'id' && route.startsWith('/api/v1/workers/')) return ids.workers;
    if (parameter === 'id' && route.startsWith('/api/v1/policies/')) return ids.policies;
    if (parameter === 'number' && route.startsWith('/api/v1/policies/')) return ['1'];
    if (parameter === 'revision') return ids.policyRevisions.map(String);
    throw new Error(`the API walk cannot fill {${parameter}} of GET ${route}: teach it`);
  };
  const queriesOf: Record<string, readonly string[]> = {
    '/api/v1/jobs': ['?limit=100'],
    '/api/v1/audit-log': ['?limit=500', '?order=desc&limit=500'],
    '/api/v1/audit-log/export': ['?format=jsonl', '?format=csv'],
    '/api/v1/policy/decisions': ids.jobs.map((id) => `?jobId=${id}`),
    '/api/v1/policies/{id}/diff': ['?from=1&to=1'],
    '/api/v1/policy/rollout': ['', ...ids.policyRevisions.map((revision) => `?revision=${revision}`)],
  };
  const routes: string[] = [];
  const urls: Array<{ template: string; url: string }> = [];
  for (const [route, operations] of Object.entries(openapi.paths)) {
    const get = operations['get'];
    if (!get || get.requestBody !== undefined || STREAMED_ROUTES.has(route)) continue;
    routes.push(route);
    let paths = [route];
    for (const [, parameter] of route.matchAll(/\{(\w+)\}/g)) {
      paths = paths.flatMap((path) => valuesOf(route, parameter ?? '').map((value) => path.replace(`{${parameter}}`, encodeURIComponent(value))));
    }
    for (const path of paths) for (const query of queriesOf[route] ?? ['']) urls.push({ template: route, url: `${path}${query}` });
  }
  const answers: ApiAnswer[] = [];
  for (const { template, url } of urls) {
    const response = await fetch(`${httpUrl}${url}`, { headers: { authorization: `Bearer ${token}` }, redirect: 'manual', signal: AbortSignal.timeout(10_000) });
    answers.push({ template, route: url, status: response.status, text: `${[...response.headers].map(([name, value]) => `${name}: ${value}`).join('\n')}\n${await response.text()}` });
  }
  return { routes, answers };
}

/** Holds the tenant's Server-Sent Events stream open and keeps every byte it sends. */
function openEventStream(httpUrl: string, token: string): { text: () => string; close: () => void } {
  const abort = new AbortController();
  let text = '';
  void (async () => {
    const response = await fetch(`${httpUrl}/api/v1/events`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: abort.signal });
    if (!response.body) return;
    const decoder = new TextDecoder();
    for await (const chunk of response.body) text += decoder.decode(chunk as Uint8Array, { stream: true });
  })().catch(() => undefined);
  return { text: () => text, close: () => abort.abort() };
}

describe(`the canary matrix: ${Object.keys(CANARIES).length + 1} canaries, 5 job outcomes, and none reaches the control plane`, () => {
  let nats: NatsServer;
  let tap: NatsTap;
  let stack: E2eStack;
  let events: ReturnType<typeof openEventStream>;
  let token: string;
  const jobs: Record<keyof typeof TITLES, JobView | undefined> = { byReference: undefined, testsFail: undefined, policy: undefined, timeout: undefined, cancel: undefined };
  let controlJob: JobView | undefined;
  const allCanaries = (): Array<[Place, string]> => [...(Object.entries(CANARIES) as Array<[Place, string]>), ['demoRepository', stack.canary]];

  beforeAll(async () => {
    nats = await startNatsServer();
    tap = await tapNats(nats.url);
    stack = await startE2eStack('canary_matrix', {
      // One replica on NATS: dispatch and live events go through the server the tap listens on.
      replicas: { count: 1, natsUrl: nats.url },
      forge: { flavour: 'gitlab', token: CANARIES.forgeToken },
      tracker: { flavour: 'jira', comment: true, token: CANARIES.trackerToken },
      demoCatalogEntry: { branchPrefix: `airlock/${CANARIES.branchPrefix}/` },
      workerLabels: [CONTROL_LABEL],
      workerPolicy: { maxFixRetries: 0, rules: { 'protected-paths': { paths: [`${CANARIES.directoryName}/**`] } } },
      firstWorkerEnv: { [WORKER_ENV_VARIABLE]: CANARIES.workerEnvironment },
      prepareRepositories: (gitDir) => {
        plantRepositoryCanaries(gitDir);
        return Promise.resolve([]);
      },
      writeScenarios: writeCanaryScenarios,
    });
    stack.tracker?.state.addIssue({
      project: DEMO_JIRA_PROJECT,
      key: TICKET_KEY,
      title: `${TITLES.byReference} ${CANARIES.ticketByReference}`,
      description: `Customers with a discount are overcharged (${CANARIES.ticketByReference}): invoiceTotal() adds the discount.`,
    });
    token = readFileSync(stack.adminTokenFile, 'utf8').trim();
    events = openEventStream(stack.controlPlane.httpUrl, token);
  });

  afterAll(async () => {
    events?.close();
    await tap?.close().catch(() => undefined);
    await stack?.stop();
    await nats?.stop();
  });

  const typedJob = async (title: string): Promise<string> =>
    (await stack.api.createFixJob({ repoAlias: DEMO_REPO_ALIAS, baseRef: DEMO_BRANCH_BASE, ticket: { title, description: `Typed in by the tenant: ${CONTROL_CANARY}` } })).id;

  it('publishes a central policy, so the policy routes have something to show', async () => {
    const created = await stack.api.request<{ id: string }>('POST', '/policies', { name: `canary-matrix-${hex()}`, document: { schemaVersion: 1, rules: { secrets: { enabled: true } } } });
    expect(created.status).toBe(201);
    const published = await stack.api.request<{ revision: number }>('POST', `/policies/${created.body.id}/versions/1/publish`, { scope: 'tenant', mode: 'enforce' });
    expect(published.status).toBe(200);
  });

  it('job 1 of 5 succeeds: the ticket read by reference is fixed and delivered on a branch under the canary prefix, with a merge request', async () => {
    const created = await stack.api.request<JobView>('POST', '/jobs', { kind: 'fix', repoAlias: DEMO_REPO_ALIAS, baseRef: DEMO_BRANCH_BASE, ticketRef: `${DEMO_TRACKER_NAME}:${TICKET_KEY}` });
    expect(created.status).toBe(201);
    jobs.byReference = await stack.api.waitForTerminalJob(created.body.id, JOB_TIMEOUT_MS);
    expect(jobs.byReference).toMatchObject({ status: 'SUCCEEDED', result: { delivery: 'MERGE_REQUEST_OPENED' } });
  });

  it('job 2 of 5 fails its tests: TESTS_FAILED', async () => {
    jobs.testsFail = await stack.api.waitForTerminalJob(await typedJob(TITLES.testsFail), JOB_TIMEOUT_MS);
    expect(jobs.testsFail).toMatchObject({ status: 'FAILED', failureCode: 'TESTS_FAILED' });
  });

  it('job 3 of 5 breaks policy (a protected path under the canary directory): POLICY_VIOLATION', async () => {
    jobs.policy = await stack.api.waitForTerminalJob(await typedJob(TITLES.policy), JOB_TIMEOUT_MS);
    expect(jobs.policy).toMatchObject({ status: 'FAILED', failureCode: 'POLICY_VIOLATION' });
  });

  it(`job 4 of 5 times out: a test hangs past the repository's ${TEST_TIMEOUT} test timeout, TESTS_TIMED_OUT`, async () => {
    jobs.timeout = await stack.api.waitForTerminalJob(await typedJob(TITLES.timeout), JOB_TIMEOUT_MS);
    expect(jobs.timeout).toMatchObject({ status: 'FAILED', failureCode: 'TESTS_TIMED_OUT' });
    await eventually('the hanging test process is gone', () => processesWithArgument(HANG_MARKERS.timeout).length === 0, 10_000);
  });

  it('job 5 of 5 is cancelled while its test hangs: CANCELLED', async () => {
    const id = await typedJob(TITLES.cancel);
    await waitForPhaseStarted(stack.api, id, 'PHASE_TEST');
    await eventually('the hanging test process runs', () => processesWithArgument(HANG_MARKERS.cancel).length > 0);
    expect((await stack.api.cancelJob(id)).status).toBe(202);
    jobs.cancel = await stack.api.waitForTerminalJob(id, 30_000);
    expect(jobs.cancel).toMatchObject({ status: 'CANCELLED', failureCode: 'CANCELLED' });
    await eventually('the hanging test process is gone', () => processesWithArgument(HANG_MARKERS.cancel).length === 0, 10_000);
  });

  it('the positive control: a job typed in with the control canary in its ticket and its pool, which no worker serves, is cancelled while queued', async () => {
    const created = await stack.api.request<JobView>('POST', '/jobs', {
      kind: 'fix',
      repoAlias: DEMO_REPO_ALIAS,
      baseRef: DEMO_BRANCH_BASE,
      pool: UNSERVED_POOL,
      ticket: { title: 'Canary matrix: the positive control', description: `Typed in by the tenant: ${CONTROL_CANARY}` },
    });
    expect(created.status).toBe(201);
    // Queued on NATS (the pool is a subject token) before it is cancelled.
    await eventually('the queued job reaches NATS', () => tap.messages.some((message) => containsCanary(message.text, CONTROL_CANARY)), 10_000);
    expect((await stack.api.cancelJob(created.body.id)).status).toBe(200);
    controlJob = await stack.api.job(created.body.id);
    expect(controlJob).toMatchObject({ status: 'CANCELLED', attempts: [] });
  });

  /** Every row holding the canary in any of its encodings. */
  const findEverywhereInDatabase = async (canary: string): Promise<string[]> => {
    const hits: string[] = [];
    for (const needle of encodingsOf(canary)) hits.push(...(await findInDatabase(stack.databaseUrl, needle)));
    return hits;
  };
  /** Every control-plane log file holding the canary in any of its encodings. */
  const findEverywhereInLogs = (canary: string): string[] => [...new Set(encodingsOf(canary).flatMap((needle) => findInLogs(stack.dirs.logs, 'control-plane', needle)))];

  describe('once every job has ended', () => {
    let api: readonly ApiAnswer[];
    let apiRoutes: readonly string[];
    let natsMessages: readonly { subject: string; text: string }[];
    let sse: string;
    let tableCount: number;
    let rowCount: number;
    let controlPlaneFiles: string[];
    let controlPlaneLogs: string[];

    beforeAll(async () => {
      const jobIds = [...Object.values(jobs), controlJob].map((job) => job?.id ?? '');
      expect(jobIds.every(Boolean)).toBe(true);
      const policies = (await stack.api.request<Array<{ id: string }>>('GET', '/policies')).body;
      const revision = (await stack.api.request<{ revision: number }>('GET', '/policy')).body.revision;
      ({ answers: api, routes: apiRoutes } = await walkApi(stack.controlPlane.httpUrl, token, {
        jobs: jobIds,
        workers: [workerIdIn(stack.worker.stateDir)],
        policies: policies.map((policy) => policy.id),
        policyRevisions: Array.from({ length: revision }, (_, index) => index + 1),
      }));
      // Let the last events and messages arrive, then stop listening.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      events.close();
      sse = events.text();
      await tap.close();
      natsMessages = [...tap.messages];
      const client = new Client({ connectionString: stack.databaseUrl });
      await client.connect();
      try {
        const tables = await client.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'");
        tableCount = tables.rowCount ?? 0;
        rowCount = 0;
        for (const { table_name: table } of tables.rows) rowCount += Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM "${table}"`)).rows[0]?.n ?? 0);
      } finally {
        await client.end();
      }
      controlPlaneFiles = treeText(join(stack.baseDir, 'control-plane'));
      controlPlaneLogs = readdirSync(stack.dirs.logs).filter((name) => name.startsWith('control-plane'));
      process.stdout.write(
        `canary matrix: ${allCanaries().length} canaries, ${Object.keys(jobs).length} job outcomes; scanned ${tableCount} tables (${rowCount} rows), ` +
          `${controlPlaneLogs.length} control-plane log files, ${controlPlaneFiles.length} control-plane data files, ${api.length} API responses ` +
          `(${apiRoutes.length} GET routes of openapi.json, and the event stream: ${sse.length} bytes), ${natsMessages.length} NATS messages\n` +
          `API statuses: ${JSON.stringify(Object.fromEntries(api.map((answer) => [answer.route, answer.status])))}\n`,
      );
    });

    it('scanned something in every place: tables with rows, log files, answers of every route, events, NATS messages', () => {
      expect(tableCount).toBeGreaterThan(10);
      expect(rowCount).toBeGreaterThan(0);
      expect(controlPlaneLogs.length).toBeGreaterThan(0);
      expect(apiRoutes.length).toBeGreaterThan(25);
      expect(new Set(api.map((answer) => answer.template))).toEqual(new Set(apiRoutes));
      expect(api.filter((answer) => answer.status >= 500)).toEqual([]);
      for (const job of Object.values(jobs)) expect(api.find((answer) => answer.route === `/api/v1/jobs/${job?.id ?? ''}`)?.status).toBe(200);
      expect(sse).toContain('job.changed');
      expect(natsMessages.length).toBeGreaterThan(0);
    });

    it('finds the control canary, typed into tickets on purpose, in the database, the API answers, the event stream and NATS: the scans can fail', async () => {
      const where = {
        database: (await findEverywhereInDatabase(CONTROL_CANARY)).length,
        api: api.filter((answer) => containsCanary(answer.text, CONTROL_CANARY)).length,
        sse: containsCanary(sse, CONTROL_CANARY) ? 1 : 0,
        nats: natsMessages.filter((message) => containsCanary(message.text, CONTROL_CANARY)).length,
        logs: findEverywhereInLogs(CONTROL_CANARY).length,
        files: controlPlaneFiles.filter((text) => containsCanary(text, CONTROL_CANARY)).length,
      };
      process.stdout.write(`control canary found: ${JSON.stringify(where)}\n`);
      for (const scan of ['database', 'api', 'nats', 'logs'] as const) expect(`${scan}: ${where[scan]}`).not.toBe(`${scan}: 0`);
      // The event stream says only which job changed, and the data folder holds only the admin's first token: their scans see the content of this run.
      expect(sse).toContain(controlJob?.id ?? 'the control job');
      expect(controlPlaneFiles.some((text) => text.includes(token))).toBe(true);
    });

    it('finds every canary on the customer side: the repository, the worker, the tracker, the forge, the inference script', () => {
      const repository = [
        git(['--git-dir', stack.demoRepositoryPath, 'for-each-ref', '--format=%(refname)']),
        git(['--git-dir', stack.demoRepositoryPath, 'log', '--all', '--format=%B']),
        git(['--git-dir', stack.demoRepositoryPath, 'log', '--all', '-p', '--format=%H']),
        git(['--git-dir', stack.demoRepositoryPath, 'ls-tree', '-r', '--name-only', DEMO_BRANCH_BASE]),
      ].join('\n');
      const worker = [...treeText(stack.worker.stateDir), ...treeText(stack.worker.workspaceDir)].join('\n');
      const environment = readFileSync(`/proc/${stack.worker.process.pid ?? 0}/environ`, 'latin1');
      const scenarios = treeText(stack.dirs.scenarios).join('\n');
      const forge = JSON.stringify({ requests: stack.forge?.requests, mergeRequests: stack.forge?.state.mergeRequests });
      const tracker = JSON.stringify({ requests: stack.tracker?.requests, issues: stack.tracker?.state.issues });
      const expected: Record<Place, Record<string, string>> = {
        fileContent: { repository, worker },
        fileName: { repository, worker },
        directoryName: { repository, worker },
        branchPrefix: { repository, forge },
        branchName: { repository },
        commitMessage: { repository },
        workerEnvironment: { environment },
        forgeToken: { forge },
        trackerToken: { tracker },
        modelOutput: { scenarios, worker },
        toolCall: { scenarios, worker, repository },
        setupOutput: { worker },
        testOutput: { worker },
        ticketByReference: { tracker, worker, forge },
        demoRepository: { repository },
      };
      const missing = allCanaries().flatMap(([place, canary]) =>
        Object.entries(expected[place])
          .filter(([, text]) => !containsCanary(text, canary))
          .map(([side]) => `${place} not in ${side}`),
      );
      expect(missing).toEqual([]);
    });

    it.each(Object.keys(CANARIES).concat('demoRepository') as Place[])('finds the %s canary nowhere on the control plane: database, logs, data files, API, events, NATS', async (place) => {
      const canary = place === 'demoRepository' ? stack.canary : CANARIES[place];
      const hits = [
        ...(await findEverywhereInDatabase(canary)).map((hit) => `database ${hit}`),
        ...findEverywhereInLogs(canary).map((file) => `log ${file}`),
        ...controlPlaneFiles.filter((text) => containsCanary(text, canary)).map((text) => `data file ${text.split('\n')[0] ?? ''}`),
        ...api.filter((answer) => containsCanary(answer.text, canary)).map((answer) => `GET ${answer.route}`),
        ...(containsCanary(sse, canary) ? ['event stream'] : []),
        ...natsMessages.filter((message) => containsCanary(message.text, canary)).map((message) => `NATS ${message.subject}`),
      ];
      expect(hits).toEqual([]);
    });
  });
});
