import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import type { WorkerStatus } from '@airlock/data-access';
import { REPORTED_METADATA_LEVELS, type ReportedMetadataLevel, type ResultFieldTreatment } from '@airlock/policy';
import { OptionalProperty } from '../common/request-validation';
import { POLICY_MODES, POLICY_SCOPES, type PolicyModeName, type PolicyScopeName } from '../policies/dto/publish-policy.dto';
import { WORKER_VERSION_STATUSES, type WorkerVersionStatus } from './worker-version';

export const WORKER_STATUSES = ['ONLINE', 'OFFLINE'] as const satisfies readonly WorkerStatus[];
export const RESULT_FIELD_TREATMENTS = ['EXACT', 'NOT_SENT', 'POWER_OF_TWO', 'ROUNDED_100_MS', 'ZERO_OR_ONE', 'FIXED', 'ALTERED'] as const satisfies readonly ResultFieldTreatment[];

export const MAX_WORKERS_LISTED = 1_000;
export const DEFAULT_WORKERS_LISTED = 500;
const LIMIT_EXPECTATION = { message: `expected an integer in 1..${MAX_WORKERS_LISTED}` };

export class ListWorkersQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_WORKERS_LISTED, default: DEFAULT_WORKERS_LISTED, description: 'At most this many, oldest enrollment first' })
  @Max(MAX_WORKERS_LISTED, LIMIT_EXPECTATION)
  @Min(1, LIMIT_EXPECTATION)
  @IsInt(LIMIT_EXPECTATION)
  @Type(() => Number)
  @OptionalProperty()
  limit?: number;
}

/** A worker of the fleet: its connection, control state, load, version and policy, as metadata only. */
export class WorkerResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ type: String, nullable: true }) name!: string | null;
  // ONLINE while its stream to a control plane is open. (A description here would be copied into the shared enum's schema.)
  @ApiProperty({ enum: WORKER_STATUSES, enumName: 'WorkerStatus' }) status!: WorkerStatus;
  @ApiProperty({ description: 'An admin drains it: it keeps running what it holds and is given nothing new' }) draining!: boolean;
  @ApiProperty({ type: Date, nullable: true, description: 'Since when it drains' }) drainingAt!: Date | null;
  @ApiProperty({ description: 'An admin revoked it: its stream was ended and every Hello is refused; final' }) revoked!: boolean;
  @ApiProperty({ type: Date, nullable: true }) revokedAt!: Date | null;
  @ApiProperty({ example: '0.1.0', description: 'The version of its last Hello (its enrollment, before it connected)' }) version!: string;
  @ApiProperty({ description: 'Whether a Hello with that version is accepted now: versionStatus SUPPORTED or DEPRECATED' })
  versionSupported!: boolean;
  @ApiProperty({
    enum: WORKER_VERSION_STATUSES,
    enumName: 'WorkerVersionStatus',
    // Copied into the shared enum's schema, so it speaks of a worker version in general.
    description:
      "Where a worker version stands in the window the control plane supports (docs/fleet.md): SUPPORTED; DEPRECATED, accepted until endOfSupport; " +
      'TOO_OLD or TOO_NEW, refused at the Hello (FAILED_PRECONDITION, naming the version to install)',
  })
  versionStatus!: WorkerVersionStatus;
  @ApiProperty({ type: Date, nullable: true, description: 'With DEPRECATED: when support for that version ends and its Hello is refused; null otherwise' })
  endOfSupport!: Date | null;
  @ApiProperty({ type: [String], description: 'The pools of its last Hello, as its config names them' }) labels!: string[];
  @ApiProperty({ type: String, nullable: true, description: 'The pool its enrollment token named; its pool layers reach it like those of its labels' })
  pool!: string | null;
  @ApiProperty({ description: 'Job slots it announced in its last Hello' }) capacity!: number;
  @ApiProperty({ description: 'Its load: attempts DISPATCHED or RUNNING on it' }) activeAttempts!: number;
  @ApiProperty({ type: Date, nullable: true, description: 'When it was last heard from: Hello, heartbeat, result or disconnect' }) lastSeenAt!: Date | null;
  @ApiProperty() enrolledAt!: Date;
  @ApiProperty({ type: String, nullable: true, description: "SHA-256 of its local policy from its last Hello, lowercase hex; compare with the worker's own" })
  localPolicyDigest!: string | null;
  @ApiProperty({ description: 'The central policy revision in force on it (0: none, local policy alone)' }) policyRevision!: number;
  @ApiProperty({ type: Date, nullable: true, description: 'When it acknowledged applying that revision; null when only its Hello reported it' })
  policyAppliedAt!: Date | null;
  @ApiProperty({ type: [String], description: 'Rule ids its local policy keeps stricter than that revision' }) narrowedRules!: string[];
  @ApiProperty({ description: 'Results it reported whose figures cannot be true (recorded, flagged on the job, left out of analytics)' }) implausibleResults!: number;
  @ApiProperty({ type: Date, nullable: true, description: 'When the last such result came' }) lastImplausibleAt!: Date | null;
}

/** One field of a JobResult and what a worker may send in it at a metadata level. */
export class ResultFieldResponse {
  @ApiProperty({ example: 'tokens.promptTokens', description: 'Dotted path in the JobResult message; [] marks each entry of a repeated field' }) field!: string;
  @ApiProperty({ example: 'uint32', description: 'The protobuf type: uint32, bool, bytes, string, or enum <Name>' }) type!: string;
  @ApiProperty({ description: 'Whether the field can carry anything at this level (false: always zero or empty)' }) sent!: boolean;
  @ApiProperty({ enum: RESULT_FIELD_TREATMENTS, enumName: 'ResultFieldTreatment', description: 'What the level does to the value before it leaves the worker' })
  treatment!: ResultFieldTreatment;
  @ApiProperty({ example: 'Rounded down to 0 or a power of two.' }) note!: string;
}

/** A layer of the central policy revision a worker applied. */
export class AppliedPolicyLayerResponse {
  @ApiProperty({ enum: POLICY_SCOPES, enumName: 'PolicyScope' }) scope!: PolicyScopeName;
  @ApiProperty({ type: String, nullable: true, description: 'The pool label or repository alias; null for the tenant scope' }) key!: string | null;
  @ApiProperty({ enum: POLICY_MODES, enumName: 'PolicyMode' }) mode!: PolicyModeName;
  @ApiProperty({ format: 'uuid' }) policyId!: string;
  @ApiProperty({ type: String, nullable: true, description: "The policy's name; null if it is no longer found" }) policyName!: string | null;
  @ApiProperty() version!: number;
}

/** The central policy a worker applied. */
export class WorkerPolicyResponse {
  @ApiProperty({ description: 'The revision in force on it (0: none)' }) revision!: number;
  @ApiProperty({ type: Date, nullable: true, description: 'When it acknowledged applying it; null when only its Hello reported it' }) appliedAt!: Date | null;
  @ApiProperty({
    type: [AppliedPolicyLayerResponse],
    description: "The layers of that revision its bundle carried: tenant and repository layers, and the pool layers of its pools (labels and pool)",
  })
  layers!: AppliedPolicyLayerResponse[];
}

/** A worker and its trust view: what it may send, and the policy it applied. */
export class WorkerDetailResponse extends WorkerResponse {
  @ApiProperty({
    enum: REPORTED_METADATA_LEVELS,
    enumName: 'MetadataLevel',
    nullable: true,
    description: 'How much a worker reports in a result (docs/security.md, "Choosing a level")',
  })
  /** The level of the last result it reported; null if it never reported one (or only before levels were reported). */
  metadataLevel!: ReportedMetadataLevel | null;
  @ApiProperty({
    type: [ResultFieldResponse],
    description:
      'Every field of a JobResult and whether, and how, a worker sends it at metadataLevel: the level of its last result. ' +
      'metadataLevel and this are empty (null, []) until it reported a result that names its level.',
  })
  allowedFields!: ResultFieldResponse[];
  @ApiProperty({ type: WorkerPolicyResponse }) policy!: WorkerPolicyResponse;
}

/** The newest ledger checkpoints a worker's export lists: a week of one every five minutes. */
export const MAX_LEDGER_CHECKPOINTS_LISTED = 2_016;

/** A head of a worker's egress audit log, as its heartbeat reported it: a line number and that line's chain hash. */
export class LedgerHeadResponse {
  @ApiProperty({ minimum: 1, description: 'The number (seq) of the last line of the log when the heartbeat was sent' })
  seq!: number;

  @ApiProperty({ pattern: '^[0-9a-f]{64}$', description: "That line's SHA-256 chain hash, hex" })
  head!: string;

  @ApiProperty({ format: 'date-time', description: 'When the control plane received it' })
  receivedAt!: string;
}

/**
 * What the control plane received of a worker's egress audit log: the latest head and the
 * checkpoints kept, oldest first. `airlock-worker audit verify --against <this document>`
 * proves the local log was neither cut back nor rewritten after each was reported.
 */
export class WorkerLedgerHeadsResponse {
  @ApiProperty({ format: 'uuid' }) workerId!: string;

  @ApiProperty({ type: LedgerHeadResponse, nullable: true, description: 'The head of its last heartbeat; null before its first' })
  latest!: LedgerHeadResponse | null;

  @ApiProperty({ type: [LedgerHeadResponse], description: `One head every five minutes of heartbeats, oldest first; at most the newest ${MAX_LEDGER_CHECKPOINTS_LISTED}` })
  checkpoints!: LedgerHeadResponse[];
}
