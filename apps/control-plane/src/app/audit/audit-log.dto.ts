import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { OptionalProperty } from '../common/request-validation';

const MAX_SEQ = 2 ** 31 - 1;
const MAX_PAGE_SIZE = 500;
const AFTER_SEQ_EXPECTATION = { message: `expected an integer in 0..${MAX_SEQ}` };
const LIMIT_EXPECTATION = { message: `expected an integer in 1..${MAX_PAGE_SIZE}` };

// Constraints are checked bottom-up (see jobs/dto/create-job.dto.ts).
export class AuditLogQuery {
  @ApiPropertyOptional({ minimum: 0, default: 0, description: 'Entries after this sequence number' })
  @Max(MAX_SEQ, AFTER_SEQ_EXPECTATION)
  @Min(0, AFTER_SEQ_EXPECTATION)
  @IsInt(AFTER_SEQ_EXPECTATION)
  @Type(() => Number)
  @OptionalProperty()
  afterSeq?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: 100 })
  @Max(MAX_PAGE_SIZE, LIMIT_EXPECTATION)
  @Min(1, LIMIT_EXPECTATION)
  @IsInt(LIMIT_EXPECTATION)
  @Type(() => Number)
  @OptionalProperty()
  limit?: number;
}

export class AuditEntryResponse {
  @ApiProperty({ description: '1, 2, 3 … per tenant, without gaps' }) seq!: number;
  @ApiProperty() at!: Date;
  @ApiProperty({ enum: ['USER', 'API_TOKEN'] }) actorKind!: string;
  @ApiProperty({ format: 'uuid', description: 'The user or API token that acted' }) actorId!: string;
  @ApiProperty({ description: "That token's name when it acted" }) actorName!: string;
  @ApiProperty({ example: 'policy.published', description: 'policy.created, policy.version.created, policy.published, policy.withdrawn, enrollment-token.created' })
  action!: string;
  @ApiProperty({ example: 'policy:6f1d2c3b-4a59-4e8f-9b7a-0c1d2e3f4a5b' }) target!: string;
  @ApiProperty({ type: Object, description: 'A small object about the action; never a secret' }) details!: object;
  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: 'The address of the peer that sent the request (behind a reverse proxy, the proxy: X-Forwarded-For is not trusted)',
  })
  sourceIp!: string | null;
  @ApiProperty({ description: "The previous entry's hash (64 zeros for the first)" }) prevHash!: string;
  @ApiProperty({ description: 'SHA-256, hex, of the canonical JSON (keys sorted, no spaces) of every other field and tenantId' }) hash!: string;
}

export class AuditVerificationResponse {
  @ApiProperty({ description: 'Every entry links to the one before and hashes to its stored hash' }) ok!: boolean;
  @ApiProperty({ description: 'Entries of the tenant' }) entries!: number;
  @ApiPropertyOptional({ description: 'The first entry that does not hold; absent when ok' }) firstBrokenSeq?: number;
}
