import { join } from 'node:path';
import { FailureCode, Phase } from '@airlock/protocol';
import type { WorkerConfig } from '../../config/worker-config.loader';
import { JobPhaseFailedError } from '../job-phase-failed.error';
import type { JobContext } from '../pipeline/job-context';
import type { JobPhase } from '../pipeline/phase';
import type { TestCommandRunner } from '../test-command.runner';

/**
 * TEST: runs the repository's own test command (from `.airlock.yml`) in the sandbox against
 * the edited worktree; its output goes to `<stateDir>/job-logs/<jobKey>.test.log` only.
 * Fails TESTS_TIMED_OUT or TESTS_FAILED; nothing is delivered unless the tests pass.
 */
export class TestPhase implements JobPhase {
  readonly name = Phase.PHASE_TEST;
  // Reached only when the runner itself breaks (e.g. the sandbox cannot be set up): the worker's fault.
  readonly defaultFailure = FailureCode.INTERNAL;

  constructor(
    private readonly tests: Pick<TestCommandRunner, 'run'>,
    private readonly config: { readonly stateDir: string; readonly limits: Pick<WorkerConfig['limits'], 'testTimeout'> },
  ) {}

  async run(ctx: JobContext): Promise<void> {
    const { worktree } = ctx.need('workspace');
    const { test } = ctx.need('repoConfig');
    const outcome = await this.tests.run({
      argv: test.command,
      cwd: worktree,
      timeoutMs: test.timeout ?? this.config.limits.testTimeout,
      signal: ctx.signal,
      logFile: join(this.config.stateDir, 'job-logs', `${ctx.jobKey}.test.log`),
    });
    // Ran means the command actually started (not a missing one) and was not cut short by an abort.
    ctx.report.verification.testsRan = outcome.started && !outcome.aborted;
    ctx.report.verification.testExitCode = outcome.exitCode;
    ctx.signal.throwIfAborted();
    if (outcome.timedOut) throw new JobPhaseFailedError(FailureCode.TESTS_TIMED_OUT, 'test command timed out');
    if (outcome.exitCode !== 0) throw new JobPhaseFailedError(FailureCode.TESTS_FAILED, `test command exited ${outcome.exitCode}`);
  }
}
