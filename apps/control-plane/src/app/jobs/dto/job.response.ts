import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { AttemptStatus, JobDetail, JobEventType, JobEventView, JobSummary } from '@airlock/data-access';
import { LEASE_EXPIRED_FAILURE_CODE } from '@airlock/data-access';
import { FailureCode, Phase } from '@airlock/protocol';
import { JOB_KINDS, type JobKindName } from './create-job.dto';
import { JOB_STATUSES } from './list-jobs.query';

export const ATTEMPT_STATUSES = ['DISPATCHED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'REJECTED', 'LEASE_EXPIRED', 'CANCELLED'] as const satisfies readonly AttemptStatus[];

export const JOB_EVENT_TYPES = [
  'CREATED',
  'QUEUED',
  'DISPATCHED',
  'ACKED',
  'REJECTED',
  'PHASE_STARTED',
  'PHASE_COMPLETED',
  'PHASE_FAILED',
  'LEASE_EXPIRED',
  'REQUEUED',
  'RESULT_RECORDED',
  'STALE_RESULT_REJECTED',
  'FAILED',
  'CANCEL_REQUESTED',
  'CANCELLED',
] as const satisfies readonly JobEventType[];

/** The phases a worker reports (airlock.v1 Phase, without UNSPECIFIED). */
export const JOB_PHASES = Object.values(Phase).filter((phase) => phase !== Phase.PHASE_UNSPECIFIED);

/** Failure codes a job, attempt or event may carry: airlock.v1 FailureCode names and LEASE_EXPIRED. */
export const JOB_FAILURE_CODES = [...Object.values(FailureCode).filter((code) => code !== FailureCode.FAILURE_CODE_UNSPECIFIED), LEASE_EXPIRED_FAILURE_CODE];

// Compile-time checks that the lists above name every value of their database enums.
type Missing<All, Listed> = Exclude<All, Listed> extends never ? true : Exclude<All, Listed>;
const everyEventTypeListed: Missing<JobEventType, (typeof JOB_EVENT_TYPES)[number]> = true;
const everyAttemptStatusListed: Missing<AttemptStatus, (typeof ATTEMPT_STATUSES)[number]> = true;
void everyEventTypeListed;
void everyAttemptStatusListed;

export class JobResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: JOB_KINDS, enumName: 'JobKind' }) kind!: JobKindName;
  @ApiPropertyOptional({ nullable: true, type: String }) repoAlias!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) baseRef!: string | null;
  @ApiProperty({ enum: JOB_STATUSES, enumName: 'JobStatus' }) status!: string;
  @ApiProperty({ description: 'The attempt that owns the job; 0 before the first dispatch' }) currentAttempt!: number;
  @ApiProperty() maxAttempts!: number;
  @ApiPropertyOptional({
    nullable: true,
    enum: JOB_FAILURE_CODES,
    enumName: 'JobFailureCode',
    description: 'A FailureCode name (CANCELLED for a cancelled job), or LEASE_EXPIRED',
  })
  failureCode!: string | null;
  @ApiPropertyOptional({ nullable: true, type: Date, description: 'When a cancel was requested (POST /jobs/{id}/cancel), or null' })
  cancelRequestedAt!: Date | null;
  @ApiProperty({ nullable: true, type: String, format: 'uuid', description: 'The job this one retries (POST /jobs/{id}/retry), or null for an original' })
  retryOfJobId!: string | null;
  @ApiProperty() createdAt!: Date;
  @ApiProperty() updatedAt!: Date;
  @ApiPropertyOptional({ nullable: true, type: Date }) finishedAt!: Date | null;
}

export class JobAttemptResponse {
  @ApiProperty({ description: 'The attempt number, from 1' }) number!: number;
  @ApiProperty({ format: 'uuid' }) workerId!: string;
  @ApiProperty({ enum: ATTEMPT_STATUSES, enumName: 'AttemptStatus' }) status!: string;
  @ApiProperty() dispatchedAt!: Date;
  @ApiPropertyOptional({ nullable: true, type: Date, description: 'When the worker acknowledged the instruction and started' }) ackedAt!: Date | null;
  @ApiPropertyOptional({ nullable: true, type: Date }) finishedAt!: Date | null;
  @ApiProperty() leaseExpiresAt!: Date;
  @ApiPropertyOptional({ nullable: true, enum: JOB_FAILURE_CODES, enumName: 'JobFailureCode' }) failureCode!: string | null;
}

export class JobEventResponse {
  @ApiProperty({ enum: JOB_EVENT_TYPES, enumName: 'JobEventType' }) type!: string;
  @ApiProperty({ nullable: true, type: Number, description: 'The attempt the event belongs to; null for events of the job itself (CREATED, QUEUED, a cancel while queued)' })
  attempt!: number | null;
  @ApiProperty({ nullable: true, enum: JOB_PHASES, enumName: 'JobPhase', description: 'On PHASE_STARTED, PHASE_COMPLETED and PHASE_FAILED only' })
  phase!: string | null;
  @ApiProperty({ nullable: true, enum: JOB_FAILURE_CODES, enumName: 'JobFailureCode', description: 'On REJECTED, RESULT_RECORDED, FAILED and CANCELLED events' })
  failureCode!: string | null;
  @ApiProperty({ description: 'When the control plane recorded the event' }) at!: Date;
  @ApiProperty({
    nullable: true,
    type: Number,
    description:
      'On PHASE_COMPLETED and PHASE_FAILED: milliseconds since the same attempt\'s PHASE_STARTED of that phase, as the control plane received them ' +
      '(the result\'s phaseDurations are the worker\'s own measurement). Null on other events, and when the start was never reported.',
  })
  durationMs!: number | null;
}

export class JobDetailResponse extends JobResponse {
  @ApiProperty({ type: [JobAttemptResponse] }) attempts!: JobAttemptResponse[];
  @ApiProperty({ type: [JobEventResponse], description: 'The job\'s history, oldest first' }) events!: JobEventResponse[];
  @ApiPropertyOptional({
    nullable: true,
    type: Object,
    description: 'The metadata-only result of the attempt that finished the job (outcome, failure code, phase durations, token counts, change stats, verification, context file count, MACs as hex, where the change went: delivery BRANCH, MERGE_REQUEST_OPENED, MERGE_REQUEST_UPDATED or OUTBOX)',
  })
  result!: object | null;
  @ApiProperty({
    type: [String],
    description:
      'Why the result cannot be true of its attempt, e.g. durations-exceed-wall-time or tokens-exceed-every-budget; empty when plausible. Such a result is kept as reported, and left out of analytics.',
  })
  implausible!: string[];
}

export function toJobResponse(job: JobSummary): JobResponse {
  return {
    id: job.id,
    kind: job.kind === 'FIX' ? 'fix' : 'noop',
    repoAlias: job.repoAlias,
    baseRef: job.baseRef,
    status: job.status,
    currentAttempt: job.currentAttempt,
    maxAttempts: job.maxAttempts,
    failureCode: job.failureCode,
    cancelRequestedAt: job.cancelRequestedAt,
    retryOfJobId: job.retryOfJobId,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    finishedAt: job.finishedAt,
  };
}

export function toJobDetailResponse(job: JobDetail): JobDetailResponse {
  return {
    ...toJobResponse(job),
    attempts: job.attempts.map(({ attempt, ...rest }) => ({ number: attempt, ...rest })),
    events: withPhaseDurations(job.events),
    result: job.result,
    implausible: [...job.resultImplausible],
  };
}

/**
 * The events, oldest first, each phase end with the time since its start: the pairs a phase
 * timeline draws. A phase started again in the same attempt (not something a worker does)
 * is measured from its latest start.
 */
export function withPhaseDurations(events: readonly JobEventView[]): JobEventResponse[] {
  const startedAt = new Map<string, Date>();
  return events.map((event) => {
    const key = `${event.attempt ?? ''}#${event.phase ?? ''}`;
    let durationMs: number | null = null;
    if (event.type === 'PHASE_STARTED') startedAt.set(key, event.at);
    if (event.type === 'PHASE_COMPLETED' || event.type === 'PHASE_FAILED') {
      const start = startedAt.get(key);
      // Never negative, should the clock have been set back between the two.
      if (start) durationMs = Math.max(0, event.at.getTime() - start.getTime());
      startedAt.delete(key);
    }
    return { ...event, durationMs };
  });
}
