import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_BRANCH_BASE, DEMO_BROKEN_FIX_TICKET, DEMO_REPO_ALIAS, DEMO_TICKET, launchProgram, type JobView } from '@airlock/local-stack';
import { findInDatabase, findInLogs } from './support/canary-scan';
import { startE2eStack, type E2eStack } from './support/e2e-stack';

describe('a fix job crosses the airlock', () => {
  let stack: E2eStack;
  let succeeded: JobView;
  let failed: JobView;

  const remoteBranches = (): string =>
    execFileSync('git', ['--git-dir', stack.demoRepositoryPath, 'for-each-ref', '--format=%(refname)', 'refs/heads/'], { encoding: 'utf8' });

  beforeAll(async () => {
    stack = await startE2eStack('fixjob');
    const goodJob = await stack.api.createFixJob({ repoAlias: DEMO_REPO_ALIAS, baseRef: DEMO_BRANCH_BASE, ticket: DEMO_TICKET });
    succeeded = await stack.api.waitForTerminalJob(goodJob.id, 120_000);
    const badJob = await stack.api.createFixJob({ repoAlias: DEMO_REPO_ALIAS, baseRef: DEMO_BRANCH_BASE, ticket: DEMO_BROKEN_FIX_TICKET });
    failed = await stack.api.waitForTerminalJob(badJob.id, 120_000);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('succeeds and pushes airlock/<job-id> with the fix to the customer git server', () => {
    expect(succeeded.status).toBe('SUCCEEDED');
    const diff = execFileSync('git', ['--git-dir', stack.demoRepositoryPath, 'diff', `${DEMO_BRANCH_BASE}...airlock/${succeeded.id}`, '--', 'src/invoice.js'], {
      encoding: 'utf8',
    });
    expect(diff).toContain('-  return subtotal + discount;');
    expect(diff).toContain('+  return subtotal - discount;');
  });

  it('reports the right counts, and metadata only', () => {
    expect(succeeded.attempts).toHaveLength(1);
    expect(succeeded.result).toMatchObject({
      outcome: 'JOB_OUTCOME_SUCCEEDED',
      change: { filesChanged: 1, linesAdded: 2, linesRemoved: 1, editsProposed: 1, editsApplied: 1 },
      // The demo's tests write JUnit XML: at base 1 of 3 fails, and the fix makes it pass.
      verification: {
        baseTestsRan: true,
        baseTestExitCode: 1,
        testsRan: true,
        testExitCode: 0,
        baseReportRead: true,
        reportRead: true,
        testsBefore: 3,
        failingBefore: 1,
        testsAfter: 3,
        failingAfter: 0,
        testsFixed: 1,
        testsRegressed: 0,
        // The scripted model ran the tests once itself before it finished.
        agentTestRuns: 1,
      },
    });
    const result = succeeded.result as { tokens: { requests: number; promptTokens: number; completionTokens: number }; contextFiles: number };
    // The agent conversation: read the module, edit and run the tests, finish.
    expect(result.tokens.requests).toBe(3);
    expect(result.tokens.promptTokens).toBeGreaterThan(0);
    expect(result.tokens.completionTokens).toBeGreaterThan(0);
    // Tokens per endpoint and model: the simulator is the worker's one endpoint, its primary, so it holds the totals.
    expect(succeeded.result?.['modelUsage']).toEqual([{ endpointIndex: 0, endpoint: 'local-sim', model: 'airlock-sim-coder', ...result.tokens }]);
    expect(result.contextFiles).toBeGreaterThanOrEqual(1);
    const phases = succeeded.events.filter((e) => e.type === 'PHASE_COMPLETED').map((e) => e.phase);
    expect(phases).toEqual(['PHASE_WORKSPACE', 'PHASE_SETUP', 'PHASE_BASELINE', 'PHASE_CONTEXT', 'PHASE_INFERENCE', 'PHASE_APPLY', 'PHASE_TEST', 'PHASE_DELIVER']);
  });

  it('fails with TESTS_FAILED when the model patch breaks the tests, and pushes nothing', () => {
    expect(failed.status).toBe('FAILED');
    expect(failed.failureCode).toBe('TESTS_FAILED');
    expect(failed.result).toMatchObject({ verification: { testsRan: true }, failedPhase: 'PHASE_TEST' });
    expect(remoteBranches()).not.toContain(`airlock/${failed.id}`);
    expect(remoteBranches()).toContain(`airlock/${succeeded.id}`);
  });

  it('passes every worker doctor check against the running stack, and audit verify', async () => {
    const runCheck = async (label: string, args: string[]): Promise<{ exitCode: number | null | undefined; output: string }> => {
      const check = launchProgram({ program: 'worker', args: [...args, '--config', stack.worker.configPath], logDir: stack.dirs.logs, label });
      await check.waitForExit();
      await check.stop(); // flushes the log file; the process has already exited
      return { exitCode: check.exitCode, output: readFileSync(join(stack.dirs.logs, `${label}.log`), 'utf8') };
    };
    const doctor = await runCheck('worker-doctor', ['doctor']);
    expect(doctor.output).not.toMatch(/^FAIL/m);
    expect(doctor.output.match(/^PASS /gm)?.length).toBeGreaterThanOrEqual(5);
    expect(doctor.output).toMatch(/^PASS sandbox: bubblewrap works/m);
    expect(doctor.exitCode).toBe(0);
    const audit = await runCheck('worker-audit', ['audit', 'verify']);
    expect(audit.output).toMatch(/PASS/);
    expect(audit.exitCode).toBe(0);

    // What the control plane received of the log (the heads its heartbeats reported) checks out against it.
    const { workerId } = JSON.parse(readFileSync(join(stack.worker.stateDir, 'identity.json'), 'utf8')) as { workerId: string };
    const heads = await stack.api.request<{ latest: { seq: number } | null; checkpoints: unknown[] }>('GET', `/workers/${workerId}/ledger-heads`);
    expect(heads.status).toBe(200);
    expect(heads.body.latest?.seq).toBeGreaterThan(1);
    expect(heads.body.checkpoints.length).toBeGreaterThanOrEqual(1);
    const exported = join(stack.dirs.logs, 'ledger-heads.json');
    writeFileSync(exported, JSON.stringify(heads.body));
    const against = await runCheck('worker-audit-against', ['audit', 'verify', '--against', exported]);
    expect(against.output).toMatch(/^PASS reported heads: (\d+) of \1 match the log$/m);
    expect(against.exitCode).toBe(0);
  });

  it('never lets the canary reach the control plane: database, logs, or the worker egress log', async () => {
    // The canary is really there on the customer side, so its absence upstream means something.
    expect(readFileSync(join(stack.dirs.scenarios, '30-fix.yaml'), 'utf8')).toContain(stack.canary);
    expect(execFileSync('git', ['--git-dir', stack.demoRepositoryPath, 'show', `airlock/${succeeded.id}:src/invoice.js`], { encoding: 'utf8' })).toContain(stack.canary);

    expect(await findInDatabase(stack.databaseUrl, stack.canary)).toEqual([]);
    expect(findInLogs(stack.dirs.logs, 'control-plane', stack.canary)).toEqual([]);
    const egressLog = readFileSync(join(stack.worker.stateDir, 'egress-audit.jsonl'), 'utf8');
    expect(egressLog.length).toBeGreaterThan(0);
    expect(egressLog).not.toContain(stack.canary);
    // Nor the ticket's or the repository's words: the control plane typed the ticket, but
    // nothing the worker sends back may echo it.
    expect(egressLog).not.toContain('invoice');
  });
});
