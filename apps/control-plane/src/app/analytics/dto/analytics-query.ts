import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsString, Matches, ValidateBy } from 'class-validator';
import { ID_PATTERNS } from '@airlock/protocol';
import { OptionalProperty } from '../../common/request-validation';
import { JOB_KINDS, type JobKindName } from '../../jobs/dto/create-job.dto';

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
// A range before the product existed or centuries ahead is a typo, not a question.
const MIN_YEAR = 2000;
const MAX_YEAR = 2999;

export const DATE_EXPECTATION = 'expected a date as YYYY-MM-DD (UTC), e.g. 2026-12-01';

/** Whether `text` is a real calendar day written YYYY-MM-DD (not 2026-02-30). */
export function isCalendarDay(text: string): boolean {
  const match = DAY.exec(text);
  if (!match) return false;
  const [year, month, day] = match.slice(1).map(Number);
  if (year === undefined || month === undefined || day === undefined || year < MIN_YEAR || year > MAX_YEAR || month < 1 || month > 12) return false;
  return day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function IsCalendarDay(): PropertyDecorator {
  return ValidateBy({
    name: 'isCalendarDay',
    validator: { validate: (value: unknown) => typeof value === 'string' && isCalendarDay(value), defaultMessage: () => DATE_EXPECTATION },
  });
}

const REPO_EXPECTATION = { message: `expected a repository alias matching ${ID_PATTERNS.repoAlias.source}` };
const POOL_EXPECTATION = { message: `expected a pool label matching ${ID_PATTERNS.workerLabel.source}` };

// Constraints are checked bottom-up (see jobs/dto/create-job.dto.ts). How from and to relate
// (order, at most MAX_RANGE_DAYS apart, defaults) is checked once both are known: AnalyticsService.
/** Which jobs the figures cover; shared by the JSON report and its CSV export. */
export class AnalyticsQuery {
  @ApiPropertyOptional({ type: String, format: 'date', example: '2026-11-01', description: 'First UTC day of the range. Default: 29 days before `to` (30 days in all).' })
  @IsCalendarDay()
  @IsString({ message: DATE_EXPECTATION })
  @OptionalProperty()
  from?: string;

  @ApiPropertyOptional({ type: String, format: 'date', example: '2026-11-30', description: 'Last UTC day of the range, included. Default: today (UTC). At most 400 days after `from`.' })
  @IsCalendarDay()
  @IsString({ message: DATE_EXPECTATION })
  @OptionalProperty()
  to?: string;

  @ApiPropertyOptional({ pattern: ID_PATTERNS.repoAlias.source, description: 'Only jobs of this repository (NOOP jobs have none)' })
  @Matches(ID_PATTERNS.repoAlias, REPO_EXPECTATION)
  @IsString(REPO_EXPECTATION)
  @OptionalProperty()
  repoAlias?: string;

  @ApiPropertyOptional({
    pattern: ID_PATTERNS.workerLabel.source,
    description: 'Only jobs whose worker was of this pool (the pool its enrollment token named). A job has a pool once a worker took it, so the created stage then counts only jobs a worker of the pool took.',
  })
  @Matches(ID_PATTERNS.workerLabel, POOL_EXPECTATION)
  @IsString(POOL_EXPECTATION)
  @OptionalProperty()
  pool?: string;

  @ApiPropertyOptional({ enum: JOB_KINDS, enumName: 'JobKind', description: 'Only jobs of this kind' })
  @IsIn(JOB_KINDS, { message: `expected one of ${JOB_KINDS.join(', ')}` })
  @OptionalProperty()
  kind?: JobKindName;
}
