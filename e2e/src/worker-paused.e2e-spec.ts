import { execFileSync } from 'node:child_process';
import { DEMO_BRANCH_BASE, DEMO_REPO_ALIAS, DEMO_SLOW_TICKET } from '@airlock/local-stack';
import { startE2eStack, type E2eStack } from './support/e2e-stack';
import { eventually, waitForPhaseStarted, workerIdIn } from './support/job-progress';

/**
 * A worker paused (SIGSTOP) past its lease while the control plane drops its stream — the
 * field case of a hung VM or a network partition. Attempt 1 is fenced, another worker
 * delivers attempt 2, and when the paused worker resumes it must deliver nothing: it is
 * cancelled when it reports the fenced attempt, and it would not push without a lease
 * renewal anyway. Exactly one push reaches the customer's repository.
 */
describe('a worker paused past its lease delivers nothing: exactly one push per job', () => {
  let stack: E2eStack;

  const git = (...args: string[]) => execFileSync('git', ['--git-dir', stack.demoRepositoryPath, ...args], { encoding: 'utf8' });

  beforeAll(async () => {
    // The gateway notices an unresponsive worker within ~2 s, so the stream is gone (and
    // the reaper's Cancel undeliverable) by the time the lease expires.
    stack = await startE2eStack('paused', { controlPlaneEnv: { AIRLOCK_GRPC_KEEPALIVE_TIME: '1s', AIRLOCK_GRPC_KEEPALIVE_TIMEOUT: '1s' } });
    // Record every update of every branch, so the number of pushes can be counted.
    git('config', 'core.logAllRefUpdates', 'always');
  });

  afterAll(async () => {
    stack?.worker.process.signal('SIGCONT');
    await stack?.stop();
  });

  it('fences attempt 1, lets another worker deliver attempt 2, and cancels attempt 1 when its worker resumes', async () => {
    const workerA = stack.worker;
    const workerAId = workerIdIn(workerA.stateDir);
    const job = await stack.api.createFixJob({ repoAlias: DEMO_REPO_ALIAS, baseRef: DEMO_BRANCH_BASE, ticket: DEMO_SLOW_TICKET });
    await waitForPhaseStarted(stack.api, job.id, 'PHASE_INFERENCE');
    workerA.process.signal('SIGSTOP');

    const workerB = await stack.addWorker('worker-b');
    const done = await stack.api.waitForTerminalJob(job.id, 120_000);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.attempts.map((a) => [a.number, a.status])).toEqual([
      [1, 'LEASE_EXPIRED'],
      [2, 'SUCCEEDED'],
    ]);
    expect(done.attempts[0]?.workerId).toBe(workerAId);
    expect(done.attempts[1]?.workerId).toBe(workerIdIn(workerB.stateDir));
    await eventually('the control plane has dropped the paused worker', async () => (await stack.api.workers()).find((w) => w.id === workerAId)?.status === 'OFFLINE');

    workerA.process.signal('SIGCONT');
    // Its model answer is long in; the attempt runs on and must end without delivering.
    const finished = await workerA.process.waitForEvent((e) => e.event === 'job-finished' && e['jobId'] === job.id && e['attempt'] === 1, 60_000);
    expect(['CANCELLED', 'LEASE_UNCONFIRMED']).toContain(finished['failureCode']);

    const ref = `refs/heads/airlock/${job.id}`;
    expect(git('reflog', 'show', '--format=%H', ref).trim().split('\n')).toHaveLength(1);
    expect(git('log', '-1', '--format=%B', ref)).toContain(`Airlock job ${job.id}, attempt 2`);
    const after = await stack.api.job(job.id);
    expect(after.status).toBe('SUCCEEDED');
    expect(after.events.filter((e) => e.type === 'RESULT_RECORDED')).toHaveLength(1);
  });
});
