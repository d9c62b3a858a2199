import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { RULE_IDS } from '@airlock/policy';
import { POLICY_MODES, POLICY_SCOPES, type PolicyModeName, type PolicyScopeName } from './publish-policy.dto';

export class PolicyVersionSummaryResponse {
  @ApiProperty({ minimum: 1 }) number!: number;
  @ApiPropertyOptional({ nullable: true, type: String }) comment!: string | null;
  @ApiProperty({ format: 'uuid', description: 'The user or API token that wrote it' }) authorId!: string;
  @ApiProperty({ description: "That token's name when it wrote it" }) authorName!: string;
  @ApiProperty() createdAt!: Date;
}

export class PolicyVersionResponse extends PolicyVersionSummaryResponse {
  @ApiProperty({ format: 'uuid' }) policyId!: string;
  @ApiProperty({ type: Object, description: 'The document as written; a version never changes' }) document!: unknown;
}

export class PolicySummaryResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() createdAt!: Date;
  @ApiProperty({ description: 'The highest version number' }) latestVersion!: number;
}

export class PolicyDetailResponse extends PolicySummaryResponse {
  @ApiProperty({ type: [PolicyVersionSummaryResponse] }) versions!: PolicyVersionSummaryResponse[];
}

export class PolicyChangeResponse {
  @ApiProperty({ example: 'rules.max-files-changed.max', description: 'Dotted path; keys that are not plain are written ["like.this"]' }) path!: string;
  @ApiProperty({ enum: ['added', 'removed', 'changed'] }) change!: 'added' | 'removed' | 'changed';
  @ApiPropertyOptional({ description: 'The value in the from version (absent when added)' }) before?: unknown;
  @ApiPropertyOptional({ description: 'The value in the to version (absent when removed)' }) after?: unknown;
}

export class PolicyDiffResponse {
  @ApiProperty({ format: 'uuid' }) policyId!: string;
  @ApiProperty() from!: number;
  @ApiProperty() to!: number;
  @ApiProperty({ type: [PolicyChangeResponse] }) changes!: PolicyChangeResponse[];
}

export class PolicyLayerResponse {
  @ApiProperty({ enum: POLICY_SCOPES }) scope!: PolicyScopeName;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'The pool label or repository alias; null for the tenant scope' }) key!: string | null;
  @ApiProperty({ enum: POLICY_MODES }) mode!: PolicyModeName;
  @ApiProperty({ format: 'uuid' }) policyId!: string;
  @ApiProperty() policyName!: string;
  @ApiProperty() version!: number;
  @ApiProperty({ description: 'The revision that published this layer' }) revision!: number;
  @ApiProperty() publishedAt!: Date;
  @ApiProperty({ format: 'uuid' }) publishedById!: string;
  @ApiProperty() publishedBy!: string;
}

export class CurrentPolicyResponse {
  @ApiProperty({ description: "The tenant's policy revision: 0 before the first publish, one more on every publish or withdraw" }) revision!: number;
  @ApiProperty({ type: [PolicyLayerResponse] }) layers!: PolicyLayerResponse[];
}

export class PolicyRevisionResponse {
  @ApiProperty({ description: 'The new revision of the tenant\'s policy' }) revision!: number;
  @ApiProperty({
    description:
      'Connected workers of the tenant the control-plane replica that took the request sent the new bundle to. Other replicas send it to the workers connected to them, not counted here; an offline worker gets it when it next connects',
  })
  sentToConnectedWorkers!: number;
}

export class PublishResponse extends PolicyRevisionResponse {
  @ApiProperty({ type: PolicyLayerResponse }) layer!: PolicyLayerResponse;
}

export class LayerRefResponse {
  @ApiProperty({ enum: POLICY_SCOPES }) scope!: PolicyScopeName;
  @ApiPropertyOptional({ nullable: true, type: String }) key!: string | null;
  @ApiProperty({ enum: POLICY_MODES }) mode!: PolicyModeName;
  @ApiProperty({ format: 'uuid' }) policyId!: string;
  @ApiProperty() version!: number;
}

export class WithdrawResponse extends PolicyRevisionResponse {
  @ApiProperty({ type: LayerRefResponse, description: 'The layer taken out of force' }) withdrawn!: LayerRefResponse;
}

export class RevisionHistoryResponse {
  @ApiProperty() revision!: number;
  @ApiProperty({ enum: ['published', 'withdrawn'] }) change!: 'published' | 'withdrawn';
  @ApiProperty({ type: LayerRefResponse, description: 'The layer this revision published or withdrew' }) layer!: LayerRefResponse;
  @ApiProperty({ type: [LayerRefResponse], description: 'Every layer in force after this revision' }) layers!: LayerRefResponse[];
  @ApiProperty({ format: 'uuid', description: 'The user or API token that published or withdrew' }) actorId!: string;
  @ApiProperty() actorName!: string;
  @ApiProperty() at!: Date;
}

export class PolicyRefusalResponse {
  @ApiProperty({ description: 'The refused bundle\'s revision (0: its payload could not be read)' }) revision!: number;
  @ApiProperty({ example: 'POLICY_BUNDLE_BAD_SIGNATURE' }) failureCode!: string;
  @ApiProperty() at!: Date;
}

export class WorkerRolloutResponse {
  @ApiProperty({ format: 'uuid' }) workerId!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) name!: string | null;
  @ApiProperty({ enum: ['ONLINE', 'OFFLINE'] }) status!: string;
  @ApiProperty({ type: [String], description: "The worker's pools: the labels of its last Hello and the pool its enrollment token named" }) labels!: string[];
  @ApiProperty({ description: 'The revision in force on the worker (0: none, local policy alone)' }) appliedRevision!: number;
  @ApiPropertyOptional({ nullable: true, type: Date, description: 'When it acknowledged applying it; null when only its Hello reported it' }) appliedAt!: Date | null;
  @ApiProperty({ description: 'appliedRevision is at least the revision asked about' }) upToDate!: boolean;
  @ApiProperty({ type: [String], enum: RULE_IDS, description: 'Rules its local policy keeps stricter than the bundle' }) narrowedRules!: string[];
  @ApiPropertyOptional({ nullable: true, type: PolicyRefusalResponse, description: 'The last bundle it refused (the revision in force did not change)' })
  lastRefusal!: PolicyRefusalResponse | null;
}

export class RolloutResponse {
  @ApiProperty({ description: 'The revision workers are compared with' }) revision!: number;
  @ApiProperty({ type: [WorkerRolloutResponse] }) workers!: WorkerRolloutResponse[];
}

export class PolicyDecisionResponse {
  @ApiProperty({ format: 'uuid' }) jobId!: string;
  @ApiProperty() attempt!: number;
  @ApiProperty({ enum: RULE_IDS }) rule!: string;
  @ApiProperty({ enum: ['ADVISORY', 'MANDATORY'] }) level!: string;
  @ApiProperty({ enum: ['BLOCKED', 'CORRECTED', 'RECORDED', 'SHADOW_WOULD_BLOCK'] }) outcome!: string;
  @ApiProperty({ description: 'The central revision in force for the job (0: local policy alone)' }) revision!: number;
  @ApiProperty({ description: 'The revision evaluated in shadow beside it, or 0' }) shadowRevision!: number;
  @ApiProperty() at!: Date;
}
