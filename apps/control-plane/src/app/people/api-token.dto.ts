import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsDefined, IsIn, IsInt, IsString, Length, Matches, Max, Min } from 'class-validator';
import { SCOPES, type Scope } from '../auth/access';
import { HasNoNulCharacter, IsWellFormedUnicode } from '../common/request-validation';

export const MAX_TOKEN_NAME_LENGTH = 100;
export const MAX_TOKEN_LIFETIME_DAYS = 365;
const DAYS_EXPECTATION = { message: `expected an integer number of days in 1..${MAX_TOKEN_LIFETIME_DAYS}` };

// class-validator checks a property's constraints bottom-up (see jobs/dto/create-job.dto.ts).
export class CreateApiTokenDto {
  @ApiProperty({ minLength: 1, maxLength: MAX_TOKEN_NAME_LENGTH, example: 'nightly triage', description: 'What the token is for; one line' })
  @Matches(/^(?=.*\S)[^\p{Cc}]+$/u, { message: 'expected one non-blank line without control characters' })
  @Length(1, MAX_TOKEN_NAME_LENGTH, { message: `expected 1..${MAX_TOKEN_NAME_LENGTH} characters` })
  @IsWellFormedUnicode()
  @HasNoNulCharacter()
  @IsString({ message: 'expected a string' })
  @IsDefined({ message: 'expected a string (required)' })
  name!: string;

  // What the token may do, only scopes its creator holds (the operation says so): a description
  // here would be hoisted onto the shared Scope enum schema.
  @ApiProperty({ enum: SCOPES, enumName: 'Scope', isArray: true, minItems: 1 })
  @IsIn(SCOPES, { each: true, message: `expected each scope to be one of ${SCOPES.join(', ')}` })
  @ArrayUnique({ message: 'expected each scope once' })
  @ArrayMaxSize(SCOPES.length, { message: `expected at most ${SCOPES.length} scopes` })
  @ArrayMinSize(1, { message: 'expected at least one scope' })
  @IsArray({ message: 'expected an array of scopes' })
  @IsDefined({ message: 'expected an array of scopes (required)' })
  scopes!: Scope[];

  @ApiProperty({ type: 'integer', minimum: 1, maximum: MAX_TOKEN_LIFETIME_DAYS, example: 90, description: 'Days until the token expires' })
  @Max(MAX_TOKEN_LIFETIME_DAYS, DAYS_EXPECTATION)
  @Min(1, DAYS_EXPECTATION)
  @IsInt(DAYS_EXPECTATION)
  @IsDefined(DAYS_EXPECTATION)
  expiresInDays!: number;
}

export class ApiTokenResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: SCOPES, enumName: 'Scope', isArray: true }) scopes!: Scope[];
  @ApiProperty() createdAt!: Date;
  @ApiProperty({ type: Date, nullable: true, description: 'Null only for the bootstrap token' }) expiresAt!: Date | null;
  @ApiProperty({ type: Date, nullable: true }) revokedAt!: Date | null;
  @ApiProperty({ type: Date, nullable: true, description: 'Refreshed at most once a minute' }) lastUsedAt!: Date | null;
  @ApiProperty({ type: String, nullable: true, description: 'Who created it, by name then; null for the bootstrap token' }) createdByName!: string | null;
}

export class CreatedApiTokenResponse extends ApiTokenResponse {
  @ApiProperty({ description: 'The token (alt_…). Shown this once; only its hash is stored.' })
  token!: string;
}
