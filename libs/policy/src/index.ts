export type { BaseRefRule, TaskKind } from './local-policy';
export { baseRefGlobMatches, isBaseRefAllowed } from './base-ref-rule';
export { isLocalInferenceUrl } from './inference-url-guard';
export {
  RULE_IDS,
  RULE_IDS_TO_WIRE,
  ruleIdOfWire,
  ENFORCEABLE_RULE_IDS,
  RULE_LEVELS,
  DEFAULT_PROTECTED_PATHS,
  LIMIT_CEILINGS,
  policyDocumentSchema,
  policyRulesSchema,
  bundleLayerSchema,
  bundleLayersSchema,
  parsePolicyDocument,
  parseBundleLayers,
  type RuleId,
  type EnforceableRuleId,
  type RuleLevel,
  type PolicyRules,
  type PolicyDocument,
  type PolicyDocumentInput,
  type BundleLayer,
  type BundleLayers,
  type PolicyFieldError,
  type PolicyParseResult,
} from './policy-document';
export {
  localEffectivePolicy,
  mergePolicy,
  isRepositoryAllowed,
  isBaseRefAllowedByPolicy,
  aliasGlobMatches,
  type EffectivePolicy,
  type BaseRefConstraint,
  type LocalPolicyInput,
  type MergeResult,
} from './effective-policy';
export { selectLayers, type LayerSelection, type LayerTarget } from './policy-layers';
export { evaluateTaskAdmission, type TaskAdmission } from './task-admission';
export { localEffectivePolicyDigest } from './effective-policy-digest';
export { evaluateChange, type CandidateChange, type ChangedFile, type PolicyViolation } from './change-evaluation';
export { isDependencyManifest } from './dependency-manifests';
export { evaluateVerification, type VerificationFacts } from './verification-rules';
export { describePolicyForAgent } from './agent-policy-description';
export { applyMetadataLevel, bucketCount, roundDurationMs } from './metadata-level';
export { describeResultFields, isReportedMetadataLevel, REPORTED_METADATA_LEVELS, METADATA_SETTING_OF_LEVEL, type ReportedMetadataLevel, type ResultFieldDescription, type ResultFieldTreatment } from './result-fields';
