import { appendFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_BRANCH_BASE, DEMO_REPO_ALIAS, DEMO_SLOW_TICKET, DEMO_TICKET, launchProgram } from '@airlock/local-stack';
import { fillUntilFull, mountSmallTmpfs, type SmallTmpfs } from '@airlock/testing';
import { startE2eStack, type E2eStack } from './support/e2e-stack';
import { eventually, waitForPhaseStarted, workerIdIn } from './support/job-progress';

/**
 * The worker's state directory (identity, egress audit log, outbox, nonces) on a 2 MiB
 * tmpfs that the test fills: the worker must fail the job it cannot report with a code,
 * stay up, and go back to work once space returns — and a torn last audit line, as a
 * crash mid-append leaves, must not keep it from starting.
 */
describe('a full disk under the worker', () => {
  let tmpfs: SmallTmpfs;
  let filler: string;
  let stack: E2eStack;

  const auditVerify = async (): Promise<{ exitCode: number | null | undefined; output: string }> => {
    const label = `audit-verify-${Date.now()}`;
    const check = launchProgram({ program: 'worker', args: ['audit', 'verify', '--config', stack.worker.configPath], logDir: stack.dirs.logs, label });
    await check.waitForExit();
    await check.stop(); // flushes the log file; the process has already exited
    return { exitCode: check.exitCode, output: readFileSync(join(stack.dirs.logs, `${label}.log`), 'utf8') };
  };

  beforeAll(async () => {
    tmpfs = mountSmallTmpfs('2m');
    filler = join(tmpfs.path, 'filler');
    mkdirSync(join(tmpfs.path, 'state'));
    stack = await startE2eStack('diskfull', { workerStateDir: join(tmpfs.path, 'state') });
  });

  afterAll(async () => {
    await stack?.stop();
    tmpfs?.unmount();
  });

  it('fails the job it cannot report with AUDIT_LOG_UNAVAILABLE, stays up, and works again once space returns', async () => {
    const workerId = workerIdIn(stack.worker.stateDir);
    const job = await stack.api.createFixJob({ repoAlias: DEMO_REPO_ALIAS, baseRef: DEMO_BRANCH_BASE, ticket: DEMO_SLOW_TICKET });
    await waitForPhaseStarted(stack.api, job.id, 'PHASE_INFERENCE');
    fillUntilFull(filler);

    const worker = stack.worker.process;
    await worker.waitForEvent((e) => e.event === 'egress-audit-unavailable', 30_000);
    const finished = await worker.waitForEvent((e) => e.event === 'job-finished' && e['jobId'] === job.id, 60_000);
    expect(finished['failureCode']).toBe('AUDIT_LOG_UNAVAILABLE');
    expect(worker.hasExited).toBe(false);
    await eventually('the control plane sees the worker gone', async () => (await stack.api.workers()).find((w) => w.id === workerId)?.status === 'OFFLINE');
    const queuedMeanwhile = await stack.api.createFixJob({ repoAlias: DEMO_REPO_ALIAS, baseRef: DEMO_BRANCH_BASE, ticket: DEMO_TICKET });

    rmSync(filler);
    const first = await stack.api.waitForTerminalJob(job.id, 120_000);
    expect(first.status).toBe('SUCCEEDED');
    expect(first.attempts.map((a) => [a.number, a.status])).toEqual([
      [1, 'LEASE_EXPIRED'],
      [2, 'SUCCEEDED'],
    ]);
    expect((await stack.api.waitForTerminalJob(queuedMeanwhile.id, 120_000)).status).toBe('SUCCEEDED');
    expect(worker.hasExited).toBe(false);
    const verdict = await auditVerify();
    expect(verdict.output).toMatch(/^PASS egress audit log/m);
    expect(verdict.exitCode).toBe(0);
  });

  it('starts again after a crash tore the last audit line, quarantines the tail, and audit verify says so', async () => {
    stack.worker.process.signal('SIGKILL');
    await stack.worker.process.waitForExit();
    appendFileSync(join(stack.worker.stateDir, 'egress-audit.jsonl'), '{"seq":99999,"time":"2026-');
    await stack.restartWorker();
    const job = await stack.api.createFixJob({ repoAlias: DEMO_REPO_ALIAS, baseRef: DEMO_BRANCH_BASE, ticket: DEMO_TICKET });
    expect((await stack.api.waitForTerminalJob(job.id, 120_000)).status).toBe('SUCCEEDED');
    const verdict = await auditVerify();
    expect(verdict.output).toMatch(/^PASS egress audit log/m);
    expect(verdict.output).toMatch(/quarantin/i);
    expect(verdict.exitCode).toBe(0);
  });
});
