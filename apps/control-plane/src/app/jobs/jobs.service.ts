import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataAccess, PRIORITY_RANGE, type JobDetail, type JobListFilter, type JobPage, type JobSummary, type JobTask, type JobToCreate } from '@airlock/data-access';
import { CLOCK, type Clock } from '../common/clock';
import { GroupCommit } from '../common/group-commit';
import { InvalidRequestError } from '../common/invalid-request.error';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { undispatchableTaskProblem } from '../dispatch/instruction-payload.factory';
import { JOB_DISPATCHER, type JobDispatcher } from '../dispatch/job-dispatcher';
import { EVENT_BUS, type EventBus } from '../events/event-bus';
import { jobChangedEvent } from '../events/job-changed.event';
import { FLEET_COMMANDS, type FleetCommands } from '../fleet/fleet-commands';
import { ControlPlaneMetrics } from '../metrics/control-plane.metrics';
import type { CreateJobDto } from './dto/create-job.dto';
import type { RetryJobDto } from './dto/retry-job.dto';
import { InvalidJobRequestError } from './invalid-job-request.error';
import { JobAlreadyFinishedError } from './job-already-finished.error';
import { JobNotFoundError } from './job-not-found.error';
import { JobNotRetryableError } from './job-not-retryable.error';

/**
 * What a cancel did: `CANCELLED` — the job was queued and is now terminal;
 * `CANCEL_REQUESTED` — a worker holds it and was told to stop (if connected).
 */
export type CancelOutcome = { readonly kind: 'CANCELLED' | 'CANCEL_REQUESTED'; readonly job: JobSummary };

/** The most jobs one transaction creates; a busier API commits the rest in the next. */
const MAX_JOBS_PER_COMMIT = 256;

/**
 * Creating, reading, cancelling and retrying jobs; every call is scoped to the caller's
 * tenant. Each status change made here is announced as `job.changed` once it committed.
 */
@Injectable()
export class JobsService {
  private readonly logger = new Logger(JobsService.name);
  /** Jobs that API requests create at about the same time, committed together. */
  private readonly creations: GroupCommit<JobToCreate, JobSummary>;

  constructor(
    private readonly data: DataAccess,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(JOB_DISPATCHER) private readonly dispatcher: JobDispatcher,
    @Inject(FLEET_COMMANDS) private readonly fleet: FleetCommands,
    @Inject(EVENT_BUS) private readonly events: EventBus,
    private readonly metrics: ControlPlaneMetrics,
  ) {
    this.creations = new GroupCommit((jobs) => data.jobs.createMany(jobs, clock.now()), MAX_JOBS_PER_COMMIT);
  }

  async create(tenantId: string, request: CreateJobDto): Promise<JobSummary> {
    const now = this.clock.now();
    const task = taskOf(request);
    const problem = undispatchableTaskProblem(task, tenantId, now, this.config.instructionTtlMs);
    if (problem) throw new InvalidJobRequestError(problem.field, problem.expected);
    const placement = { pool: request.pool ?? null, priority: request.priority ?? PRIORITY_RANGE.default };
    const job = await this.creations.submit({ tenantId, task, maxAttempts: this.config.maxAttempts, placement });
    this.queued(job);
    return job;
  }

  /**
   * Queues a new job with the task and maxAttempts of a finished one, naming it as the job it
   * re-runs. The original stays as it ended; the re-run delivers to the branch and merge
   * request of its chain's first job, so it updates that request rather than opening another.
   * A ticket named by reference was erased when the original ended: the request names it again.
   * A review or index job is re-run with the same target; it delivers nothing, so its chain
   * only numbers the re-runs.
   */
  async retry(tenantId: string, jobId: string, request: RetryJobDto): Promise<JobSummary> {
    const retry = await this.data.jobs.createRetry(tenantId, jobId, this.clock.now(), request.ticketRef ?? null);
    if (!retry) throw new JobNotFoundError(jobId);
    if (retry.kind === 'NOT_RETRYABLE') throw JobNotRetryableError.unfinished(jobId, retry.status);
    if (retry.kind === 'CHAIN_TOO_LONG') throw JobNotRetryableError.chainTooLong(jobId, retry.maxReruns);
    if (retry.kind === 'TICKET_REF_REQUIRED') {
      throw new InvalidRequestError([
        `ticketRef: expected the ticket reference (required): job ${jobId} named its ticket by reference, which the control plane erased when the job ended`,
      ]);
    }
    if (retry.kind === 'TICKET_REF_UNEXPECTED') {
      throw new InvalidRequestError([
        retry.ticket === 'TYPED'
          ? `ticketRef: expected absent: job ${jobId} has its ticket typed in, and the re-run reuses that text`
          : `ticketRef: expected absent: job ${jobId} has no ticket`,
      ]);
    }
    this.logger.log({ event: 'job_retried', jobId: retry.job.id, retryOfJobId: jobId, tenantId });
    this.queued(retry.job);
    return retry.job;
  }

  /** Announces a newly queued job and hands it to the dispatcher. */
  private queued(job: JobSummary): void {
    this.events.publish(jobChangedEvent(job.tenantId, job.id, job.status, job.createdAt));
    this.dispatcher.enqueue({ jobId: job.id, tenantId: job.tenantId, pool: job.pool, currentAttempt: job.currentAttempt });
  }

  async get(tenantId: string, jobId: string): Promise<JobDetail> {
    const job = await this.data.jobs.findForTenant(tenantId, jobId);
    if (!job) throw new JobNotFoundError(jobId);
    return job;
  }

  list(tenantId: string, filter: JobListFilter): Promise<JobPage> {
    return this.data.jobs.listForTenant(tenantId, filter);
  }

  /**
   * Cancels a queued job at once; for a dispatched or running one, records the request and
   * tells the worker holding the current attempt to stop it, if its stream is open on any
   * replica. Otherwise the worker learns it from its next heartbeat's answer, or the
   * attempt's lease runs out and the lease reaper ends the job CANCELLED.
   */
  async cancel(tenantId: string, jobId: string): Promise<CancelOutcome> {
    const now = this.clock.now();
    const cancellation = await this.data.jobs.requestCancel(tenantId, jobId, now);
    if (!cancellation) throw new JobNotFoundError(jobId);
    switch (cancellation.kind) {
      case 'ALREADY_FINISHED':
        throw new JobAlreadyFinishedError(jobId, cancellation.job.status);
      case 'CANCELLED':
        this.logger.log({ event: 'job_cancelled', jobId, tenantId, previousStatus: 'QUEUED' });
        this.events.publish(jobChangedEvent(tenantId, jobId, cancellation.job.status, now));
        this.metrics.jobFinished(cancellation.job.status, cancellation.job.failureCode);
        return { kind: 'CANCELLED', job: cancellation.job };
      case 'CANCEL_REQUESTED': {
        const { workerId, attempt } = cancellation.attempt;
        // Sent again on a repeated request: harmless, and it reaches a worker that reconnected since.
        const delivered = await this.fleet.cancelAttempt(workerId, { jobId, attempt });
        this.logger.log({ event: 'job_cancel_requested', jobId, tenantId, attempt, workerId, delivered });
        // Only the first request changes the job; a repeat records nothing new.
        if (cancellation.job.cancelRequestedAt?.getTime() === now.getTime()) this.events.publish(jobChangedEvent(tenantId, jobId, cancellation.job.status, now));
        return { kind: 'CANCEL_REQUESTED', job: cancellation.job };
      }
    }
  }
}

/**
 * The stored task of a validated request. CreateJobDto guarantees each kind's fields (a fix's
 * ticket or its reference, a review's merge request or branch); were one missing all the
 * same, the empty value fails the dispatchability check in `create`.
 */
function taskOf(request: CreateJobDto): JobTask {
  switch (request.kind ?? 'fix') {
    case 'noop':
      return { kind: 'NOOP' };
    case 'review':
      return {
        kind: 'REVIEW',
        repoAlias: request.repoAlias ?? '',
        target: request.mergeRequest !== undefined ? { mergeRequest: request.mergeRequest } : { branch: request.branch ?? '' },
      };
    case 'index':
      return { kind: 'INDEX', repoAlias: request.repoAlias ?? '', ref: request.ref ?? '' };
    case 'fix':
      return {
        kind: 'FIX',
        repoAlias: request.repoAlias ?? '',
        baseRef: request.baseRef ?? '',
        ticketTitle: request.ticket?.title ?? '',
        ticketDescription: request.ticket?.description ?? '',
        ticketRef: request.ticketRef ?? null,
      };
  }
}
