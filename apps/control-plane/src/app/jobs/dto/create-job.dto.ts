import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDefined, IsIn, IsOptional, IsString, Length, Matches, ValidateBy, ValidateIf, ValidateNested } from 'class-validator';
import { ID_PATTERNS, WIRE_LIMITS } from '@airlock/protocol';

/** Job kinds as the API spells them. */
export const JOB_KINDS = ['fix', 'noop'] as const;
export type JobKindName = (typeof JOB_KINDS)[number];

const requiredForFix = (dto: CreateJobDto) => (dto.kind ?? 'fix') === 'fix';

function MaxUtf8Bytes(max: number) {
  return ValidateBy({
    name: 'maxUtf8Bytes',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && Buffer.byteLength(value, 'utf8') <= max,
      defaultMessage: (args) => `${args?.property ?? 'value'} must be at most ${max} bytes of UTF-8`,
    },
  });
}

export class TicketDto {
  @ApiProperty({ minLength: 1, maxLength: WIRE_LIMITS.maxTicketTitleChars, description: 'One line' })
  @IsString()
  @Length(1, WIRE_LIMITS.maxTicketTitleChars)
  @Matches(/^(?=.*\S)[^\r\n]+$/, { message: 'title must be one non-blank line' })
  title!: string;

  @ApiPropertyOptional({ maxLength: WIRE_LIMITS.maxTicketDescriptionBytes, description: 'Up to 16 KiB of UTF-8', default: '' })
  @IsOptional()
  @IsString()
  @MaxUtf8Bytes(WIRE_LIMITS.maxTicketDescriptionBytes)
  description?: string;
}

export class CreateJobDto {
  @ApiPropertyOptional({ enum: JOB_KINDS, default: 'fix' })
  @IsOptional()
  @IsIn(JOB_KINDS, { message: `kind must be one of ${JOB_KINDS.join(', ')}` })
  kind?: JobKindName;

  @ApiPropertyOptional({ pattern: ID_PATTERNS.repoAlias.source, description: 'Required for fix; the alias in the worker\'s local catalog' })
  @ValidateIf(requiredForFix)
  @IsDefined({ message: 'repoAlias is required for a fix job' })
  @Matches(ID_PATTERNS.repoAlias, { message: `repoAlias must match ${ID_PATTERNS.repoAlias.source}` })
  repoAlias?: string;

  @ApiPropertyOptional({ maxLength: WIRE_LIMITS.maxBaseRefChars, description: 'Required for fix; branch or tag to start from' })
  @ValidateIf(requiredForFix)
  @IsDefined({ message: 'baseRef is required for a fix job' })
  @Matches(ID_PATTERNS.gitRef, { message: `baseRef must be a git ref name of at most ${WIRE_LIMITS.maxBaseRefChars} characters` })
  baseRef?: string;

  @ApiPropertyOptional({ type: TicketDto, description: 'Required for fix' })
  @ValidateIf(requiredForFix)
  @IsDefined({ message: 'ticket is required for a fix job' })
  @ValidateNested()
  @Type(() => TicketDto)
  ticket?: TicketDto;
}
