import { FailureCode, Phase } from '@airlock/protocol';
import type { GitRunner } from '../../git/git-runner';
import { JobPhaseFailedError } from '../job-phase-failed.error';
import type { JobContext } from '../pipeline/job-context';
import type { JobPhase } from '../pipeline/phase';
import { type SuiteRun, judgeChange, reproducesProblem } from '../verification/change-verdict';
import { TestFileClassifier } from '../verification/test-files';
import type { TestSuiteRunner } from '../verification/test-suite.runner';

const GIT_TIMEOUT_MS = 120_000;

/**
 * TEST: runs the repository's test command on the change and compares it with the run at
 * the base commit (BASELINE). The change passes when tests that failed at base pass and
 * nothing that passed fails; when everything passed at base already, only a test the
 * change adds that fails without its fix can show it fixes anything — it is run on the base
 * code with the change's tests alone. Fails TESTS_FAILED, TESTS_REGRESSED, TESTS_TIMED_OUT
 * or REPRODUCTION_MISSING; nothing is delivered unless the change passes. Output stays in
 * local logs; only counts are reported.
 */
export class TestPhase implements JobPhase {
  readonly name = Phase.PHASE_TEST;
  // Reached only when the runner itself breaks (e.g. the sandbox cannot be set up): the worker's fault.
  readonly defaultFailure = FailureCode.INTERNAL;

  constructor(
    private readonly suites: Pick<TestSuiteRunner, 'run'>,
    private readonly git: Pick<GitRunner, 'run'>,
  ) {}

  async run(ctx: JobContext): Promise<void> {
    const patch = ctx.record.lastPatchNumber;
    try {
      await this.verify(ctx);
      if (patch !== undefined) ctx.record.patchVerdict(patch, 'tests-passed');
    } catch (error) {
      // The local record says why the candidate was rejected; an abort is not the patch's fault.
      if (patch !== undefined && !ctx.signal.aborted) ctx.record.patchVerdict(patch, 'tests-failed');
      throw error;
    }
  }

  private async verify(ctx: JobContext): Promise<void> {
    const baseline = ctx.need('baseline');
    const after = await this.suites.run(ctx, 'test');
    const { verification } = ctx.report;
    verification.testsRan = after.started;
    verification.testExitCode = after.exitCode;
    if (!after.started) throw new JobPhaseFailedError(FailureCode.TESTS_FAILED, 'the test command could not be started on the change');
    if (after.timedOut) throw new JobPhaseFailedError(FailureCode.TESTS_TIMED_OUT, 'test command timed out');
    const { counts, verdict } = judgeChange(baseline, after);
    Object.assign(verification, counts);
    if (verdict.kind === 'rejected') throw new JobPhaseFailedError(verdict.failureCode, verdict.reason);
    if (verdict.kind === 'needs-reproduction') await this.requireReproduction(ctx);
  }

  /**
   * Takes the fix out of the worktree (the files of the change that are not tests, back to
   * base), runs the suite with the change's tests alone, and puts the fix back from the
   * index, which holds the whole change. The tests must fail there: otherwise they do not
   * show the problem the ticket describes, and neither does anything else.
   */
  private async requireReproduction(ctx: JobContext): Promise<void> {
    const { worktree, baseCommit } = ctx.need('workspace');
    const classifier = new TestFileClassifier(ctx.need('repoConfig').test.paths);
    const git = (args: string[], input?: string) =>
      this.git.run(['--literal-pathspecs', ...args], { cwd: worktree, signal: ctx.signal, timeoutMs: GIT_TIMEOUT_MS, ...(input === undefined ? {} : { input }) });
    const changed = (await git(['diff', '--cached', '--name-only', '-z', '--no-renames', baseCommit])).stdout.split('\0').filter(Boolean);
    const fix = changed.filter((path) => !classifier.isTest(path));
    if (fix.length === changed.length) throw new JobPhaseFailedError(FailureCode.REPRODUCTION_MISSING, 'every test passed at base and the change adds no test');
    if (fix.length === 0) throw new JobPhaseFailedError(FailureCode.REPRODUCTION_MISSING, 'every test passed at base and the change touches tests only');
    const pathspec = `${fix.join('\0')}\0`;
    await git(['restore', `--source=${baseCommit}`, '--worktree', '--pathspec-from-file=-', '--pathspec-file-nul'], pathspec);
    let withoutFix: SuiteRun;
    try {
      withoutFix = await this.suites.run(ctx, 'reproduction');
    } finally {
      await git(['restore', '--worktree', '--pathspec-from-file=-', '--pathspec-file-nul'], pathspec);
    }
    if (!reproducesProblem(withoutFix)) throw new JobPhaseFailedError(FailureCode.REPRODUCTION_MISSING, "the change's tests pass without its fix");
    // testsFixed stays 0: it counts tests that failed at base, and these did not exist there.
    ctx.report.verification.reproductionAdded = true;
  }
}
