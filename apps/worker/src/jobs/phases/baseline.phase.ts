import { FailureCode, Phase } from '@airlock/protocol';
import type { GitRunner } from '../../git/git-runner';
import { JobPhaseFailedError } from '../job-phase-failed.error';
import type { JobContext } from '../pipeline/job-context';
import type { JobPhase } from '../pipeline/phase';
import { sandboxLimitFailure } from '../sandbox/sandbox-limiter';
import type { TestSuiteRunner } from '../verification/test-suite.runner';

const GIT_TIMEOUT_MS = 120_000;

/**
 * BASELINE: runs the test command at the base commit, before the model sees anything, to
 * learn what fails before the fix (the TEST phase compares against it). Fails
 * TESTS_NOT_RUNNABLE when the runner cannot even start (no change could ever be
 * verified, so no model time is spent), SANDBOX_*_LIMIT when the run ran past a
 * `sandbox.limits` entry, and TESTS_TIMED_OUT. Afterwards the tracked files
 * setup or the run rewrote are put back, so the model's edits are the only change.
 */
export class BaselinePhase implements JobPhase {
  readonly name = Phase.PHASE_BASELINE;
  // Reached only when the runner itself breaks (e.g. the sandbox cannot be set up): the worker's fault.
  readonly defaultFailure = FailureCode.INTERNAL;

  constructor(
    private readonly suites: Pick<TestSuiteRunner, 'run'>,
    private readonly git: Pick<GitRunner, 'run'>,
  ) {}

  async run(ctx: JobContext): Promise<void> {
    const run = await this.suites.run(ctx, 'baseline');
    const { verification } = ctx.report;
    verification.baseTestsRan = run.started;
    verification.baseTestExitCode = run.exitCode;
    if (run.report !== undefined) {
      verification.baseReportRead = true;
      verification.testsBefore = run.report.ran;
      verification.failingBefore = run.report.failing;
    }
    if (!run.started) throw new JobPhaseFailedError(FailureCode.TESTS_NOT_RUNNABLE, 'the test command could not be started at the base commit');
    // A limit, then the timeout: a run the kernel cut short says nothing about what fails at base.
    if (run.limit !== undefined) throw sandboxLimitFailure(run.limit, 'the test command at the base commit');
    if (run.timedOut) throw new JobPhaseFailedError(FailureCode.TESTS_TIMED_OUT, 'the test command timed out at the base commit');
    ctx.provide('baseline', run);
    const { worktree } = ctx.need('workspace');
    // Untracked output (installed dependencies, reports, caches) stays; it is never staged,
    // since APPLY stages only the files the model edited.
    await this.git.run(['restore', '--worktree', '--', '.'], { cwd: worktree, signal: ctx.signal, timeoutMs: GIT_TIMEOUT_MS });
  }
}
