import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { JobView } from '@airlock/local-stack';
import { findInDatabase, findInLogs } from './support/canary-scan';
import { startE2eStack, type E2eStack } from './support/e2e-stack';
import { branchesOf, calculatorTest, call, createBareRepository, finish, writeScenario } from './support/scenario-repository';

/**
 * Central policy through the whole stack: an admin publishes a policy over the REST API,
 * the real worker process applies it and reports the revision, and fix jobs whose model
 * breaks it end POLICY_VIOLATION on the worker with only rule ids crossing to the control
 * plane — the offending path, line and secret stay on the customer's side.
 */

const JOB_TIMEOUT_MS = 120_000;
const REPO = 'policy-calc';

interface RolloutView {
  revision: number;
  workers: Array<{ workerId: string; appliedRevision: number; upToDate: boolean; narrowedRules: string[] }>;
}

describe('central policy, published by an admin and enforced on the worker', () => {
  let stack: E2eStack;
  // Built at run time: the repository holds no secret-shaped literal.
  const token = `ghp_${randomBytes(27).toString('base64').replace(/[^A-Za-z0-9]/g, 'x').slice(0, 36)}`;
  // Put in every offending line: it must never reach the control plane.
  const canary = `AIRLOCK-POLICY-CANARY-${randomBytes(6).toString('hex')}`;
  const protectedFile = 'deploy/prod.env';
  const tickets = {
    clean: { title: 'Policy calc: add subtracts its arguments', description: 'add(2, 3) returns -1; it must return 5.' },
    protectedPath: { title: 'Policy calc: fix add and retune the deployment', description: 'add(2, 3) returns -1. While there, bump the worker count.' },
    secret: { title: 'Policy calc: fix add and wire the API client', description: 'add(2, 3) returns -1. The client needs its credentials too.' },
    lockfile: { title: 'Policy calc: fix add and refresh the lockfile', description: 'add(2, 3) returns -1. The lockfile is stale as well.' },
  };
  const fixAdd = call('edit_file', { path: 'src/calc.js', search: '  return a - b;', replace: '  return a + b;' });
  // Two finishes: the worker sends the first violation back (maxFixRetries 1), the second one ends the job.
  const stubborn = [finish, finish, finish];

  const publish = async (document: object, scope: { scope: string; key?: string } = { scope: 'tenant' }, mode = 'enforce'): Promise<number> => {
    const created = await stack.api.request<{ id: string }>('POST', '/policies', { name: `baseline-${randomBytes(3).toString('hex')}`, document });
    expect(created.status).toBe(201);
    const published = await stack.api.request<{ revision: number }>('POST', `/policies/${created.body.id}/versions/1/publish`, { ...scope, mode });
    expect(published.status).toBe(200);
    return published.body.revision;
  };
  const rollout = async (): Promise<RolloutView> => (await stack.api.request<RolloutView>('GET', '/policy/rollout')).body;
  const waitForApplied = async (revision: number): Promise<{ view: RolloutView; elapsedMs: number }> => {
    const started = performance.now();
    for (;;) {
      const view = await rollout();
      if (view.workers.length > 0 && view.workers.every((worker) => worker.appliedRevision === revision)) return { view, elapsedMs: performance.now() - started };
      if (performance.now() - started > 20_000) throw new Error(`workers still on ${JSON.stringify(view.workers.map((w) => w.appliedRevision))}, expected ${revision}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const runJob = async (ticket: { title: string; description: string }): Promise<JobView> =>
    stack.api.waitForTerminalJob((await stack.api.createFixJob({ repoAlias: REPO, baseRef: 'main', ticket })).id, JOB_TIMEOUT_MS);
  const decisionsOf = (job: JobView) => ((job.result as { policy?: { decisions?: Array<{ rule: string; outcome: string }> } } | null)?.policy?.decisions ?? []);

  beforeAll(async () => {
    stack = await startE2eStack('policy', {
      workerLabels: ['payments'],
      // The worker itself allows dependency changes: only the central policy forbids them.
      workerPolicy: { maxFixRetries: 1, rules: { 'dependency-manifests': { allowChanges: true } } },
      prepareRepositories: (gitDir) => {
        createBareRepository(gitDir, REPO, {
          '.airlock.yml': 'version: 1\ntest:\n  command: [node, --test]\n',
          'package.json': JSON.stringify({ name: 'policy-calc', version: '1.0.0', private: true }, null, 2),
          'package-lock.json': JSON.stringify({ name: 'policy-calc', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'policy-calc', version: '1.0.0' } } }, null, 2),
          [protectedFile]: 'WORKERS=2\n',
          'src/calc.js': "'use strict';\nfunction add(a, b) {\n  return a - b;\n}\nmodule.exports = { add };\n",
          'test/calc.test.js': calculatorTest(),
        });
        return Promise.resolve([{ alias: REPO, name: `${REPO}.git` }]);
      },
      writeScenarios: (dir) => {
        writeScenario(dir, '50-policy-clean.yaml', tickets.clean.title, [{ tool_calls: [fixAdd] }, finish]);
        writeScenario(dir, '51-policy-protected.yaml', tickets.protectedPath.title, [
          { tool_calls: [fixAdd, call('edit_file', { path: protectedFile, search: 'WORKERS=2', replace: `WORKERS=8 # ${canary}` })] },
          ...stubborn,
        ]);
        writeScenario(dir, '52-policy-secret.yaml', tickets.secret.title, [
          { tool_calls: [call('edit_file', { path: 'src/calc.js', search: '  return a - b;', replace: `  const apiToken = '${token}'; // ${canary}\n  return a + b;` })] },
          ...stubborn,
        ]);
        writeScenario(dir, '53-policy-lockfile.yaml', tickets.lockfile.title, [
          { tool_calls: [fixAdd, call('edit_file', { path: 'package-lock.json', search: '"lockfileVersion": 3', replace: `"lockfileVersion": 3,\n  "x-canary": "${canary}"` })] },
          ...stubborn,
        ]);
      },
    });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  let revision = 0;

  it('publishes a tenant policy that the connected worker applies, reporting the rules its config narrowed', async () => {
    revision = await publish({
      schemaVersion: 1,
      rules: {
        'protected-paths': { paths: ['deploy/**'] },
        'dependency-manifests': { allowChanges: false },
        secrets: { enabled: true },
        // Wider than the worker's own limit (25): the worker keeps its own and says so.
        'max-files-changed': { max: 100 },
      },
    });
    const { view, elapsedMs } = await waitForApplied(revision);
    process.stdout.write(`central policy: revision ${revision} applied by ${view.workers.length} worker(s) ${Math.round(elapsedMs)} ms after the publish answered\n`);
    expect(view.revision).toBe(revision);
    expect(view.workers[0]).toMatchObject({ upToDate: true });
    expect(view.workers[0]?.narrowedRules).toContain('max-files-changed');
  });

  it('lets a change that keeps the rules through, and the result names the revision it ran under', async () => {
    const done = await runJob(tickets.clean);
    expect(done.status).toBe('SUCCEEDED');
    expect((done.result as { policy?: { revision?: number } }).policy?.revision).toBe(revision);
  });

  it.each([
    ['touches a path the central policy protects', 'protectedPath', 'protected-paths'],
    ['adds a secret', 'secret', 'secrets'],
    ['changes a lockfile the central policy freezes (the worker alone would allow it)', 'lockfile', 'dependency-manifests'],
  ] as const)('stops a change that %s: POLICY_VIOLATION with the rule id, nothing pushed', async (_what, ticket, rule) => {
    const before = branchesOf(stack.dirs.git, REPO, 'airlock/');
    const done = await runJob(tickets[ticket]);
    expect(done.status).toBe('FAILED');
    expect(done.failureCode).toBe('POLICY_VIOLATION');
    expect(decisionsOf(done)).toContainEqual({ rule, level: 'MANDATORY', outcome: 'BLOCKED' });
    expect(branchesOf(stack.dirs.git, REPO, 'airlock/')).toEqual(before);
  });

  it('keeps the offending content, path and secret out of the control plane', async () => {
    for (const needle of [canary, token, protectedFile, 'prod.env']) {
      expect(await findInDatabase(stack.databaseUrl, needle)).toEqual([]);
      expect(findInLogs(stack.dirs.logs, 'control-plane', needle)).toEqual([]);
    }
  });

  it("writes the admin's bootstrap token to its 0600 file and to no log of the stack", async () => {
    const token = readFileSync(stack.adminTokenFile, 'utf8').trim();
    expect(token).toMatch(/^alt_/);
    expect(statSync(stack.adminTokenFile).mode & 0o777).toBe(0o600);
    expect(findInLogs(stack.dirs.logs, '', token)).toEqual([]);
  });

  it('brings a worker that was offline during a publish up to date when it reconnects', async () => {
    await stack.worker.process.stop();
    const next = await publish({ schemaVersion: 1, rules: { 'min-tests-run': { min: 1 } } }, { scope: 'pool', key: 'payments' });
    expect(next).toBeGreaterThan(revision);
    const lagging = await rollout();
    expect(lagging.workers[0]).toMatchObject({ appliedRevision: revision, upToDate: false });
    await stack.restartWorker();
    await waitForApplied(next);
  });
});
