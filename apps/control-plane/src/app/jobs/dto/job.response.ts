import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { JobDetail, JobSummary } from '@airlock/data-access';
import { JOB_STATUSES } from './list-jobs.query';

export class JobResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ['fix', 'noop'] }) kind!: 'fix' | 'noop';
  @ApiPropertyOptional({ nullable: true, type: String }) repoAlias!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) baseRef!: string | null;
  @ApiProperty({ enum: JOB_STATUSES }) status!: string;
  @ApiProperty({ description: 'The attempt that owns the job; 0 before the first dispatch' }) currentAttempt!: number;
  @ApiProperty() maxAttempts!: number;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'A FailureCode name (CANCELLED for a cancelled job), or LEASE_EXPIRED' })
  failureCode!: string | null;
  @ApiPropertyOptional({ nullable: true, type: Date, description: 'When a cancel was requested (POST /jobs/{id}/cancel), or null' })
  cancelRequestedAt!: Date | null;
  @ApiProperty() createdAt!: Date;
  @ApiProperty() updatedAt!: Date;
  @ApiPropertyOptional({ nullable: true, type: Date }) finishedAt!: Date | null;
}

export class JobAttemptResponse {
  @ApiProperty() number!: number;
  @ApiProperty({ format: 'uuid' }) workerId!: string;
  @ApiProperty({ enum: ['DISPATCHED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'REJECTED', 'LEASE_EXPIRED', 'CANCELLED'] }) status!: string;
  @ApiProperty() dispatchedAt!: Date;
  @ApiPropertyOptional({ nullable: true, type: Date }) ackedAt!: Date | null;
  @ApiPropertyOptional({ nullable: true, type: Date }) finishedAt!: Date | null;
  @ApiProperty() leaseExpiresAt!: Date;
  @ApiPropertyOptional({ nullable: true, type: String }) failureCode!: string | null;
}

export class JobEventResponse {
  @ApiProperty() type!: string;
  @ApiPropertyOptional({ nullable: true, type: Number }) attempt!: number | null;
  @ApiPropertyOptional({ nullable: true, type: String }) phase!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) failureCode!: string | null;
  @ApiProperty() at!: Date;
}

export class JobDetailResponse extends JobResponse {
  @ApiProperty({ type: [JobAttemptResponse] }) attempts!: JobAttemptResponse[];
  @ApiProperty({ type: [JobEventResponse] }) events!: JobEventResponse[];
  @ApiPropertyOptional({
    nullable: true,
    type: Object,
    description: 'The metadata-only result of the attempt that finished the job (outcome, failure code, phase durations, token counts, change stats, verification, context file count, MACs as hex)',
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
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    finishedAt: job.finishedAt,
  };
}

export function toJobDetailResponse(job: JobDetail): JobDetailResponse {
  return {
    ...toJobResponse(job),
    attempts: job.attempts.map(({ attempt, ...rest }) => ({ number: attempt, ...rest })),
    events: job.events.map((event) => ({ ...event })),
    result: job.result,
    implausible: [...job.resultImplausible],
  };
}
