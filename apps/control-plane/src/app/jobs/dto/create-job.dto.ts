import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDefined, IsIn, IsInt, IsObject, IsString, Length, Matches, Max, Min, MinLength, ValidateBy, ValidateIf, ValidateNested, type ValidationArguments } from 'class-validator';
import { PRIORITY_RANGE, type JobKind } from '@airlock/data-access';
import { ID_PATTERNS, WIRE_LIMITS } from '@airlock/protocol';
import { HasNoNulCharacter, IsWellFormedUnicode, MaxUtf8Bytes, OptionalProperty } from '../../common/request-validation';

/** Job kinds as the API spells them. */
export const JOB_KINDS = ['fix', 'noop', 'review', 'index'] as const;
export type JobKindName = (typeof JOB_KINDS)[number];

// Each kind as the database stores it, and as the API spells it: a record of every key, so a
// kind added to either side without the other fails to compile.
const STORED_JOB_KINDS: Readonly<Record<JobKindName, JobKind>> = { fix: 'FIX', noop: 'NOOP', review: 'REVIEW', index: 'INDEX' };
const JOB_KIND_NAMES: Readonly<Record<JobKind, JobKindName>> = { FIX: 'fix', NOOP: 'noop', REVIEW: 'review', INDEX: 'index' };

export const storedJobKind = (name: JobKindName): JobKind => STORED_JOB_KINDS[name];
export const jobKindName = (kind: JobKind): JobKindName => JOB_KIND_NAMES[kind];

/** What the API calls a job of the kind, with its article: "a fix job", "an index job". */
const aJobOf = (kind: JobKindName): string => `${kind === 'index' ? 'an' : 'a'} ${kind} job`;

const isJobKindName = (value: unknown): value is JobKindName => (JOB_KINDS as readonly unknown[]).includes(value);

/** The request's kind; fix when it names none. Null when it names one that does not exist (refused on its own). */
function kindOf(dto: CreateJobDto): JobKindName | null {
  const kind = dto.kind ?? 'fix';
  return isJobKindName(kind) ? kind : null;
}

/** The fields each kind takes besides `kind`; every other is refused on it. */
const FIELDS_OF_KIND: Readonly<Record<JobKindName, readonly string[]>> = {
  fix: ['repoAlias', 'baseRef', 'ticket', 'ticketRef'],
  review: ['repoAlias', 'mergeRequest', 'branch'],
  index: ['repoAlias', 'ref'],
  noop: [],
};

/** Validates a field when it is present (to refuse it where its kind takes none) or when one of these kinds requires it. */
const presentOrRequiredFor =
  (...kinds: readonly JobKindName[]) =>
  (dto: CreateJobDto, value: unknown): boolean => {
    const kind = kindOf(dto);
    return value !== undefined || (kind !== null && kinds.includes(kind));
  };

/** The ticket is required of a fix job that does not name it by reference. */
const ticketPresentOrRequired = (dto: CreateJobDto, value: unknown) => value !== undefined || (kindOf(dto) === 'fix' && dto.ticketRef === undefined);

/** A review's merge request number is required unless its branch names the request. */
const mergeRequestPresentOrRequired = (dto: CreateJobDto, value: unknown) => value !== undefined || (kindOf(dto) === 'review' && dto.branch === undefined);

/** "expected a string (required for a fix job)", naming the request's kind. */
const requiredMessage = (type: string) => (args: ValidationArguments) => {
  const kind = kindOf(args.object as CreateJobDto);
  return `expected ${type} (required for ${kind === null ? 'this kind of job' : aJobOf(kind)})`;
};

/** What a ticket reference looks like, as the wire contract's pattern (ID_PATTERNS.ticketRef) has it. */
export const TICKET_REF_EXPECTATION = 'expected a ticket reference <tracker>:<key>, such as jira:PROJ-123';

const GIT_REF_EXPECTATION = { message: `expected a git ref name of at most ${WIRE_LIMITS.maxBaseRefChars} characters` };
const MERGE_REQUEST_EXPECTATION = { message: `expected an integer in 1..${WIRE_LIMITS.maxMergeRequestNumber}` };
const PRIORITY_EXPECTATION = { message: `expected an integer in ${PRIORITY_RANGE.min}..${PRIORITY_RANGE.max}` };

/** Refuses the field on a job whose kind does not take it (FIELDS_OF_KIND): a noop job has no repoAlias, an index job no baseRef. */
function TakenByKind(): PropertyDecorator {
  return ValidateBy({
    name: 'takenByKind',
    validator: {
      validate: (value: unknown, args) => {
        const kind = kindOf(args?.object as CreateJobDto);
        return value === undefined || kind === null || FIELDS_OF_KIND[kind].includes(args?.property ?? '');
      },
      defaultMessage: (args) => {
        const kind = kindOf(args?.object as CreateJobDto);
        return `expected absent: ${kind === null ? 'this kind of job' : aJobOf(kind)} has no ${args?.property ?? 'such field'}`;
      },
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

/** Refuses a review's branch alongside its merge request number: a review names its request one way. */
function AbsentWithMergeRequest(): PropertyDecorator {
  return ValidateBy({
    name: 'absentWithMergeRequest',
    validator: {
      validate: (value: unknown, args) => value === undefined || (args?.object as CreateJobDto).mergeRequest === undefined,
      defaultMessage: () => 'expected absent when mergeRequest is given: name the merge request by number or by branch, not both',
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
  @ApiPropertyOptional({
    enum: JOB_KINDS,
    default: 'fix',
    description:
      'fix: change the repository for a ticket and deliver it; review: review a merge request and post the comments on the forge (only their counts come back); ' +
      'index: build the repository\'s context index at a ref ahead of fix jobs; noop: a probe that runs nothing',
  })
  @IsIn(JOB_KINDS, { message: `expected one of ${JOB_KINDS.join(', ')}` })
  @OptionalProperty()
  kind?: JobKindName;

  @ApiPropertyOptional({ pattern: ID_PATTERNS.repoAlias.source, description: "Required for fix, review and index; the alias in the worker's local catalog" })
  @Matches(ID_PATTERNS.repoAlias, { message: `expected a repository alias matching ${ID_PATTERNS.repoAlias.source}` })
  @IsString({ message: 'expected a string' })
  @TakenByKind()
  @IsDefined({ message: requiredMessage('a string') })
  @ValidateIf(presentOrRequiredFor('fix', 'review', 'index'))
  repoAlias?: string;

  @ApiPropertyOptional({ maxLength: WIRE_LIMITS.maxBaseRefChars, description: 'Required for fix; branch or tag to start from' })
  @Matches(ID_PATTERNS.gitRef, GIT_REF_EXPECTATION)
  @IsString({ message: 'expected a string' })
  @TakenByKind()
  @IsDefined({ message: requiredMessage('a string') })
  @ValidateIf(presentOrRequiredFor('fix'))
  baseRef?: string;

  @ApiPropertyOptional({ type: TicketDto, description: 'Required for fix unless ticketRef names the ticket' })
  @ValidateNested()
  @Type(() => TicketDto)
  @IsObject({ message: 'expected an object' })
  @TakenByKind()
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
  @TakenByKind()
  @OptionalProperty()
  ticketRef?: string;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: WIRE_LIMITS.maxMergeRequestNumber,
    example: 42,
    description: "For review, unless branch is given: the merge request's number on the repository's forge (GitLab iid, GitHub and Gitea number)",
  })
  @Max(WIRE_LIMITS.maxMergeRequestNumber, MERGE_REQUEST_EXPECTATION)
  @Min(1, MERGE_REQUEST_EXPECTATION)
  @IsInt(MERGE_REQUEST_EXPECTATION)
  @TakenByKind()
  @IsDefined({ message: 'expected an integer (required for a review job, unless branch names its merge request)' })
  @ValidateIf(mergeRequestPresentOrRequired)
  mergeRequest?: number;

  @ApiPropertyOptional({ maxLength: WIRE_LIMITS.maxBaseRefChars, description: 'For review, instead of mergeRequest: a branch of the repository whose open merge request is reviewed' })
  @Matches(ID_PATTERNS.gitRef, GIT_REF_EXPECTATION)
  @IsString({ message: 'expected a string' })
  @AbsentWithMergeRequest()
  @TakenByKind()
  @OptionalProperty()
  branch?: string;

  @ApiPropertyOptional({
    maxLength: WIRE_LIMITS.maxBaseRefChars,
    description: "Required for index: the branch or tag whose context index is built, one the worker's config allows fix jobs to start from",
  })
  @Matches(ID_PATTERNS.gitRef, GIT_REF_EXPECTATION)
  @IsString({ message: 'expected a string' })
  @TakenByKind()
  @IsDefined({ message: requiredMessage('a string') })
  @ValidateIf(presentOrRequiredFor('index'))
  ref?: string;

  @ApiPropertyOptional({
    pattern: ID_PATTERNS.workerLabel.source,
    example: 'gpu',
    description: 'The worker pool that is to run the job: only a worker enrolled in the pool, or naming it among its labels, is given it. Absent: any worker of the tenant',
  })
  @Matches(ID_PATTERNS.workerLabel, { message: `expected a pool label matching ${ID_PATTERNS.workerLabel.source} (lower case, at most 63 characters)` })
  @IsString({ message: 'expected a string' })
  @OptionalProperty()
  pool?: string;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: PRIORITY_RANGE.min,
    maximum: PRIORITY_RANGE.max,
    // No `default` here: the generated client would then require the field.
    description: `Higher first: a queued job is dispatched before the tenant's queued jobs of lower priority, and after older ones of the same. ${PRIORITY_RANGE.default} when absent`,
  })
  @Max(PRIORITY_RANGE.max, PRIORITY_EXPECTATION)
  @Min(PRIORITY_RANGE.min, PRIORITY_EXPECTATION)
  @IsInt(PRIORITY_EXPECTATION)
  @OptionalProperty()
  priority?: number;
}
