import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsString, Matches, Max, Min, ValidateBy } from 'class-validator';
import type { JobStatus } from '@airlock/data-access';
import { ID_PATTERNS } from '@airlock/protocol';
import { OptionalProperty } from '../../common/request-validation';
import { decodeJobListCursor } from '../job-list-cursor';
import { JOB_KINDS, type JobKindName } from './create-job.dto';
import { ISO_TIMESTAMP_EXPECTATION, parseIsoTimestamp } from './iso-timestamp';

export const JOB_STATUSES = ['QUEUED', 'DISPATCHED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const satisfies readonly JobStatus[];

export const MAX_PAGE_SIZE = 200;
export const DEFAULT_PAGE_SIZE = 50;
const LIMIT_EXPECTATION = { message: `expected an integer in 1..${MAX_PAGE_SIZE}` };

/** A query parameter that must be an ISO 8601 timestamp with a zone (see parseIsoTimestamp). */
function IsIsoTimestamp(): PropertyDecorator {
  return ValidateBy({
    name: 'isIsoTimestamp',
    validator: { validate: (value: unknown) => typeof value === 'string' && parseIsoTimestamp(value) !== null, defaultMessage: () => ISO_TIMESTAMP_EXPECTATION },
  });
}

/** createdTo must come after createdFrom, or the range is empty by mistake. */
function IsAfterCreatedFrom(): PropertyDecorator {
  return ValidateBy({
    name: 'isAfterCreatedFrom',
    validator: {
      validate: (value: unknown, args) => {
        const from = (args?.object as ListJobsQuery).createdFrom;
        const fromInstant = typeof from === 'string' ? parseIsoTimestamp(from) : null;
        const toInstant = typeof value === 'string' ? parseIsoTimestamp(value) : null;
        return fromInstant === null || toInstant === null || toInstant.getTime() > fromInstant.getTime();
      },
      defaultMessage: () => 'expected a time after createdFrom',
    },
  });
}

/** A cursor this API wrote: the X-Next-Cursor header of a previous page. */
function IsJobListCursor(): PropertyDecorator {
  return ValidateBy({
    name: 'isJobListCursor',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && decodeJobListCursor(value) !== null,
      defaultMessage: () => 'expected the X-Next-Cursor header of a previous page, unchanged',
    },
  });
}

// Constraints are checked bottom-up (see create-job.dto.ts).
export class ListJobsQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @Max(MAX_PAGE_SIZE, LIMIT_EXPECTATION)
  @Min(1, LIMIT_EXPECTATION)
  @IsInt(LIMIT_EXPECTATION)
  @Type(() => Number)
  @OptionalProperty()
  limit?: number;

  @ApiPropertyOptional({ enum: JOB_STATUSES, enumName: 'JobStatus' })
  @IsIn(JOB_STATUSES, { message: `expected one of ${JOB_STATUSES.join(', ')}` })
  @OptionalProperty()
  status?: JobStatus;

  @ApiPropertyOptional({ enum: JOB_KINDS, enumName: 'JobKind', description: 'Only jobs of this kind, as JobResponse.kind spells it' })
  @IsIn(JOB_KINDS, { message: `expected one of ${JOB_KINDS.join(', ')}` })
  @OptionalProperty()
  kind?: JobKindName;

  @ApiPropertyOptional({ pattern: ID_PATTERNS.repoAlias.source, description: 'Only fix jobs on this repository alias (exact match)' })
  @Matches(ID_PATTERNS.repoAlias, { message: `expected a repository alias matching ${ID_PATTERNS.repoAlias.source}` })
  @IsString({ message: 'expected a string' })
  @OptionalProperty()
  repoAlias?: string;

  @ApiPropertyOptional({ format: 'date-time', example: '2026-12-01T00:00:00Z', description: 'Only jobs created at or after this time (ISO 8601 with a time zone)' })
  @IsIsoTimestamp()
  @IsString({ message: ISO_TIMESTAMP_EXPECTATION })
  @OptionalProperty()
  createdFrom?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    example: '2026-12-08T00:00:00Z',
    description: 'Only jobs created before this time (excluded, so consecutive ranges do not overlap); after createdFrom',
  })
  @IsAfterCreatedFrom()
  @IsIsoTimestamp()
  @IsString({ message: ISO_TIMESTAMP_EXPECTATION })
  @OptionalProperty()
  createdTo?: string;

  @ApiPropertyOptional({
    description:
      'Continue a listing: the X-Next-Cursor header of the previous page, unchanged (an opaque string). Pass the same filters again; ' +
      'jobs created since the first page do not appear on later ones.',
  })
  @IsJobListCursor()
  @IsString({ message: 'expected the X-Next-Cursor header of a previous page, unchanged' })
  @OptionalProperty()
  before?: string;
}
