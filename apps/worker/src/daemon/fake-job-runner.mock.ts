import { FailureCode, Phase, PhaseState, type InstructionPayload__Output, type JobResult__Output } from '@airlock/protocol';
import { type FailureCodeName, JobResultBuilder } from '../jobs/job-result.builder';
import type { JobRunner } from '../jobs/job.runner';
import { abortFailureCode, type LeaseGuard, type ProgressListener } from '../jobs/pipeline/fix-job.pipeline';
import type { JobPolicy } from '../policy/job-policy';

/** A job the fake runner holds until the test ends it. */
export interface HeldJob {
  readonly payload: InstructionPayload__Output;
  /** The policy the daemon admitted it under. */
  readonly policy: JobPolicy;
  readonly signal: AbortSignal;
  readonly progress: ProgressListener;
  /** The daemon's lease guard, as DELIVER would call it. */
  readonly confirmLease: LeaseGuard;
  /** Ends the job with this outcome (SUCCEEDED unless a failure code is given). */
  finish(failureCode?: FailureCodeName): void;
}

/**
 * The job runner, with nothing behind it: each job reports WORKSPACE started, then waits
 * until the test finishes it or its signal fires; an aborted job ends with the failure code
 * the real pipeline gives it (CANCELLED, WORKER_SHUTDOWN, or JOB_TIMED_OUT for the local
 * timeout).
 */
export class FakeJobRunner implements Pick<JobRunner, 'run'> {
  readonly jobs: HeldJob[] = [];
  /** Throw from `run` itself (a bug in the runner), for jobs started from now on. */
  crash = false;

  run(payload: InstructionPayload__Output, policy: JobPolicy, signal: AbortSignal, progress: ProgressListener, confirmLease: LeaseGuard): Promise<JobResult__Output> {
    if (this.crash) return Promise.reject(new Error('runner crashed'));
    return new Promise((resolve) => {
      const report = new JobResultBuilder(payload.jobId, payload.attempt);
      const done = (failureCode: FailureCodeName) =>
        resolve(failureCode === FailureCode.FAILURE_CODE_UNSPECIFIED ? report.succeeded() : report.failed(failureCode, Phase.PHASE_WORKSPACE));
      signal.addEventListener('abort', () => done(abortFailureCode(signal.reason)), { once: true });
      progress(Phase.PHASE_WORKSPACE, PhaseState.PHASE_STATE_STARTED);
      this.jobs.push({ payload, policy, signal, progress, confirmLease, finish: (failureCode = FailureCode.FAILURE_CODE_UNSPECIFIED) => done(failureCode) });
    });
  }

  /** The job held for this id (its latest attempt). */
  job(jobId: string): HeldJob {
    const job = this.jobs.filter((held) => held.payload.jobId === jobId).at(-1);
    if (!job) throw new Error(`no job ${jobId} was started`);
    return job;
  }
}
