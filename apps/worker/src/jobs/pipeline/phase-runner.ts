import { FailureCode, PhaseState, type JobResult__Output } from '@airlock/protocol';
import { JobError } from '../job.error';
import type { FailureCodeName, PhaseName } from '../job-result.builder';
import type { AttemptContext } from './job-context';
import type { JobPhase } from './phase';

/** Why a job's AbortSignal fired; decides between CANCELLED and WORKER_SHUTDOWN. */
export const ABORT_REASON = { cancelled: 'cancelled', shutdown: 'shutdown' } as const;

/**
 * The failure code for a job whose AbortSignal fired: the daemon aborts with an
 * ABORT_REASON, and `AbortSignal.timeout` (the local jobTimeout) with a TimeoutError.
 */
export function abortFailureCode(reason: unknown): FailureCodeName {
  if (reason === ABORT_REASON.shutdown) return FailureCode.WORKER_SHUTDOWN;
  if (reason instanceof DOMException && reason.name === 'TimeoutError') return FailureCode.JOB_TIMED_OUT;
  return FailureCode.CANCELLED;
}

/** How one phase ended. */
export type PhaseOutcome = { readonly status: 'completed' } | { readonly status: 'failed'; readonly failureCode: FailureCodeName };

/**
 * Runs phases: times each, reports it STARTED and then COMPLETED or FAILED, honours the
 * job's AbortSignal, and turns every way a phase can end into one outcome. This is the only
 * place an error becomes a FailureCode: an aborted job → `abortFailureCode(reason)`, whatever
 * the phase threw on the way out; a JobError → its own code; anything else → the phase's
 * `defaultFailure`. The error itself is logged locally, never sent.
 */
export class PhaseRunner {
  constructor(private readonly now: () => number = () => performance.now()) {}

  /**
   * Runs `phases` in order until one fails, and yields the attempt's result: SUCCEEDED, or
   * the failure code and the phase that failed. What the phases registered for release (the
   * worktree) is released before it returns, however the attempt ended.
   */
  async runAll<C extends AttemptContext>(phases: readonly JobPhase<C>[], ctx: C): Promise<JobResult__Output> {
    try {
      for (const phase of phases) {
        const outcome = await this.run(phase, ctx);
        if (outcome.status === 'failed') return ctx.report.failed(outcome.failureCode, phase.name);
      }
      ctx.logger.info('job-succeeded');
      return ctx.report.succeeded();
    } finally {
      await ctx.release();
    }
  }

  /** Runs one phase. Never throws. */
  async run<C extends AttemptContext>(phase: JobPhase<C>, ctx: C): Promise<PhaseOutcome> {
    const started = this.now();
    this.notify(ctx, phase.name, PhaseState.PHASE_STATE_STARTED);
    try {
      ctx.signal.throwIfAborted();
      await phase.run(ctx);
      // An abort that lands while the phase finishes is charged to this phase, which was
      // running when it came, rather than to the next one.
      ctx.signal.throwIfAborted();
      ctx.report.recordDuration(phase.name, this.now() - started);
      this.notify(ctx, phase.name, PhaseState.PHASE_STATE_COMPLETED);
      return { status: 'completed' };
    } catch (error) {
      ctx.report.recordDuration(phase.name, this.now() - started);
      this.notify(ctx, phase.name, PhaseState.PHASE_STATE_FAILED);
      const failureCode = failureCodeOf(phase, error, ctx.signal);
      // Local log only: the detail may name files, hosts or commands.
      ctx.logger.warn('phase-failed', {
        phase: phase.name,
        failureCode,
        error: error instanceof Error ? error : String(error),
        ...(error instanceof JobError ? error.logFields : {}),
      });
      return { status: 'failed', failureCode };
    }
  }

  /** A progress event that cannot be reported is lost, not the attempt: the result still counts. */
  private notify(ctx: AttemptContext, phase: PhaseName, state: (typeof PhaseState)[keyof typeof PhaseState]): void {
    try {
      ctx.request.progress(phase, state);
    } catch (error) {
      ctx.logger.warn('progress-not-reported', { phase, state, error: error instanceof Error ? error : String(error) });
    }
  }
}

function failureCodeOf(phase: Pick<JobPhase<AttemptContext>, 'defaultFailure'>, error: unknown, signal: AbortSignal): FailureCodeName {
  // Checked first: an aborted git call or model request fails with its own error, but the
  // reason the job stopped is the abort.
  if (signal.aborted) return abortFailureCode(signal.reason);
  if (error instanceof JobError) return error.failureCode;
  return phase.defaultFailure;
}
