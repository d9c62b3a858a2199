import { execFileSync } from 'node:child_process';
import { DEMO_BRANCH_BASE, DEMO_REPO_ALIAS, DEMO_SLOW_TICKET, DEMO_TICKET } from '@airlock/local-stack';
import { startE2eStack, type E2eStack } from './support/e2e-stack';
import { waitForPhaseStarted } from './support/job-progress';

describe('the worker restarts, reconnects, and survives SIGKILL mid-job', () => {
  let stack: E2eStack;

  beforeAll(async () => {
    stack = await startE2eStack('recovery');
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('reconnects after a restart and runs a job queued while it was away', async () => {
    await stack.worker.process.stop();
    const job = await stack.api.createFixJob({ repoAlias: DEMO_REPO_ALIAS, baseRef: DEMO_BRANCH_BASE, ticket: DEMO_TICKET });
    expect((await stack.api.job(job.id)).status).toBe('QUEUED');
    await stack.restartWorker();
    const done = await stack.api.waitForTerminalJob(job.id, 120_000);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.attempts).toHaveLength(1);
  });

  it('completes exactly once through the next attempt after the worker is killed mid-job', async () => {
    const job = await stack.api.createFixJob({ repoAlias: DEMO_REPO_ALIAS, baseRef: DEMO_BRANCH_BASE, ticket: DEMO_SLOW_TICKET });
    // Kill while the (slow) model is answering attempt 1.
    await waitForPhaseStarted(stack.api, job.id, 'PHASE_INFERENCE');
    stack.worker.process.signal('SIGKILL');
    await stack.worker.process.waitForExit();
    await stack.restartWorker();

    const done = await stack.api.waitForTerminalJob(job.id, 120_000);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.attempts.map((a) => [a.number, a.status])).toEqual([
      [1, 'LEASE_EXPIRED'],
      [2, 'SUCCEEDED'],
    ]);
    expect(done.events.filter((e) => e.type === 'RESULT_RECORDED')).toHaveLength(1);
    const branches = execFileSync('git', ['--git-dir', stack.demoRepositoryPath, 'for-each-ref', '--format=%(refname)', `refs/heads/airlock/${job.id}`], {
      encoding: 'utf8',
    });
    expect(branches.trim().split('\n')).toEqual([`refs/heads/airlock/${job.id}`]);
  });
});
