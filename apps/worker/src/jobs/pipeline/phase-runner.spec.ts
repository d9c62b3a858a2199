import { FailureCode, JobOutcome, Phase, PhaseState } from '@airlock/protocol';
import { GitCommandFailedError } from '../../git/git-command-failed.error';
import { JobPhaseFailedError } from '../job-phase-failed.error';
import type { FailureCodeName, PhaseName } from '../job-result.builder';
import { RepoConfigInvalidError } from '../repo-config/repo-config-invalid.error';
import type { JobContext } from './job-context';
import { fakeJobContext } from './job-context.mock';
import type { JobPhase } from './phase';
import { ABORT_REASON, PhaseRunner, abortFailureCode } from './phase-runner';

describe('abortFailureCode', () => {
  it('tells a local job timeout from a cancel and a shutdown', async () => {
    const timedOut = AbortSignal.timeout(1);
    await new Promise((resolve) => timedOut.addEventListener('abort', resolve));
    expect(abortFailureCode(timedOut.reason)).toBe('JOB_TIMED_OUT');
    expect(abortFailureCode(ABORT_REASON.cancelled)).toBe('CANCELLED');
    expect(abortFailureCode(ABORT_REASON.shutdown)).toBe('WORKER_SHUTDOWN');
  });
});

/** A phase whose work is the function given; a small fake beside the real phases. */
function phase(name: PhaseName, defaultFailure: FailureCodeName, work: (ctx: JobContext) => Promise<void> | void = () => undefined): JobPhase & { calls: number } {
  return {
    name,
    defaultFailure,
    calls: 0,
    async run(ctx) {
      this.calls += 1;
      await work(ctx);
    },
  };
}

/** A job context over a fake request, recording progress events and local log lines. */
function harness(signal?: AbortSignal, progress?: () => void) {
  return fakeJobContext({ ...(signal ? { signal } : {}), ...(progress ? { progress } : {}) });
}

/** A clock that advances by the given steps, one per reading. */
function clock(...readings: number[]): () => number {
  return () => readings.shift() ?? Number.NaN;
}

describe('PhaseRunner.run', () => {
  it('times a phase with the injected clock and reports it STARTED, then COMPLETED', async () => {
    const { ctx, events } = harness();
    const outcome = await new PhaseRunner(clock(100, 142.4)).run(phase(Phase.PHASE_CONTEXT, FailureCode.INTERNAL), ctx);
    expect(outcome).toEqual({ status: 'completed' });
    expect(events).toEqual([`PHASE_CONTEXT ${PhaseState.PHASE_STATE_STARTED}`, `PHASE_CONTEXT ${PhaseState.PHASE_STATE_COMPLETED}`]);
    expect(ctx.report.succeeded().phaseDurations).toEqual([{ phase: Phase.PHASE_CONTEXT, durationMs: 42 }]);
  });

  it("ends a phase that throws a JobError with the error's own code, not the phase's default", async () => {
    const { ctx, events, logs } = harness();
    const failing = phase(Phase.PHASE_CONTEXT, FailureCode.INTERNAL, () => {
      throw new JobPhaseFailedError(FailureCode.CONTEXT_EMPTY, 'no file matched the ticket');
    });
    const outcome = await new PhaseRunner(clock(0, 7)).run(failing, ctx);
    expect(outcome).toEqual({ status: 'failed', failureCode: FailureCode.CONTEXT_EMPTY });
    expect(events).toEqual([`PHASE_CONTEXT ${PhaseState.PHASE_STATE_STARTED}`, `PHASE_CONTEXT ${PhaseState.PHASE_STATE_FAILED}`]);
    expect(ctx.report.failed(FailureCode.CONTEXT_EMPTY, Phase.PHASE_CONTEXT).phaseDurations).toEqual([{ phase: Phase.PHASE_CONTEXT, durationMs: 7 }]);
    // The detail goes to the local log only, with the job it belongs to.
    expect(logs).toEqual([
      expect.objectContaining({
        level: 'warn',
        event: 'phase-failed',
        phase: Phase.PHASE_CONTEXT,
        failureCode: FailureCode.CONTEXT_EMPTY,
        error: { name: 'JobPhaseFailedError', message: 'no file matched the ticket' },
      }),
    ]);
  });

  it("adds a JobError's own log fields (the .airlock.yml field at fault) to the local line", async () => {
    const { ctx, logs } = harness();
    const failing = phase(Phase.PHASE_WORKSPACE, FailureCode.WORKSPACE_FAILED, () => {
      throw new RepoConfigInvalidError('test.command', 'an array');
    });
    expect(await new PhaseRunner().run(failing, ctx)).toEqual({ status: 'failed', failureCode: FailureCode.REPO_CONFIG_INVALID });
    expect(logs[0]).toMatchObject({ event: 'phase-failed', field: 'test.command', error: { name: 'RepoConfigInvalidError' } });
  });

  it.each([
    ['a bug', new TypeError('x is undefined')],
    ['a failed git call', new GitCommandFailedError('push', 128, 'remote: denied', 'exit')],
    ['a thrown non-error', 'a string'],
  ])("ends a phase that throws anything else (%s) with the phase's defaultFailure", async (_what, thrown) => {
    const { ctx, logs } = harness();
    const failing = phase(Phase.PHASE_DELIVER, FailureCode.DELIVERY_FAILED, () => {
      throw thrown;
    });
    expect(await new PhaseRunner().run(failing, ctx)).toEqual({ status: 'failed', failureCode: FailureCode.DELIVERY_FAILED });
    expect(logs[0]).toMatchObject({ event: 'phase-failed', failureCode: FailureCode.DELIVERY_FAILED });
  });

  it('reports the abort, not what the phase threw on its way out, once the job is aborted', async () => {
    const controller = new AbortController();
    const { ctx } = harness(controller.signal);
    const failing = phase(Phase.PHASE_TEST, FailureCode.INTERNAL, () => {
      controller.abort(ABORT_REASON.shutdown);
      // What the test runner's own failure would say, had the job not been aborted.
      throw new JobPhaseFailedError(FailureCode.TESTS_FAILED, 'test command exited 143');
    });
    expect(await new PhaseRunner().run(failing, ctx)).toEqual({ status: 'failed', failureCode: FailureCode.WORKER_SHUTDOWN });
  });

  it('fails the phase that was running when an abort lands as it finishes', async () => {
    const controller = new AbortController();
    const { ctx, events } = harness(controller.signal);
    const finishing = phase(Phase.PHASE_INFERENCE, FailureCode.INFERENCE_UNAVAILABLE, () => controller.abort(ABORT_REASON.cancelled));
    expect(await new PhaseRunner().run(finishing, ctx)).toEqual({ status: 'failed', failureCode: FailureCode.CANCELLED });
    expect(events.at(-1)).toBe(`PHASE_INFERENCE ${PhaseState.PHASE_STATE_FAILED}`);
  });

  it('does not start a phase of a job already aborted (here by the local job timeout)', async () => {
    const { ctx } = harness(AbortSignal.abort(new DOMException('job timeout', 'TimeoutError')));
    const never = phase(Phase.PHASE_APPLY, FailureCode.PATCH_APPLY_FAILED);
    expect(await new PhaseRunner().run(never, ctx)).toEqual({ status: 'failed', failureCode: FailureCode.JOB_TIMED_OUT });
    expect(never.calls).toBe(0);
  });

  it('loses a progress event the listener cannot take, not the phase', async () => {
    const { ctx, logs } = harness(undefined, () => {
      throw new Error('stream gone');
    });
    expect(await new PhaseRunner().run(phase(Phase.PHASE_APPLY, FailureCode.PATCH_APPLY_FAILED), ctx)).toEqual({ status: 'completed' });
    expect(logs.map((line) => line['event'])).toEqual(['progress-not-reported', 'progress-not-reported']);
  });
});

describe('PhaseRunner.runAll', () => {
  it('runs every phase in order and succeeds, then releases what they held, newest first', async () => {
    const { ctx, events, logs } = harness();
    const released: string[] = [];
    const holding = (name: PhaseName) =>
      phase(name, FailureCode.INTERNAL, (c) => c.onRelease(() => Promise.resolve(void released.push(name))));
    const result = await new PhaseRunner().runAll([holding(Phase.PHASE_WORKSPACE), holding(Phase.PHASE_CONTEXT)], ctx);
    expect(result).toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_SUCCEEDED, failureCode: FailureCode.FAILURE_CODE_UNSPECIFIED, failedPhase: Phase.PHASE_UNSPECIFIED });
    expect(result.attempt).toEqual({ jobId: 'job-1', attempt: 2 });
    expect(events.filter((event) => event.endsWith(PhaseState.PHASE_STATE_COMPLETED))).toEqual([
      `PHASE_WORKSPACE ${PhaseState.PHASE_STATE_COMPLETED}`,
      `PHASE_CONTEXT ${PhaseState.PHASE_STATE_COMPLETED}`,
    ]);
    expect(released).toEqual([Phase.PHASE_CONTEXT, Phase.PHASE_WORKSPACE]);
    expect(logs.map((line) => line['event'])).toEqual(['job-succeeded']);
  });

  it('stops at the first failing phase, names it in the result, and still releases', async () => {
    const { ctx } = harness();
    let released = false;
    const first = phase(Phase.PHASE_WORKSPACE, FailureCode.WORKSPACE_FAILED, (c) => c.onRelease(() => Promise.resolve(void (released = true))));
    const failing = phase(Phase.PHASE_INFERENCE, FailureCode.INFERENCE_UNAVAILABLE, () => {
      throw new Error('ECONNREFUSED');
    });
    const after = phase(Phase.PHASE_APPLY, FailureCode.PATCH_APPLY_FAILED);
    const result = await new PhaseRunner().runAll([first, failing, after], ctx);
    expect(result).toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_FAILED, failureCode: FailureCode.INFERENCE_UNAVAILABLE, failedPhase: Phase.PHASE_INFERENCE });
    expect(result.phaseDurations.map((entry) => entry.phase)).toEqual([Phase.PHASE_WORKSPACE, Phase.PHASE_INFERENCE]);
    expect(after.calls).toBe(0);
    expect(released).toBe(true);
  });

  it('reports a cancelled or shut-down attempt as CANCELLED with its code', async () => {
    const controller = new AbortController();
    const { ctx } = harness(controller.signal);
    const result = await new PhaseRunner().runAll([phase(Phase.PHASE_TEST, FailureCode.INTERNAL, () => controller.abort(ABORT_REASON.shutdown))], ctx);
    expect(result).toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_CANCELLED, failureCode: FailureCode.WORKER_SHUTDOWN, failedPhase: Phase.PHASE_TEST });
  });

  it('logs a release that fails instead of throwing, and runs the others', async () => {
    const { ctx, logs } = harness();
    let otherReleased = false;
    const holding = phase(Phase.PHASE_WORKSPACE, FailureCode.WORKSPACE_FAILED, (c) => {
      c.onRelease(() => Promise.resolve(void (otherReleased = true)));
      c.onRelease(() => Promise.reject(new Error('EBUSY')));
    });
    await expect(new PhaseRunner().runAll([holding], ctx)).resolves.toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_SUCCEEDED });
    expect(otherReleased).toBe(true);
    expect(logs).toContainEqual(expect.objectContaining({ event: 'job-release-failed', error: { name: 'Error', message: 'EBUSY' } }));
  });
});

describe('JobContext', () => {
  it('hands on what a phase provided, and refuses to read what no phase provided yet', () => {
    const { ctx } = harness();
    expect(() => ctx.need('context')).toThrow("job state 'context' is needed before any phase provided it");
    ctx.provide('context', { symbols: [], files: [] });
    expect(ctx.need('context')).toEqual({ symbols: [], files: [] });
    expect(ctx.jobKey).toBe('job-1-2');
    expect(ctx.ticket).toEqual({ title: 'Fix add', description: '' });
  });
});
