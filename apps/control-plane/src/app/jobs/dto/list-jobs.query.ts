import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, Max, Min } from 'class-validator';
import type { JobStatus } from '@airlock/data-access';
import { OptionalProperty } from '../../common/request-validation';

export const JOB_STATUSES = ['QUEUED', 'DISPATCHED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const satisfies readonly JobStatus[];

const MAX_PAGE_SIZE = 200;
const LIMIT_EXPECTATION = { message: `expected an integer in 1..${MAX_PAGE_SIZE}` };

// Constraints are checked bottom-up (see create-job.dto.ts).
export class ListJobsQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: 50 })
  @Max(MAX_PAGE_SIZE, LIMIT_EXPECTATION)
  @Min(1, LIMIT_EXPECTATION)
  @IsInt(LIMIT_EXPECTATION)
  @Type(() => Number)
  @OptionalProperty()
  limit?: number;

  @ApiPropertyOptional({ enum: JOB_STATUSES })
  @IsIn(JOB_STATUSES, { message: `expected one of ${JOB_STATUSES.join(', ')}` })
  @OptionalProperty()
  status?: JobStatus;
}
