import { FailureCode, Phase } from '@airlock/protocol';
import { type GovernedJobPolicyOptions, governedJobPolicy } from '../governance/governed-job-policy.mock';
import { fakeJobContext } from '../pipeline/job-context.mock';
import { ABORT_REASON, PhaseRunner } from '../pipeline/phase-runner';
import type { SuiteRun } from '../verification/change-verdict';
import { TestReport } from '../verification/test-report';
import { BaselinePhase } from './baseline.phase';
import { TestPhase } from './test.phase';

const red: SuiteRun = { started: true, exitCode: 1, timedOut: false, report: undefined };
const green: SuiteRun = { started: true, exitCode: 0, timedOut: false, report: undefined };

function report(statuses: Record<string, 'passed' | 'failed' | 'skipped'>): TestReport {
  const built = new TestReport();
  for (const [id, status] of Object.entries(statuses)) built.add(id, status);
  return built;
}

/** Suites that answer `runs` in order and record the labels they were run under. */
function scriptedSuites(runs: readonly SuiteRun[], during?: () => void) {
  const labels: string[] = [];
  return {
    labels,
    run(_ctx: unknown, label: string): Promise<SuiteRun> {
      labels.push(label);
      during?.();
      const run = runs[labels.length - 1];
      if (run === undefined) throw new Error(`no scripted run for ${label}`);
      return Promise.resolve(run);
    },
  };
}

/** A git that succeeds and records its calls; reproduction needs real git and is covered by the pipeline's integration spec. */
function recordingGit() {
  const calls: string[][] = [];
  return { calls, run: (args: readonly string[]) => (calls.push([...args]), Promise.resolve({ stdout: '', stderr: '' })) };
}

async function runPhases(runs: readonly SuiteRun[], options: { controller?: AbortController; during?: () => void; policy?: GovernedJobPolicyOptions } = {}) {
  const { ctx } = fakeJobContext({
    ...(options.controller ? { signal: options.controller.signal } : {}),
    ...(options.policy ? { policy: governedJobPolicy(options.policy) } : {}),
  });
  ctx.report.underPolicy(0, 0);
  ctx.provide('workspace', { worktree: '/work/jobs/job-1-2', baseCommit: 'abc123' });
  ctx.provide('repoConfig', { version: 1, test: { command: ['npm', 'test'] } });
  const suites = scriptedSuites(runs, options.during);
  const git = recordingGit();
  const result = await new PhaseRunner().runAll([new BaselinePhase(suites, git), new TestPhase(suites, git)], ctx);
  return { result, labels: suites.labels, git: git.calls };
}

describe('BaselinePhase and TestPhase', () => {
  it('runs the suite at base, then on the change, and passes a red-to-green change', async () => {
    const { result, labels } = await runPhases([red, green]);
    expect(labels).toEqual(['baseline', 'test']);
    expect(result).toMatchObject({
      outcome: 'JOB_OUTCOME_SUCCEEDED',
      verification: { baseTestsRan: true, baseTestExitCode: 1, testsRan: true, testExitCode: 0, baseReportRead: false, reportRead: false },
    });
  });

  it('puts back the tracked files setup and the base run changed, before any edit', async () => {
    const { git } = await runPhases([red, green]);
    expect(git[0]).toEqual(['restore', '--worktree', '--', '.']);
  });

  it('fails TESTS_NOT_RUNNABLE in BASELINE when the runner cannot start at base, and runs nothing after', async () => {
    const { result, labels } = await runPhases([{ started: false, exitCode: 127, timedOut: false, report: undefined }]);
    expect(labels).toEqual(['baseline']);
    expect(result).toMatchObject({ failureCode: FailureCode.TESTS_NOT_RUNNABLE, failedPhase: Phase.PHASE_BASELINE, verification: { baseTestsRan: false, testsRan: false } });
  });

  it('fails TESTS_TIMED_OUT in BASELINE when the base run outlasts its timeout', async () => {
    const { result } = await runPhases([{ ...red, exitCode: 137, timedOut: true }]);
    expect(result).toMatchObject({ failureCode: FailureCode.TESTS_TIMED_OUT, failedPhase: Phase.PHASE_BASELINE });
  });

  it.each([
    ['cpu', FailureCode.SANDBOX_CPU_LIMIT],
    ['memory', FailureCode.SANDBOX_MEMORY_LIMIT],
    ['processes', FailureCode.SANDBOX_PROCESS_LIMIT],
    ['disk', FailureCode.SANDBOX_DISK_LIMIT],
  ] as const)('fails BASELINE, then TEST, with the code of the sandbox limit (%s) the run went past, not TESTS_*', async (limit, code) => {
    // Timed out as well: the limit is the more precise cause, and wins.
    const atBase = await runPhases([{ ...red, exitCode: 137, timedOut: true, limit }]);
    expect(atBase.labels).toEqual(['baseline']);
    expect(atBase.result).toMatchObject({ failureCode: code, failedPhase: Phase.PHASE_BASELINE });
    const onChange = await runPhases([red, { ...red, exitCode: 137, limit }]);
    expect(onChange.result).toMatchObject({ failureCode: code, failedPhase: Phase.PHASE_TEST, verification: { testsRan: true, testExitCode: 137 } });
  });

  it('fails TESTS_FAILED with the exit code when the change leaves the tests red', async () => {
    const { result } = await runPhases([red, { ...red, exitCode: 2 }]);
    expect(result).toMatchObject({ failureCode: FailureCode.TESTS_FAILED, failedPhase: Phase.PHASE_TEST, verification: { testsRan: true, testExitCode: 2 } });
  });

  it('reports testsRan false when the runner could not start on the change, TESTS_FAILED', async () => {
    const { result } = await runPhases([red, { started: false, exitCode: 127, timedOut: false, report: undefined }]);
    expect(result).toMatchObject({ failureCode: FailureCode.TESTS_FAILED, failedPhase: Phase.PHASE_TEST, verification: { baseTestsRan: true, testsRan: false } });
  });

  it('fails TESTS_TIMED_OUT in TEST when the run on the change outlasts its timeout; the tests did run', async () => {
    const { result } = await runPhases([red, { ...red, exitCode: 137, timedOut: true }]);
    expect(result).toMatchObject({ failureCode: FailureCode.TESTS_TIMED_OUT, failedPhase: Phase.PHASE_TEST, verification: { testsRan: true } });
  });

  it('reports the counts of both reports and fails TESTS_REGRESSED when a test that passed fails', async () => {
    const base = report({ a: 'failed', b: 'passed', c: 'passed', d: 'skipped' });
    const after = report({ a: 'passed', b: 'failed', c: 'passed', d: 'skipped' });
    const { result } = await runPhases([{ ...red, report: base }, { ...red, report: after }]);
    expect(result).toMatchObject({
      failureCode: FailureCode.TESTS_REGRESSED,
      verification: { baseReportRead: true, reportRead: true, testsBefore: 3, failingBefore: 1, testsAfter: 3, failingAfter: 1, testsFixed: 1, testsRegressed: 1 },
    });
  });

  it('keeps the base counts when the run on the change writes no report, and says the comparison was by exit code', async () => {
    const { result } = await runPhases([{ ...red, report: report({ a: 'failed', b: 'passed' }) }, green]);
    expect(result).toMatchObject({ outcome: 'JOB_OUTCOME_SUCCEEDED', verification: { baseReportRead: true, testsBefore: 2, failingBefore: 1, reportRead: false, testsAfter: 0 } });
  });

  it('reports the abort code when the job is cancelled while the tests run on the change', async () => {
    const controller = new AbortController();
    let runs = 0;
    const { result } = await runPhases([red, green], {
      controller,
      during: () => {
        runs += 1;
        if (runs === 2) controller.abort(ABORT_REASON.cancelled);
      },
    });
    expect(result).toMatchObject({ failureCode: FailureCode.CANCELLED, failedPhase: Phase.PHASE_TEST });
  });
});

describe('TestPhase: the verification rules of the job policy', () => {
  const decisions = (result: { policy: { decisions: unknown[] } | null }) => result.policy?.decisions;

  it('stops failing tests with their own code and a BLOCKED tests-must-pass by default', async () => {
    const { result } = await runPhases([red, { ...red, exitCode: 2 }]);
    expect(result).toMatchObject({ failureCode: FailureCode.TESTS_FAILED, failedPhase: Phase.PHASE_TEST });
    expect(decisions(result)).toEqual([{ rule: 'RULE_TESTS_MUST_PASS', level: 'RULE_LEVEL_MANDATORY', outcome: 'RULE_OUTCOME_BLOCKED' }]);
  });

  it('passes a change whose exit code is explained by tests already failing at base, as before: tests-must-pass holds', async () => {
    const base = report({ a: 'failed', b: 'failed', c: 'passed' });
    const after = report({ a: 'passed', b: 'failed', c: 'passed' });
    const { result } = await runPhases([{ ...red, report: base }, { ...red, report: after }]);
    expect(result).toMatchObject({ outcome: 'JOB_OUTCOME_SUCCEEDED', verification: { testExitCode: 1, testsFixed: 1 } });
    expect(decisions(result)).toEqual([]);
  });

  it.each([
    ['the tests fail', { ...red, exitCode: 2 }],
    ['a test that passed fails', { ...green, exitCode: 1 }],
    ['the tests time out', { ...red, exitCode: 137, timedOut: true }],
  ])('lets the change through, RECORDED, when tests-must-pass is advisory and %s', async (_how, after) => {
    const base = after.timedOut || after.exitCode === 2 ? red : green;
    const { result, labels } = await runPhases([base, after], { policy: { localRules: { 'tests-must-pass': { required: true, level: 'advisory' } } } });
    expect(result).toMatchObject({ outcome: 'JOB_OUTCOME_SUCCEEDED', verification: { testsRan: true } });
    expect(decisions(result)).toEqual([{ rule: 'RULE_TESTS_MUST_PASS', level: 'RULE_LEVEL_ADVISORY', outcome: 'RULE_OUTCOME_RECORDED' }]);
    // No reproduction run either: the change's own tests did not pass.
    expect(labels).toEqual(['baseline', 'test']);
  });

  it('lets a change with failing tests through without a word when the worker does not require them to pass', async () => {
    const { result } = await runPhases([red, { ...red, exitCode: 2 }], { policy: { localRules: { 'tests-must-pass': { required: false, level: 'mandatory' } } } });
    expect(result).toMatchObject({ outcome: 'JOB_OUTCOME_SUCCEEDED' });
    expect(decisions(result)).toEqual([]);
  });

  it('still requires a reproduction whatever tests-must-pass says', async () => {
    const { result } = await runPhases([green, green], { policy: { localRules: { 'tests-must-pass': { required: false, level: 'advisory' } } } });
    expect(result).toMatchObject({ failureCode: FailureCode.REPRODUCTION_MISSING, failedPhase: Phase.PHASE_TEST });
  });

  it('fails POLICY_VIOLATION in TEST when fewer tests ran on the change than a mandatory min-tests-run', async () => {
    const base = report({ a: 'failed', b: 'passed' });
    const after = report({ a: 'passed', b: 'passed' });
    const { result } = await runPhases([{ ...red, report: base }, { ...green, report: after }], { policy: { centralRules: { 'min-tests-run': { min: 3, level: 'mandatory' } } } });
    expect(result).toMatchObject({ failureCode: FailureCode.POLICY_VIOLATION, failedPhase: Phase.PHASE_TEST, verification: { testsAfter: 2 } });
    expect(decisions(result)).toEqual([{ rule: 'RULE_MIN_TESTS_RUN', level: 'RULE_LEVEL_MANDATORY', outcome: 'RULE_OUTCOME_BLOCKED' }]);
  });

  it('passes when as many tests ran as min-tests-run asks, and records an advisory minimum that was not met', async () => {
    const base = report({ a: 'failed', b: 'passed' });
    const after = report({ a: 'passed', b: 'passed' });
    const met = await runPhases([{ ...red, report: base }, { ...green, report: after }], { policy: { centralRules: { 'min-tests-run': { min: 2, level: 'mandatory' } } } });
    expect(met.result).toMatchObject({ outcome: 'JOB_OUTCOME_SUCCEEDED' });
    expect(decisions(met.result)).toEqual([]);
    const advisory = await runPhases([red, green], { policy: { localRules: { 'min-tests-run': { min: 5, level: 'advisory' } } } });
    expect(advisory.result).toMatchObject({ outcome: 'JOB_OUTCOME_SUCCEEDED' });
    expect(decisions(advisory.result)).toEqual([{ rule: 'RULE_MIN_TESTS_RUN', level: 'RULE_LEVEL_ADVISORY', outcome: 'RULE_OUTCOME_RECORDED' }]);
  });

  it('reports what a shadow min-tests-run would have blocked, and passes the change', async () => {
    const { result } = await runPhases([red, green], { policy: { shadowRules: { 'min-tests-run': { min: 1, level: 'mandatory' } } } });
    expect(result).toMatchObject({ outcome: 'JOB_OUTCOME_SUCCEEDED' });
    expect(decisions(result)).toEqual([{ rule: 'RULE_MIN_TESTS_RUN', level: 'RULE_LEVEL_MANDATORY', outcome: 'RULE_OUTCOME_SHADOW_WOULD_BLOCK' }]);
  });
});
