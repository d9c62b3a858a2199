import { FailureCode, type InstructionPayload__Output, type WorkerFrame__Output } from '@airlock/protocol';
import { ABORT_REASON } from '../jobs/pipeline/phase-runner';
import type { ProgressListener } from '../jobs/pipeline/fix-job.pipeline';
import { JobPhaseFailedError } from '../jobs/job-phase-failed.error';
import type { JobRunner } from '../jobs/job.runner';
import type { Logger } from '../logging/json-logger';
import type { WorkerMetrics } from '../metrics/worker-metrics';
import type { JobPolicy } from '../policy/job-policy';
import type { ResultOutbox } from '../outbox/result-outbox';
import type { DaemonClock } from './daemon.clock';
import type { LeaseTracker } from './lease.tracker';
import type { RunningAttempt } from './session.loop';

/** How long delivery waits for a lease renewal it asked for before giving up with LEASE_UNCONFIRMED. */
export const LEASE_CONFIRM_WAIT_MS = 10_000;

/** Why every running job is being aborted: the daemon stops (WORKER_SHUTDOWN). */
export type AbortAllReason = typeof ABORT_REASON.shutdown;

/** What the lease guard needs of the stream. */
export interface LeaseSource {
  /** The lease length of the latest Welcome, if any came yet. */
  readonly leaseTtlMs: number | undefined;
  /** Sends a heartbeat now, so that a renewal comes back at once. */
  heartbeatNow(): void;
}

/** Everything the job slots are built from. */
export interface JobSlotsDependencies {
  readonly capacity: number;
  /** `limits.jobTimeout`: a job still running after this is aborted (JOB_TIMED_OUT). */
  readonly jobTimeoutMs: number;
  readonly jobs: Pick<JobRunner, 'run'>;
  readonly outbox: Pick<ResultOutbox, 'put'>;
  readonly send: (frame: WorkerFrame__Output) => boolean;
  readonly leases: Pick<LeaseTracker, 'track' | 'forget' | 'remainingMs' | 'waitForLease'>;
  readonly lease: LeaseSource;
  /** Whether the egress audit log takes writes: decides LEASE_UNCONFIRMED or AUDIT_LOG_UNAVAILABLE. */
  readonly auditHealthy: () => boolean;
  readonly clock: Pick<DaemonClock, 'after'>;
  readonly logger: Logger;
  /** A job started in a slot. */
  readonly started: () => void;
  /** A job left its slot (its result sent, or not): the slot is free again. */
  readonly finished: () => void;
  /** Counts each attempt's outcome and phase durations, from its result; absent, nothing is counted. */
  readonly metrics?: Pick<WorkerMetrics, 'jobFinished'>;
}

interface RunningJob extends RunningAttempt {
  readonly controller: AbortController;
  done: Promise<void>;
}

/**
 * The job slots (temporal's slot supplier, in its simplest form: a fixed number): which
 * attempts run here, each with its abort controller and its lease. A job runs to a result
 * whatever happens — finished, failed, cancelled, timed out or aborted at shutdown — which
 * goes to the outbox, then upstream, before its slot frees.
 */
export class JobSlots {
  private readonly running = new Map<string, RunningJob>();

  constructor(private readonly deps: JobSlotsDependencies) {}

  /** Jobs running now. */
  get size(): number {
    return this.running.size;
  }

  /** Whether every slot is taken. */
  get isFull(): boolean {
    return this.running.size >= this.deps.capacity;
  }

  /** Whether this attempt runs here now. */
  has(jobId: string, attempt: number): boolean {
    return this.running.has(attemptKey(jobId, attempt));
  }

  /** The attempts running here, for the Hello and heartbeats. */
  refs(): RunningAttempt[] {
    return [...this.running.values()].map(({ jobId, attempt }) => ({ jobId, attempt }));
  }

  /** Starts an admitted attempt in a free slot, under the policy it was admitted under. */
  start(payload: InstructionPayload__Output, policy: JobPolicy): void {
    const { jobId, attempt } = payload;
    const controller = new AbortController();
    // The local job timeout, on the daemon's clock; the pipeline reads a TimeoutError as JOB_TIMED_OUT.
    const timedOut = new AbortController();
    const timer = this.deps.clock.after(this.deps.jobTimeoutMs, () => timedOut.abort(new DOMException('the job ran past limits.jobTimeout', 'TimeoutError')));
    const signal = AbortSignal.any([controller.signal, timedOut.signal]);
    const logger = this.deps.logger.child({ jobId, attempt });
    logger.info('job-started', { task: payload.task, policyRevision: policy.revision });
    const job: RunningJob = { jobId, attempt, controller, done: Promise.resolve() };
    this.running.set(attemptKey(jobId, attempt), job);
    this.deps.started();
    this.deps.leases.track(jobId, attempt);
    const progress: ProgressListener = (phase, state) => {
      this.deps.send({ frame: 'progress', progress: { attempt: { jobId, attempt }, phase, state } });
    };
    job.done = (async () => {
      const result = await this.deps.jobs.run(payload, policy, signal, progress, (jobSignal) => this.confirmLease(jobId, attempt, jobSignal));
      logger.info('job-finished', { outcome: result.outcome, failureCode: result.failureCode, failedPhase: result.failedPhase });
      this.deps.metrics?.jobFinished(result);
      try {
        this.deps.outbox.put(result);
      } catch (error) {
        // A full disk: the result is still sent once if it can be; otherwise the attempt's
        // lease runs out and the control plane queues the job again.
        logger.error('result-not-stored', { error: error as Error });
      }
      this.deps.send({ frame: 'result', result });
    })()
      .catch((error: unknown) => logger.error('job-crashed', { error: error as Error }))
      .finally(() => {
        timer.cancel();
        this.running.delete(attemptKey(jobId, attempt));
        this.deps.leases.forget(jobId, attempt);
        this.deps.finished();
      });
  }

  /** The control plane cancelled this attempt: abort it if it runs here (it then reports CANCELLED). */
  cancel(jobId: string, attempt: number): void {
    const job = this.running.get(attemptKey(jobId, attempt));
    this.deps.logger.info('cancel-received', { jobId, attempt, running: job !== undefined });
    job?.controller.abort(ABORT_REASON.cancelled);
  }

  /** Aborts every running job; each still reports (WORKER_SHUTDOWN) through the outbox. */
  abortAll(reason: AbortAllReason): void {
    for (const job of this.running.values()) job.controller.abort(reason);
  }

  /** Resolves when every job running now has left its slot. */
  async settled(): Promise<void> {
    await Promise.all([...this.running.values()].map((job) => job.done));
  }

  /**
   * Resolves when the attempt is shown to hold its lease for at least half a lease more —
   * asking for a renewal at once if the last one is too old — or throws LEASE_UNCONFIRMED
   * (AUDIT_LOG_UNAVAILABLE when the audit log is what kept the heartbeat from leaving). A
   * worker paused past its lease finds out here, before it delivers over the next attempt.
   */
  private async confirmLease(jobId: string, attempt: number, signal: AbortSignal): Promise<void> {
    const { leases, lease } = this.deps;
    const leaseTtlMs = lease.leaseTtlMs;
    if (leaseTtlMs !== undefined && leases.remainingMs(jobId, attempt) >= leaseTtlMs / 2) return;
    lease.heartbeatNow();
    const confirmed = leaseTtlMs !== undefined && (await leases.waitForLease(jobId, attempt, leaseTtlMs / 2, LEASE_CONFIRM_WAIT_MS, signal));
    if (confirmed) return;
    signal.throwIfAborted();
    const failureCode = this.deps.auditHealthy() ? FailureCode.LEASE_UNCONFIRMED : FailureCode.AUDIT_LOG_UNAVAILABLE;
    this.deps.logger.warn('lease-unconfirmed', { jobId, attempt, failureCode, remainingMs: Math.round(leases.remainingMs(jobId, attempt)) });
    throw new JobPhaseFailedError(failureCode, 'no lease renewal shows that this attempt still owns the job');
  }
}

function attemptKey(jobId: string, attempt: number): string {
  return `${jobId}-${attempt}`;
}
