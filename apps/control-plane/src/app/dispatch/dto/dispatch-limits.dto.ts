import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsDefined, IsInt, IsString, Matches, Max, Min, ValidateIf, ValidateNested } from 'class-validator';
import { ID_PATTERNS } from '@airlock/protocol';
import { HasDistinct } from '../../common/request-validation';

/** More than any fleet runs at once; a bound so a typo cannot store an absurd figure. */
export const MAX_RUNNING_JOBS_LIMIT = 100_000;
/** Pools one tenant may give limits of their own. */
export const MAX_POOL_LIMITS = 256;

const LIMIT_EXPECTATION = { message: `expected an integer in 1..${MAX_RUNNING_JOBS_LIMIT}` };

// Constraints are checked bottom-up (see jobs/dto/create-job.dto.ts).
export class PoolLimitDto {
  @ApiProperty({ pattern: ID_PATTERNS.workerLabel.source, example: 'gpu', description: 'A worker pool, as jobs name it (POST /jobs pool)' })
  @Matches(ID_PATTERNS.workerLabel, { message: `expected a pool label matching ${ID_PATTERNS.workerLabel.source} (lower case, at most 63 characters)` })
  @IsString({ message: 'expected a string' })
  @IsDefined({ message: 'expected a string (required)' })
  pool!: string;

  @ApiProperty({ type: 'integer', minimum: 1, maximum: MAX_RUNNING_JOBS_LIMIT, description: 'The most jobs targeted at the pool dispatched or running at once' })
  @Max(MAX_RUNNING_JOBS_LIMIT, LIMIT_EXPECTATION)
  @Min(1, LIMIT_EXPECTATION)
  @IsInt(LIMIT_EXPECTATION)
  @IsDefined({ message: 'expected an integer (required)' })
  maxRunningJobs!: number;
}

/** The tenant's limits on jobs dispatched or running at once, as PUT replaces them and GET returns them. */
export class DispatchLimitsDto {
  @ApiProperty({ type: 'integer', nullable: true, minimum: 1, maximum: MAX_RUNNING_JOBS_LIMIT, example: 20, description: "The most of the tenant's jobs dispatched or running at once; null: no limit" })
  @Max(MAX_RUNNING_JOBS_LIMIT, LIMIT_EXPECTATION)
  @Min(1, LIMIT_EXPECTATION)
  @IsInt(LIMIT_EXPECTATION)
  @ValidateIf((_limits: unknown, value: unknown) => value !== null)
  @IsDefined({ message: 'expected an integer or null (required)' })
  maxRunningJobs!: number | null;

  @ApiProperty({ type: [PoolLimitDto], maxItems: MAX_POOL_LIMITS, description: 'Limits of particular pools, counting the jobs targeted at each; [] for none' })
  @HasDistinct('pool')
  @ValidateNested()
  @Type(() => PoolLimitDto)
  @ArrayMaxSize(MAX_POOL_LIMITS, { message: `expected at most ${MAX_POOL_LIMITS} pool limits` })
  @IsArray({ message: 'expected an array of {pool, maxRunningJobs}' })
  @IsDefined({ message: 'expected an array (required; [] for none)' })
  pools!: PoolLimitDto[];
}
