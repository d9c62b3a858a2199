import { evaluateVerification, type VerificationFacts } from '@airlock/policy';
import { FailureCode, Phase } from '@airlock/protocol';
import type { GitRunner } from '../../git/git-runner';
import { PolicyViolationError } from '../governance/policy-violation.error';
import type { FailureCodeName } from '../job-result.builder';
import { JobPhaseFailedError } from '../job-phase-failed.error';
import type { JobContext } from '../pipeline/job-context';
import type { JobPhase } from '../pipeline/phase';
import { SANDBOX_LIMIT_FAILURES, SANDBOX_LIMIT_NAMES, sandboxLimitFailure } from '../sandbox/sandbox-limiter';
import { type SuiteRun, judgeChange, reproducesProblem } from '../verification/change-verdict';
import { TestFileClassifier } from '../verification/test-files';
import type { TestSuiteRunner } from '../verification/test-suite.runner';

const GIT_TIMEOUT_MS = 120_000;

/** Why the change's tests did not pass, as TEST would end the job for it. */
interface TestFailure {
  readonly code: FailureCodeName;
  readonly reason: string;
}

/**
 * TEST: runs the repository's test command on the change and compares it with the run at
 * the base commit (BASELINE). The change passes when tests that failed at base pass and
 * nothing that passed fails; when everything passed at base already, only a test the
 * change adds that fails without its fix can show it fixes anything — it is run on the base
 * code with the change's tests alone. Output stays in local logs; only counts are reported.
 *
 * Then the verification rules of the job's policy: `tests-must-pass` (mandatory and
 * required, as by default) stops a change whose tests fail with TESTS_FAILED,
 * TESTS_REGRESSED, TESTS_TIMED_OUT or the SANDBOX_*_LIMIT code of a `sandbox.limits` entry
 * the run ran past (the tests' verdict is then unknown, as after a timeout); advisory, or not required (which only the worker's own
 * config can say), it lets the change be delivered — recorded when advisory.
 * `min-tests-run` stops a change on which fewer tests ran than its minimum (or no report
 * said how many) with POLICY_VIOLATION when mandatory, and is recorded when advisory.
 * REPRODUCTION_MISSING holds whatever the policy says.
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
      const passed = await this.verify(ctx);
      if (patch !== undefined) ctx.record.patchVerdict(patch, passed ? 'tests-passed' : 'tests-failed');
    } catch (error) {
      // The local record says why the candidate was rejected; an abort is not the patch's fault.
      if (patch !== undefined && !ctx.signal.aborted) ctx.record.patchVerdict(patch, 'tests-failed');
      throw error;
    }
  }

  /** Verifies the change and applies the verification rules; resolves whether its tests passed (the policy may let a change through that did not). */
  private async verify(ctx: JobContext): Promise<boolean> {
    const baseline = ctx.need('baseline');
    const after = await this.suites.run(ctx, 'test');
    const { verification } = ctx.report;
    verification.testsRan = after.started;
    verification.testExitCode = after.exitCode;
    let failure: TestFailure | undefined;
    let needsReproduction = false;
    if (!after.started) failure = { code: FailureCode.TESTS_FAILED, reason: 'the test command could not be started on the change' };
    else if (after.limit !== undefined) failure = { code: SANDBOX_LIMIT_FAILURES[after.limit], reason: `the test command ran past the sandbox's ${SANDBOX_LIMIT_NAMES[after.limit]} limit` };
    else if (after.timedOut) failure = { code: FailureCode.TESTS_TIMED_OUT, reason: 'test command timed out' };
    else {
      const { counts, verdict } = judgeChange(baseline, after);
      Object.assign(verification, counts);
      if (verdict.kind === 'rejected') failure = { code: verdict.failureCode, reason: verdict.reason };
      needsReproduction = verdict.kind === 'needs-reproduction';
    }
    this.applyVerificationRules(ctx, after, failure);
    if (needsReproduction) await this.requireReproduction(ctx);
    return failure === undefined;
  }

  /**
   * tests-must-pass asks whether the change passed the comparison above — which accepts a
   * non-zero exit explained by tests already failing at base and refuses a zero exit that
   * breaks one — so the facts give it that verdict as the exit code; min-tests-run counts the
   * tests the change's own report shows. Throws when a mandatory rule is broken.
   */
  private applyVerificationRules(ctx: JobContext, after: SuiteRun, failure: TestFailure | undefined): void {
    const { enforced, shadow } = ctx.request.policy;
    const facts: VerificationFacts = {
      testsRan: after.started,
      testExitCode: failure === undefined ? 0 : after.exitCode || 1,
      reportRead: after.report !== undefined,
      testsAfter: after.report?.ran ?? 0,
    };
    const violations = evaluateVerification(enforced, facts).map((violation) =>
      violation.rule === 'tests-must-pass' && failure !== undefined ? { ...violation, detail: `${failure.code}: ${failure.reason}` } : violation,
    );
    const { decisions } = ctx.report;
    decisions.addEnforced(violations);
    const blocked = violations.filter((violation) => violation.level === 'mandatory');
    if (shadow !== undefined) decisions.addShadow(evaluateVerification(shadow, facts), new Set(blocked.map((violation) => violation.rule)));
    // The tests' own code first: it says more than the policy rule that stops the change.
    if (failure !== undefined && blocked.some((violation) => violation.rule === 'tests-must-pass')) throw new JobPhaseFailedError(failure.code, failure.reason);
    if (blocked.length > 0) throw new PolicyViolationError(blocked.map((violation) => violation.rule), blocked.map((violation) => `${violation.rule}: ${violation.detail}`).join('; '));
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
    if (withoutFix.limit !== undefined) throw sandboxLimitFailure(withoutFix.limit, "the change's tests without its fix");
    if (!reproducesProblem(withoutFix)) throw new JobPhaseFailedError(FailureCode.REPRODUCTION_MISSING, "the change's tests pass without its fix");
    // testsFixed stays 0: it counts tests that failed at base, and these did not exist there.
    ctx.report.verification.reproductionAdded = true;
  }
}
