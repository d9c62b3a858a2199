import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsIn, IsInt, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';
import { OptionalProperty } from '../common/request-validation';

const MAX_SEQ = 2 ** 31 - 1;
const MAX_PAGE_SIZE = 500;
const AFTER_SEQ_EXPECTATION = { message: `expected an integer in 0..${MAX_SEQ}` };
const LIMIT_EXPECTATION = { message: `expected an integer in 1..${MAX_PAGE_SIZE}` };

const ACTION_EXPECTATION = { message: 'expected an action such as policy.published, or a family ending in a dot such as policy.' };
const DATE_EXPECTATION = { message: 'expected an ISO 8601 timestamp' };

// Constraints are checked bottom-up (see jobs/dto/create-job.dto.ts).
/** Which entries: every field narrows. Shared by the listing and the export. */
export class AuditLogFilterQuery {
  @ApiPropertyOptional({ example: 'policy.', description: 'An exact action, or a family ending in a dot (policy. matches policy.published and policy.withdrawn)' })
  @Matches(/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*\.?$/, ACTION_EXPECTATION)
  @MaxLength(100, ACTION_EXPECTATION)
  @OptionalProperty()
  action?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Only what this user or API token did' })
  @IsUUID('all', { message: 'expected a UUID' })
  @OptionalProperty()
  actorId?: string;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Entries at or after this time' })
  @IsDate(DATE_EXPECTATION)
  @Type(() => Date)
  @OptionalProperty()
  from?: Date;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Entries before this time' })
  @IsDate(DATE_EXPECTATION)
  @Type(() => Date)
  @OptionalProperty()
  to?: Date;
}

export class AuditLogQuery extends AuditLogFilterQuery {
  @ApiPropertyOptional({ enum: ['asc', 'desc'], default: 'asc', description: 'asc: oldest first, paged with afterSeq; desc: newest first, paged with beforeSeq' })
  @IsIn(['asc', 'desc'], { message: 'expected asc or desc' })
  @OptionalProperty()
  order?: 'asc' | 'desc';

  @ApiPropertyOptional({ minimum: 1, description: 'For order=desc: entries before this sequence number' })
  @Max(MAX_SEQ, AFTER_SEQ_EXPECTATION)
  @Min(1, AFTER_SEQ_EXPECTATION)
  @IsInt(AFTER_SEQ_EXPECTATION)
  @Type(() => Number)
  @OptionalProperty()
  beforeSeq?: number;

  @ApiPropertyOptional({ minimum: 0, default: 0, description: 'For order=asc: entries after this sequence number' })
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
  @ApiProperty({ description: "The user's or token's name when it acted" }) actorName!: string;
  @ApiProperty({ example: 'policy.published', description: 'What was done, e.g. policy.published or worker.revoked (docs/audit-log.md lists every action)' })
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

export const AUDIT_EXPORT_FORMATS = ['jsonl', 'csv'] as const;

export class AuditLogExportQuery extends AuditLogFilterQuery {
  @ApiPropertyOptional({ enum: AUDIT_EXPORT_FORMATS, default: 'jsonl', description: 'jsonl keeps every field, hashes included, for offline verification' })
  @IsIn(AUDIT_EXPORT_FORMATS, { message: 'expected jsonl or csv' })
  @OptionalProperty()
  format?: (typeof AUDIT_EXPORT_FORMATS)[number];
}
