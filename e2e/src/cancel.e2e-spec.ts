import { execFileSync } from 'node:child_process';
import { DEMO_BRANCH_BASE, DEMO_HANGING_TESTS_TICKET, DEMO_REPO_ALIAS, DEMO_TICKET, demoHangMarker } from '@airlock/local-stack';
import { startE2eStack, type E2eStack } from './support/e2e-stack';
import { eventually, processesWithArgument, waitForPhaseStarted } from './support/job-progress';

/** The signal ladder's bound: the test command's process group gets SIGTERM, then SIGKILL 2 s later. */
const SIGNAL_LADDER_MS = 2_000;

describe('POST /api/v1/jobs/:id/cancel', () => {
  let stack: E2eStack;

  const branches = () => execFileSync('git', ['--git-dir', stack.demoRepositoryPath, 'for-each-ref', '--format=%(refname)', 'refs/heads/'], { encoding: 'utf8' });

  beforeAll(async () => {
    stack = await startE2eStack('cancel');
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('cancels a running job on its worker: the test process tree ends within the signal ladder, the job ends CANCELLED, nothing is pushed', async () => {
    const marker = demoHangMarker({ canary: stack.canary });
    const job = await stack.api.createFixJob({ repoAlias: DEMO_REPO_ALIAS, baseRef: DEMO_BRANCH_BASE, ticket: DEMO_HANGING_TESTS_TICKET });
    await waitForPhaseStarted(stack.api, job.id, 'PHASE_TEST');
    // The model's new test has started the process that never ends: the tests hang.
    await eventually('the hanging test process runs', () => processesWithArgument(marker).length > 0);

    const requestedAt = performance.now();
    const cancel = await stack.api.cancelJob(job.id);
    expect(cancel.status).toBe(202);
    expect(cancel.body.status).toMatch(/^(DISPATCHED|RUNNING)$/);
    const done = await stack.api.waitForTerminalJob(job.id, 30_000);
    const clientMs = performance.now() - requestedAt;

    expect(done.status).toBe('CANCELLED');
    expect(done.failureCode).toBe('CANCELLED');
    expect(done.result).toMatchObject({ outcome: 'JOB_OUTCOME_CANCELLED', failedPhase: 'PHASE_TEST' });
    expect(processesWithArgument(marker)).toEqual([]);
    expect(branches()).not.toContain(`airlock/${job.id}`);
    // The control plane's own clock, from the request to the recorded result.
    const at = (type: string) => Date.parse(done.events.find((e) => e.type === type)?.at ?? 'NaN');
    const serverMs = at('RESULT_RECORDED') - at('CANCEL_REQUESTED');
    expect(serverMs).toBeGreaterThanOrEqual(0);
    expect(serverMs).toBeLessThan(SIGNAL_LADDER_MS + 3_000);
    process.stdout.write(`cancel of a running job: request → CANCELLED ${serverMs} ms on the control plane's clock, ${Math.round(clientMs)} ms seen by the client (polling every 100 ms)\n`);
  });

  it('ends a queued job at once, and no worker ever receives it', async () => {
    await stack.worker.process.stop();
    const job = await stack.api.createFixJob({ repoAlias: DEMO_REPO_ALIAS, baseRef: DEMO_BRANCH_BASE, ticket: DEMO_TICKET });
    const cancel = await stack.api.cancelJob(job.id);
    expect(cancel.status).toBe(200);
    expect(cancel.body.status).toBe('CANCELLED');
    await stack.restartWorker();
    // A job queued after it is dispatched and finishes, so the worker was taking work meanwhile.
    const later = await stack.api.createFixJob({ repoAlias: DEMO_REPO_ALIAS, baseRef: DEMO_BRANCH_BASE, ticket: DEMO_TICKET });
    expect((await stack.api.waitForTerminalJob(later.id, 120_000)).status).toBe('SUCCEEDED');
    const cancelled = await stack.api.job(job.id);
    expect(cancelled.status).toBe('CANCELLED');
    expect(cancelled.attempts).toEqual([]);
    expect((await stack.api.cancelJob(job.id)).status).toBe(409);
  });
});
