import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDefined, IsIn, IsObject, IsString, Length, Matches, MinLength, ValidateBy, ValidateIf, ValidateNested } from 'class-validator';
import { ID_PATTERNS, WIRE_LIMITS } from '@airlock/protocol';
import { HasNoNulCharacter, IsWellFormedUnicode, MaxUtf8Bytes, OptionalProperty } from '../../common/request-validation';

/** Job kinds as the API spells them. */
export const JOB_KINDS = ['fix', 'noop'] as const;
export type JobKindName = (typeof JOB_KINDS)[number];

const isFixJob = (dto: CreateJobDto) => (dto.kind ?? 'fix') === 'fix';

/** Checks a fix-only field whenever it is present (a noop job must not have it) or required. */
const presentOrRequiredForFix = (dto: CreateJobDto, value: unknown) => value !== undefined || isFixJob(dto);

/** The ticket is required of a fix job that does not name it by reference. */
const ticketPresentOrRequired = (dto: CreateJobDto, value: unknown) => value !== undefined || (isFixJob(dto) && dto.ticketRef === undefined);

/** What a ticket reference looks like, as the wire contract's pattern (ID_PATTERNS.ticketRef) has it. */
export const TICKET_REF_EXPECTATION = 'expected a ticket reference <tracker>:<key>, such as jira:PROJ-123';

/** Refuses the field on a noop job, which carries no repository and no ticket. */
function AbsentForNoop(): PropertyDecorator {
  return ValidateBy({
    name: 'absentForNoop',
    validator: {
      validate: (value: unknown, args) => value === undefined || (args?.object as CreateJobDto).kind !== 'noop',
      defaultMessage: () => 'expected absent: a noop job has no repoAlias, baseRef or ticket',
    },
  });
}

/** Refuses a ticket reference alongside a typed ticket: a job's ticket is one or the other. */
function AbsentWithTicket(): PropertyDecorator {
  return ValidateBy({
    name: 'absentWithTicket',
    validator: {
      validate: (value: unknown, args) => value === undefined || (args?.object as CreateJobDto).ticket === undefined,
      defaultMessage: () => 'expected absent when ticket is given: name the ticket by reference or type it in, not both',
    },
  });
}

// class-validator checks a property's constraints bottom-up and, with stopAtFirstError,
// reports the first that fails: so the most basic check (the type) sits nearest the
// property, and each field is refused for its most basic problem.

export class TicketDto {
  @ApiProperty({ minLength: 1, maxLength: WIRE_LIMITS.maxTicketTitleChars, description: 'One line' })
  @Matches(/^(?=.*\S)[^\r\n]+$/, { message: 'expected one non-blank line' })
  @Length(1, WIRE_LIMITS.maxTicketTitleChars, { message: `expected 1..${WIRE_LIMITS.maxTicketTitleChars} characters` })
  @IsWellFormedUnicode()
  @HasNoNulCharacter()
  @IsString({ message: 'expected a string' })
  @IsDefined({ message: 'expected a string (required)' })
  title!: string;

  @ApiPropertyOptional({ maxLength: WIRE_LIMITS.maxTicketDescriptionBytes, description: 'Up to 16 KiB of UTF-8', default: '' })
  @MaxUtf8Bytes(WIRE_LIMITS.maxTicketDescriptionBytes)
  @IsWellFormedUnicode()
  @HasNoNulCharacter()
  @IsString({ message: 'expected a string' })
  @OptionalProperty()
  description?: string;
}

export class CreateJobDto {
  @ApiPropertyOptional({ enum: JOB_KINDS, default: 'fix' })
  @IsIn(JOB_KINDS, { message: `expected one of ${JOB_KINDS.join(', ')}` })
  @OptionalProperty()
  kind?: JobKindName;

  @ApiPropertyOptional({ pattern: ID_PATTERNS.repoAlias.source, description: 'Required for fix; the alias in the worker\'s local catalog' })
  @Matches(ID_PATTERNS.repoAlias, { message: `expected a repository alias matching ${ID_PATTERNS.repoAlias.source}` })
  @IsString({ message: 'expected a string' })
  @AbsentForNoop()
  @IsDefined({ message: 'expected a string (required for a fix job)' })
  @ValidateIf(presentOrRequiredForFix)
  repoAlias?: string;

  @ApiPropertyOptional({ maxLength: WIRE_LIMITS.maxBaseRefChars, description: 'Required for fix; branch or tag to start from' })
  @Matches(ID_PATTERNS.gitRef, { message: `expected a git ref name of at most ${WIRE_LIMITS.maxBaseRefChars} characters` })
  @IsString({ message: 'expected a string' })
  @AbsentForNoop()
  @IsDefined({ message: 'expected a string (required for a fix job)' })
  @ValidateIf(presentOrRequiredForFix)
  baseRef?: string;

  @ApiPropertyOptional({ type: TicketDto, description: 'Required for fix unless ticketRef names the ticket' })
  @ValidateNested()
  @Type(() => TicketDto)
  @IsObject({ message: 'expected an object' })
  @AbsentForNoop()
  @IsDefined({ message: 'expected an object (required for a fix job, unless ticketRef names the ticket)' })
  @ValidateIf(ticketPresentOrRequired)
  ticket?: TicketDto;

  // Its format is the wire contract's, checked with the instruction it becomes (undispatchableTaskProblem).
  @ApiPropertyOptional({
    pattern: ID_PATTERNS.ticketRef.source,
    example: 'jira:PROJ-123',
    description:
      "For fix, instead of ticket: the ticket named by reference, <tracker>:<key>, the tracker as the workers' catalogs name it. " +
      'The worker reads the ticket from the tracker itself, so its text never reaches the control plane; the reference is held only until the job ends.',
  })
  @MinLength(1, { message: TICKET_REF_EXPECTATION })
  @IsString({ message: 'expected a string' })
  @AbsentWithTicket()
  @AbsentForNoop()
  @OptionalProperty()
  ticketRef?: string;
}
