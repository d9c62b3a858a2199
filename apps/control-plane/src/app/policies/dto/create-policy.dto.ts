import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDefined, IsObject, IsString, Length, Matches } from 'class-validator';
import { HasNoNulCharacter, IsWellFormedUnicode, MaxUtf8Bytes, OptionalProperty } from '../../common/request-validation';

/** The largest policy document the API stores, as compact JSON. */
export const MAX_POLICY_DOCUMENT_BYTES = 128 * 1024;
export const MAX_POLICY_NAME_CHARS = 100;
export const MAX_VERSION_COMMENT_BYTES = 1_000;

// One line with something on it and no control character (C0, DEL): what a list shows as is.
// eslint-disable-next-line no-control-regex -- the control characters are what it refuses
const POLICY_NAME = /^(?=.*\S)[^\u0000-\u001f\u007f]+$/;

const DOCUMENT_DESCRIPTION =
  'A policy document (docs/policy.md): {"schemaVersion": 1, "description"?: "…", "rules": {"<rule id>": {…}}}, at most 128 KiB as JSON. ' +
  'Each wrong field is named by its path, e.g. "document.rules.max-files-changed.max: expected at least 1".';

// Constraints are checked bottom-up (see jobs/dto/create-job.dto.ts): the type first.

export class CreatePolicyDto {
  @ApiProperty({ minLength: 1, maxLength: MAX_POLICY_NAME_CHARS, description: 'Unique in the tenant; one line', example: 'baseline' })
  @Matches(POLICY_NAME, { message: 'expected one non-blank line without control characters' })
  @Length(1, MAX_POLICY_NAME_CHARS, { message: `expected 1..${MAX_POLICY_NAME_CHARS} characters` })
  @IsWellFormedUnicode()
  @IsString({ message: 'expected a string' })
  @IsDefined({ message: 'expected a string (required)' })
  name!: string;

  @ApiProperty({ type: Object, description: DOCUMENT_DESCRIPTION, example: { schemaVersion: 1, rules: { 'max-files-changed': { max: 20 } } } })
  @IsObject({ message: 'expected a JSON object' })
  @IsDefined({ message: 'expected a JSON object (required)' })
  document!: Record<string, unknown>;
}

export class CreatePolicyVersionDto {
  @ApiProperty({ type: Object, description: DOCUMENT_DESCRIPTION })
  @IsObject({ message: 'expected a JSON object' })
  @IsDefined({ message: 'expected a JSON object (required)' })
  document!: Record<string, unknown>;

  @ApiPropertyOptional({ maxLength: MAX_VERSION_COMMENT_BYTES, description: 'Why this version, for the people reading the history' })
  @MaxUtf8Bytes(MAX_VERSION_COMMENT_BYTES)
  @IsWellFormedUnicode()
  @HasNoNulCharacter()
  @IsString({ message: 'expected a string' })
  @OptionalProperty()
  comment?: string;
}
