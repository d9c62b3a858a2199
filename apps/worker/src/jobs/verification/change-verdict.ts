import { FailureCode } from '@airlock/protocol';
import type { SandboxLimitName } from '../sandbox/sandbox-limiter';
import type { TestReport } from './test-report';

/** One run of the repository's test command, as the verification reads it. */
export interface SuiteRun {
  /** The runner itself started (not a missing or unexecutable command). */
  readonly started: boolean;
  readonly exitCode: number;
  readonly timedOut: boolean;
  /** The `sandbox.limits` entry the run ran past (its exit code then is not the tests' verdict); absent when none. */
  readonly limit?: SandboxLimitName;
  /** The runner's JUnit report, when `.airlock.yml` names one and the run wrote a readable one. */
  readonly report: TestReport | undefined;
  /** The run's local log (the end of its output), when it has one. */
  readonly logFile?: string;
}

/** What crosses the boundary of a comparison: counts, never names. All 0 unless `reportRead`. */
export interface ComparisonCounts {
  /** Both runs wrote a readable report, so tests could be matched one by one. */
  readonly reportRead: boolean;
  readonly testsAfter: number;
  readonly failingAfter: number;
  readonly testsFixed: number;
  readonly testsRegressed: number;
}

/** How a change compares with the base commit. */
export type ChangeVerdict =
  /** Tests that failed at base pass, and nothing that passed fails. */
  | { readonly kind: 'fixed' }
  /** Everything passed at base and still does: only a test that fails without the change can show it fixes anything. */
  | { readonly kind: 'needs-reproduction' }
  | { readonly kind: 'rejected'; readonly failureCode: typeof FailureCode.TESTS_FAILED | typeof FailureCode.TESTS_REGRESSED; readonly reason: string };

/** A run in which every test passed: the runner started, finished in time, exited 0 and its report, if any, shows no failure. */
export function isGreen(run: SuiteRun): boolean {
  return run.started && !run.timedOut && run.limit === undefined && run.exitCode === 0 && (run.report === undefined || run.report.failing === 0);
}

/**
 * Judges a change by comparing the test run on it with the run at the base commit.
 *
 * With both runs' reports, tests are matched by identity: the change is `fixed` when at
 * least one test that failed at base passes, no test that passed at base fails, no new test
 * fails, and a non-zero exit is explained by a test that was already failing (so a failure
 * the report does not show, such as a crashed runner or a coverage gate, is not overlooked).
 * Without reports only exit codes are known: red at base and green now is `fixed`.
 */
export function judgeChange(base: SuiteRun, after: SuiteRun): { readonly counts: ComparisonCounts; readonly verdict: ChangeVerdict } {
  const counts = countChange(base, after);
  if (isGreen(base)) {
    if (!isGreen(after)) {
      // Without reports, a red run after a green one is all that is known: something that passed fails.
      return counts.testsRegressed > 0 || !counts.reportRead
        ? { counts, verdict: rejected(FailureCode.TESTS_REGRESSED, 'the change breaks tests that passed at base') }
        : { counts, verdict: rejected(FailureCode.TESTS_FAILED, `tests fail on the change (exit ${after.exitCode})`) };
    }
    return { counts, verdict: { kind: 'needs-reproduction' } };
  }
  if (base.report === undefined || after.report === undefined) {
    return { counts, verdict: isGreen(after) ? { kind: 'fixed' } : rejected(FailureCode.TESTS_FAILED, `tests still fail (exit ${after.exitCode})`) };
  }
  if (counts.testsRegressed > 0) return { counts, verdict: rejected(FailureCode.TESTS_REGRESSED, `${counts.testsRegressed} test(s) that passed at base fail`) };
  const newFailures = after.report.idsWith('failed').filter((id) => base.report?.statusOf(id) !== 'failed').length;
  if (newFailures > 0) return { counts, verdict: rejected(FailureCode.TESTS_FAILED, `${newFailures} new test(s) fail`) };
  if (counts.testsFixed === 0) return { counts, verdict: rejected(FailureCode.TESTS_FAILED, 'no test that failed at base passes') };
  if (after.exitCode !== 0 && after.report.failing === 0) return { counts, verdict: rejected(FailureCode.TESTS_FAILED, `the runner exited ${after.exitCode} though its report shows no failure`) };
  return { counts, verdict: { kind: 'fixed' } };
}

/**
 * Whether a run of the change's tests on the base code (the fix taken out) shows the
 * problem: the runner started and did not pass. A run that hangs counts: a hang can be the bug.
 */
export function reproducesProblem(testsWithoutFix: SuiteRun): boolean {
  return testsWithoutFix.started && (testsWithoutFix.timedOut || !isGreen(testsWithoutFix));
}

function countChange(base: SuiteRun, after: SuiteRun): ComparisonCounts {
  if (base.report === undefined || after.report === undefined) {
    return { reportRead: false, testsAfter: 0, failingAfter: 0, testsFixed: 0, testsRegressed: 0 };
  }
  const before = base.report;
  const now = after.report;
  return {
    reportRead: true,
    testsAfter: now.ran,
    failingAfter: now.failing,
    testsFixed: before.idsWith('failed').filter((id) => now.statusOf(id) === 'passed').length,
    testsRegressed: before.idsWith('passed').filter((id) => now.statusOf(id) === 'failed').length,
  };
}

function rejected(failureCode: typeof FailureCode.TESTS_FAILED | typeof FailureCode.TESTS_REGRESSED, reason: string): ChangeVerdict {
  return { kind: 'rejected', failureCode, reason };
}
