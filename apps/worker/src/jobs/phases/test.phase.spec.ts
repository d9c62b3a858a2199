import { FailureCode, Phase } from '@airlock/protocol';
import { fakeJobContext } from '../pipeline/job-context.mock';
import { ABORT_REASON, PhaseRunner } from '../pipeline/phase-runner';
import type { TestRunOutcome, TestRunRequest } from '../test-command.runner';
import { TestPhase } from './test.phase';

/** A test runner that answers with `outcome` and keeps the request it got. */
function fakeRunner(outcome: TestRunOutcome, during?: () => void) {
  const requests: TestRunRequest[] = [];
  return {
    requests,
    run(request: TestRunRequest): Promise<TestRunOutcome> {
      requests.push(request);
      during?.();
      return Promise.resolve(outcome);
    },
  };
}

const config = { stateDir: '/var/lib/airlock', limits: { testTimeout: 300_000 } };
const ran = { started: true, exitCode: 0, timedOut: false, aborted: false };

async function runTestPhase(outcome: TestRunOutcome, options: { timeout?: number; controller?: AbortController; during?: () => void } = {}) {
  const { ctx } = fakeJobContext(options.controller ? { signal: options.controller.signal } : {});
  ctx.provide('workspace', { worktree: '/work/jobs/job-1-2', baseCommit: 'abc123' });
  ctx.provide('repoConfig', { version: 1, test: { command: ['npm', 'test'], ...(options.timeout === undefined ? {} : { timeout: options.timeout }) } });
  const runner = fakeRunner(outcome, options.during);
  const result = await new PhaseRunner().runAll([new TestPhase(runner, config)], ctx);
  return { result, requests: runner.requests };
}

describe('TestPhase', () => {
  it("runs the repository's argv in the worktree, logging under stateDir/job-logs, with the default timeout", async () => {
    const { result, requests } = await runTestPhase(ran);
    expect(requests).toEqual([
      expect.objectContaining({ argv: ['npm', 'test'], cwd: '/work/jobs/job-1-2', timeoutMs: 300_000, logFile: '/var/lib/airlock/job-logs/job-1-2.test.log' }),
    ]);
    expect(result.verification).toEqual({ testsRan: true, testExitCode: 0 });
    expect(result.failureCode).toBe(FailureCode.FAILURE_CODE_UNSPECIFIED);
  });

  it("takes the timeout from .airlock.yml when it sets one", async () => {
    const { requests } = await runTestPhase(ran, { timeout: 120_000 });
    expect(requests[0]?.timeoutMs).toBe(120_000);
  });

  it('fails TESTS_FAILED with the exit code when the tests ran and failed', async () => {
    const { result } = await runTestPhase({ ...ran, exitCode: 2 });
    expect(result).toMatchObject({ failureCode: FailureCode.TESTS_FAILED, failedPhase: Phase.PHASE_TEST, verification: { testsRan: true, testExitCode: 2 } });
  });

  it('reports testsRan false when the test command never started (missing, not executable), still TESTS_FAILED', async () => {
    const { result } = await runTestPhase({ started: false, exitCode: 127, timedOut: false, aborted: false });
    expect(result).toMatchObject({ failureCode: FailureCode.TESTS_FAILED, failedPhase: Phase.PHASE_TEST, verification: { testsRan: false } });
  });

  it('fails TESTS_TIMED_OUT when the tests outlast their timeout; they did run', async () => {
    const { result } = await runTestPhase({ started: true, exitCode: 137, timedOut: true, aborted: false });
    expect(result).toMatchObject({ failureCode: FailureCode.TESTS_TIMED_OUT, verification: { testsRan: true } });
  });

  it('reports testsRan false and the abort code when the job is cancelled while the tests run', async () => {
    const controller = new AbortController();
    const { result } = await runTestPhase({ started: true, exitCode: 143, timedOut: false, aborted: true }, { controller, during: () => controller.abort(ABORT_REASON.cancelled) });
    expect(result).toMatchObject({ failureCode: FailureCode.CANCELLED, failedPhase: Phase.PHASE_TEST, verification: { testsRan: false } });
  });
});
