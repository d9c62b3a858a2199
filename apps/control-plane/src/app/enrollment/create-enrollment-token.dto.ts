import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsString, Matches, Max, Min } from 'class-validator';
import type { EnrollmentTokenState } from '@airlock/data-access';
import { ID_PATTERNS } from '@airlock/protocol';
import { OptionalProperty } from '../common/request-validation';

const MIN_TTL_SECONDS = 60;
const MAX_TTL_SECONDS = 86_400;
const TTL_EXPECTATION = { message: `expected an integer number of seconds in ${MIN_TTL_SECONDS}..${MAX_TTL_SECONDS}` };
/** A pool is named as a worker's config names its pools (Hello.labels), so a pool layer means the same either way. */
const POOL_EXPECTATION = { message: `expected a pool label matching ${ID_PATTERNS.workerLabel.source} (lower case, at most 63 characters)` };

export const ENROLLMENT_TOKEN_STATES = ['ACTIVE', 'USED', 'EXPIRED', 'REVOKED'] as const satisfies readonly EnrollmentTokenState[];

export const MAX_ENROLLMENT_TOKENS_LISTED = 500;
export const DEFAULT_ENROLLMENT_TOKENS_LISTED = 100;
const LIMIT_EXPECTATION = { message: `expected an integer in 1..${MAX_ENROLLMENT_TOKENS_LISTED}` };

// Constraints are checked bottom-up (see jobs/dto/create-job.dto.ts).
export class CreateEnrollmentTokenDto {
  @ApiPropertyOptional({ minimum: MIN_TTL_SECONDS, maximum: MAX_TTL_SECONDS, default: 3_600, description: 'How long the token stays usable, in seconds' })
  @Max(MAX_TTL_SECONDS, TTL_EXPECTATION)
  @Min(MIN_TTL_SECONDS, TTL_EXPECTATION)
  @IsInt(TTL_EXPECTATION)
  @OptionalProperty()
  ttlSeconds?: number;

  @ApiPropertyOptional({
    pattern: ID_PATTERNS.workerLabel.source,
    maxLength: 63,
    example: 'gpu',
    description:
      'The pool the enrolled worker joins: its policy bundles carry the pool layers with this key, as they carry those of the labels in its config. ' +
      'Absent: no pool. Stored, audited and shown as written: name pools by purpose, not after hosts or projects.',
  })
  @Matches(ID_PATTERNS.workerLabel, POOL_EXPECTATION)
  @IsString(POOL_EXPECTATION)
  @OptionalProperty()
  pool?: string;
}

export class EnrollmentTokenResponse {
  @ApiProperty({ format: 'uuid', description: 'The token\'s id, as GET /enrollment-tokens and the audit log name it' })
  id!: string;

  @ApiProperty({ description: 'The one-time token (aet_…). Shown once; only its hash is stored.' })
  token!: string;

  @ApiProperty()
  expiresAt!: Date;

  @ApiProperty({ type: String, nullable: true, description: 'The pool the enrolled worker joins, or null' })
  pool!: string | null;
}

/** An enrollment token as GET /enrollment-tokens lists it: never the token, never its hash. */
export class EnrollmentTokenSummaryResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() createdAt!: Date;
  @ApiProperty() expiresAt!: Date;
  @ApiProperty({ type: String, nullable: true, description: 'The pool its worker joins, or null' }) pool!: string | null;
  @ApiProperty({
    enum: ENROLLMENT_TOKEN_STATES,
    enumName: 'EnrollmentTokenState',
    description: 'ACTIVE: usable. USED: it enrolled workerId. EXPIRED: past expiresAt, unused. REVOKED: an admin revoked it unused.',
  })
  state!: EnrollmentTokenState;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The worker it enrolled, once USED' }) workerId!: string | null;
  @ApiProperty({ type: Date, nullable: true }) usedAt!: Date | null;
  @ApiProperty({ type: Date, nullable: true }) revokedAt!: Date | null;
  @ApiProperty({ type: String, nullable: true, description: 'Who created it, by name at the time; null for tokens older than that record' })
  createdByName!: string | null;
}

export class ListEnrollmentTokensQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_ENROLLMENT_TOKENS_LISTED, default: DEFAULT_ENROLLMENT_TOKENS_LISTED, description: 'At most this many, newest first' })
  @Max(MAX_ENROLLMENT_TOKENS_LISTED, LIMIT_EXPECTATION)
  @Min(1, LIMIT_EXPECTATION)
  @IsInt(LIMIT_EXPECTATION)
  @Type(() => Number)
  @OptionalProperty()
  limit?: number;
}
