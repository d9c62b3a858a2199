import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { AttemptStatus, DeliveryOutcomeView, JobDetail, JobEventType, JobEventView, JobSummary, MergeRequestStateName } from '@airlock/data-access';
import { LEASE_EXPIRED_FAILURE_CODE, PRIORITY_RANGE } from '@airlock/data-access';
import { REPORTED_METADATA_LEVELS } from '@airlock/policy';
import { FailureCode, Phase } from '@airlock/protocol';
import { JOB_KINDS, jobKindName, type JobKindName } from './create-job.dto';
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

/** A merge request's state as a worker reports it (airlock.v1 MergeRequestState, without its prefix and UNSPECIFIED). */
export const MERGE_REQUEST_STATES = ['OPEN', 'MERGED', 'CLOSED'] as const satisfies readonly MergeRequestStateName[];

/** The phases a worker reports (airlock.v1 Phase, without UNSPECIFIED). */
export const JOB_PHASES = Object.values(Phase).filter((phase) => phase !== Phase.PHASE_UNSPECIFIED);

/** Failure codes a job, attempt or event may carry: airlock.v1 FailureCode names and LEASE_EXPIRED. */
export const JOB_FAILURE_CODES = [...Object.values(FailureCode).filter((code) => code !== FailureCode.FAILURE_CODE_UNSPECIFIED), LEASE_EXPIRED_FAILURE_CODE];

// Compile-time checks that the lists above name every value of their database enums.
type Missing<All, Listed> = Exclude<All, Listed> extends never ? true : Exclude<All, Listed>;
const everyEventTypeListed: Missing<JobEventType, (typeof JOB_EVENT_TYPES)[number]> = true;
const everyAttemptStatusListed: Missing<AttemptStatus, (typeof ATTEMPT_STATUSES)[number]> = true;
const everyMergeRequestStateListed: Missing<MergeRequestStateName, (typeof MERGE_REQUEST_STATES)[number]> = true;
void everyEventTypeListed;
void everyAttemptStatusListed;
void everyMergeRequestStateListed;

export class JobResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: JOB_KINDS, enumName: 'JobKind' }) kind!: JobKindName;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'The repository alias; null for a noop job' }) repoAlias!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'A fix job\'s branch or tag to start from; null for other kinds' }) baseRef!: string | null;
  @ApiProperty({ nullable: true, type: 'integer', description: "A review job's merge request number on the forge, when it names one; null otherwise" })
  mergeRequest!: number | null;
  @ApiProperty({ nullable: true, type: String, description: "A review job's branch whose open merge request it reviews, when it names one; null otherwise" })
  branch!: string | null;
  @ApiProperty({ nullable: true, type: String, description: "An index job's branch or tag whose context index it builds; null for other kinds" })
  ref!: string | null;
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
  @ApiProperty({ description: "The ticket was named by reference (ticketRef): the worker reads it from the customer's tracker, and its text never reaches the control plane" })
  ticketByReference!: boolean;
  @ApiProperty({ nullable: true, type: String, example: 'jira:PROJ-123', description: 'The ticket reference while the job may still be dispatched; null once the job ended (erased then), and for a typed ticket' })
  ticketRef!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    pattern: '^[0-9a-f]{64}$',
    description: "The worker's HMAC-SHA256 of the ticket reference under its own key, lowercase hex: what is kept of the reference once the job ended. Null until a result brings one (never at the minimal metadata level)",
  })
  ticketRefMac!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The worker pool that is to run the job (a worker enrolled in it or naming it among its labels); null: any worker of the tenant' })
  pool!: string | null;
  @ApiProperty({ type: 'integer', minimum: PRIORITY_RANGE.min, maximum: PRIORITY_RANGE.max, description: 'Higher first; among equal priorities the older job is dispatched first' })
  priority!: number;
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

/** What became of the merge request of a job's re-run chain, as the worker last reported it: states, counts and durations only. */
export class DeliveryOutcomeResponse {
  @ApiProperty({ format: 'uuid', description: "The chain's first job, whose merge request every re-run of the chain updates" }) deliveryJobId!: string;
  @ApiProperty({ enum: MERGE_REQUEST_STATES, enumName: 'MergeRequestState', description: 'CLOSED: closed without being merged' }) state!: MergeRequestStateName;
  @ApiProperty({ description: 'Commits on the request\'s branch that no Airlock attempt made: people reworking the change (0 at the minimal level, which does not send it)' })
  humanCommits!: number;
  @ApiProperty({ description: 'The merged change was reverted on its target branch within the worker\'s revert window' }) reverted!: boolean;
  @ApiProperty({ description: 'Seconds from opening to the first review by a person, meaningful when reviewRounds is above 0 (a first review may round to 0); 0 at the minimal level' }) firstReviewAfterS!: number;
  @ApiProperty({ description: 'Reviews by people: approvals, requests for changes and reviews with comments' }) reviewRounds!: number;
  @ApiProperty({ description: 'Seconds from opening to merge; 0 unless MERGED (and at the minimal level)' }) mergedAfterS!: number;
  @ApiProperty({ description: 'The worker stopped watching (closed, merged and past its revert window, or too old): the outcome will not change' }) final!: boolean;
  @ApiProperty({
    enum: REPORTED_METADATA_LEVELS,
    enumName: 'MetadataLevel',
    description: 'How much the report says: minimal sends the state, reverted and final only; standard with buckets rounds counts down to 0 or a power of two and durations down to the hour',
  })
  metadataLevel!: string;
  @ApiProperty({ format: 'uuid', description: 'The worker whose report this is (one that ran an attempt of the chain)' }) workerId!: string;
  @ApiProperty({ description: 'When the first report of the chain arrived' }) firstReportedAt!: Date;
  @ApiProperty({ description: 'When the report shown arrived' }) updatedAt!: Date;
}

export class JobDetailResponse extends JobResponse {
  @ApiProperty({ type: [JobAttemptResponse] }) attempts!: JobAttemptResponse[];
  @ApiProperty({ type: [JobEventResponse], description: 'The job\'s history, oldest first' }) events!: JobEventResponse[];
  @ApiPropertyOptional({
    nullable: true,
    type: Object,
    description:
      'The metadata-only result of the attempt that finished the job (outcome, failure code, phase durations, token counts, change stats, verification, context file count, MACs as hex, ' +
      'where the change went: delivery BRANCH, MERGE_REQUEST_OPENED, MERGE_REQUEST_UPDATED or OUTBOX; for a review, review: the comments posted by severity {critical, major, minor, info} ' +
      'and those not posted {dropped}, null at the minimal metadata level, each count rounded down to 0 or a power of two at standard with buckets)',
  })
  result!: object | null;
  @ApiProperty({
    type: [String],
    description:
      'Why the result cannot be true of its attempt, e.g. durations-exceed-wall-time or tokens-exceed-every-budget; empty when plausible. Such a result is kept as reported, and left out of analytics.',
  })
  implausible!: string[];
  @ApiProperty({
    nullable: true,
    type: DeliveryOutcomeResponse,
    description: "What became of the merge request of the job's re-run chain (its first job's, which a re-run updates), as a worker last reported it; null before any report",
  })
  deliveryOutcome!: DeliveryOutcomeResponse | null;
}

export function toJobResponse(job: JobSummary): JobResponse {
  return {
    id: job.id,
    kind: jobKindName(job.kind),
    repoAlias: job.repoAlias,
    // An index job keeps its ref where a fix keeps its base ref; the API names each for what it is.
    baseRef: job.kind === 'FIX' ? job.baseRef : null,
    mergeRequest: job.reviewMergeRequest,
    branch: job.reviewBranch,
    ref: job.kind === 'INDEX' ? job.baseRef : null,
    status: job.status,
    currentAttempt: job.currentAttempt,
    maxAttempts: job.maxAttempts,
    failureCode: job.failureCode,
    cancelRequestedAt: job.cancelRequestedAt,
    retryOfJobId: job.retryOfJobId,
    ticketByReference: job.ticketByReference,
    ticketRef: job.ticketRef,
    ticketRefMac: job.ticketRefMac,
    pool: job.pool,
    priority: job.priority,
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
    deliveryOutcome: job.deliveryOutcome === null ? null : toDeliveryOutcomeResponse(job.deliveryOutcome),
  };
}

function toDeliveryOutcomeResponse(outcome: DeliveryOutcomeView): DeliveryOutcomeResponse {
  return {
    deliveryJobId: outcome.deliveryJobId,
    state: outcome.state,
    humanCommits: outcome.humanCommits,
    reverted: outcome.reverted,
    firstReviewAfterS: outcome.firstReviewAfterS,
    reviewRounds: outcome.reviewRounds,
    mergedAfterS: outcome.mergedAfterS,
    final: outcome.final,
    metadataLevel: outcome.metadataLevel,
    workerId: outcome.workerId,
    firstReportedAt: outcome.firstReportedAt,
    updatedAt: outcome.updatedAt,
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
