import { FailureCode, Phase } from '@airlock/protocol';
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

async function runPhases(runs: readonly SuiteRun[], options: { controller?: AbortController; during?: () => void } = {}) {
  const { ctx } = fakeJobContext(options.controller ? { signal: options.controller.signal } : {});
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
