import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDefined, IsIn, IsInt, IsUUID, Max, Min } from 'class-validator';
import { RULE_IDS, type RuleId } from '@airlock/policy';
import { OptionalProperty } from '../../common/request-validation';

const MAX_NUMBER = 2 ** 31 - 1;
const NUMBER_EXPECTATION = { message: `expected an integer in 1..${MAX_NUMBER}` };
const MAX_DECISIONS_PAGE = 200;
const DECISIONS_LIMIT_EXPECTATION = { message: `expected an integer in 1..${MAX_DECISIONS_PAGE}` };

// Constraints are checked bottom-up (see jobs/dto/create-job.dto.ts).

export class PolicyDiffQuery {
  @ApiProperty({ minimum: 1, description: 'The version to compare from (the "before")' })
  @Max(MAX_NUMBER, NUMBER_EXPECTATION)
  @Min(1, NUMBER_EXPECTATION)
  @IsInt(NUMBER_EXPECTATION)
  @Type(() => Number)
  @IsDefined({ message: 'expected a version number (required)' })
  from!: number;

  @ApiProperty({ minimum: 1, description: 'The version to compare to (the "after"); older than from is fine' })
  @Max(MAX_NUMBER, NUMBER_EXPECTATION)
  @Min(1, NUMBER_EXPECTATION)
  @IsInt(NUMBER_EXPECTATION)
  @Type(() => Number)
  @IsDefined({ message: 'expected a version number (required)' })
  to!: number;
}

export class RolloutQuery {
  @ApiPropertyOptional({ minimum: 1, description: 'The revision to compare workers with; the current one when absent' })
  @Max(MAX_NUMBER, NUMBER_EXPECTATION)
  @Min(1, NUMBER_EXPECTATION)
  @IsInt(NUMBER_EXPECTATION)
  @Type(() => Number)
  @OptionalProperty()
  revision?: number;
}

export class PolicyDecisionsQuery {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsUUID('all', { message: 'expected a UUID' })
  @OptionalProperty()
  jobId?: string;

  @ApiPropertyOptional({ enum: RULE_IDS })
  @IsIn(RULE_IDS, { message: 'expected a rule id such as max-files-changed (docs/policy.md)' })
  @OptionalProperty()
  rule?: RuleId;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_DECISIONS_PAGE, default: 50 })
  @Max(MAX_DECISIONS_PAGE, DECISIONS_LIMIT_EXPECTATION)
  @Min(1, DECISIONS_LIMIT_EXPECTATION)
  @IsInt(DECISIONS_LIMIT_EXPECTATION)
  @Type(() => Number)
  @OptionalProperty()
  limit?: number;
}
