import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_BRANCH_BASE, DEMO_REPO_ALIAS, DEMO_TICKET } from '@airlock/local-stack';
import { startE2eStack, type E2eStack } from './support/e2e-stack';
import { eventually, workerIdIn } from './support/job-progress';

/**
 * The push race: a worker checks its lease, is paused right before its push (a hung VM), its
 * attempt is fenced and another worker delivers attempt 2 — then the paused push goes
 * through. With a plain force-push it would overwrite attempt 2's branch. The worker pushes
 * with a lease on the branch tip it observed, so git refuses the stale push.
 *
 * The first worker runs with a `git` of this test's in front of the real one on its PATH: it
 * runs every git command as is, except that a push waits for the test's go-ahead and records
 * the real push's exit code. The test pauses that worker (SIGSTOP) while its push waits.
 */
describe('a stale attempt never overwrites a newer one on the job branch', () => {
  let stack: E2eStack;
  let controlDir: string;

  const git = (...args: string[]) => execFileSync('git', ['--git-dir', stack.demoRepositoryPath, ...args], { encoding: 'utf8' });

  beforeAll(async () => {
    controlDir = mkdtempSync(join(tmpdir(), 'airlock-push-race-'));
    const shimDir = join(controlDir, 'bin');
    mkdirSync(shimDir, { recursive: true });
    const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
    writeFileSync(
      join(shimDir, 'git'),
      [
        '#!/bin/sh',
        `control='${controlDir}'`,
        'for arg in "$@"; do',
        '  if [ "$arg" = push ] && [ ! -e "$control/push-exit" ]; then',
        '    touch "$control/push-waiting"',
        '    while [ ! -e "$control/push-released" ]; do sleep 0.05; done',
        `    '${realGit}' "$@"; code=$?`,
        '    echo "$code" > "$control/push-exit"',
        '    exit "$code"',
        '  fi',
        'done',
        `exec '${realGit}' "$@"`,
        '',
      ].join('\n'),
    );
    chmodSync(join(shimDir, 'git'), 0o755);
    stack = await startE2eStack('push_race', {
      controlPlaneEnv: { AIRLOCK_GRPC_KEEPALIVE_TIME: '1s', AIRLOCK_GRPC_KEEPALIVE_TIMEOUT: '1s' },
      firstWorkerEnv: { PATH: `${shimDir}:${process.env['PATH'] ?? ''}` },
    });
    git('config', 'core.logAllRefUpdates', 'always');
  });

  afterAll(async () => {
    stack?.worker.process.signal('SIGCONT');
    if (controlDir !== undefined) writeFileSync(join(controlDir, 'push-released'), '');
    await stack?.stop();
    if (controlDir !== undefined) rmSync(controlDir, { recursive: true, force: true });
  });

  it('refuses the paused attempt\'s push after attempt 2 delivered, and keeps attempt 2 on the branch', async () => {
    const workerA = stack.worker;
    const job = await stack.api.createFixJob({ repoAlias: DEMO_REPO_ALIAS, baseRef: DEMO_BRANCH_BASE, ticket: DEMO_TICKET });
    // Attempt 1 has passed its lease check and observed the branch (absent): its push waits.
    await eventually('attempt 1 is about to push', async () => existsSync(join(controlDir, 'push-waiting')));
    workerA.process.signal('SIGSTOP');

    const workerB = await stack.addWorker('worker-b');
    const done = await stack.api.waitForTerminalJob(job.id, 120_000);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.attempts.map((a) => [a.number, a.status, a.workerId])).toEqual([
      [1, 'LEASE_EXPIRED', workerIdIn(workerA.stateDir)],
      [2, 'SUCCEEDED', workerIdIn(workerB.stateDir)],
    ]);
    const ref = `refs/heads/airlock/${job.id}`;
    const delivered = git('rev-parse', ref).trim();

    // The stale push goes ahead while its worker is still paused: git refuses it.
    writeFileSync(join(controlDir, 'push-released'), '');
    await eventually('the stale push has run', async () => existsSync(join(controlDir, 'push-exit')));
    expect(Number(readFileSync(join(controlDir, 'push-exit'), 'utf8').trim())).not.toBe(0);
    expect(git('rev-parse', ref).trim()).toBe(delivered);

    workerA.process.signal('SIGCONT');
    const finished = await workerA.process.waitForEvent((e) => e.event === 'job-finished' && e['jobId'] === job.id && e['attempt'] === 1, 60_000);
    // Superseded when the worker looks at the branch again; cancelled if the control plane's Cancel reaches it first.
    expect(['DELIVERY_SUPERSEDED', 'CANCELLED']).toContain(finished['failureCode']);
    expect(git('reflog', 'show', '--format=%H', ref).trim().split('\n')).toEqual([delivered]);
    expect(git('log', '-1', '--format=%B', ref)).toContain(`Airlock job ${job.id}, attempt 2`);
  });
});
