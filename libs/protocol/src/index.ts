export { PROTO_LOADER_OPTIONS } from './loader-options';
export { WORKER_GATEWAY_PROTO, protoIncludeRoot } from './proto-files';
export { buildInfo, formatBuildInfo, type BuildInfo } from './build-info';
export { WIRE_LIMITS, ID_PATTERNS } from './limits';
export { loadAirlockV1, workerGatewayServiceDefinition } from './worker-gateway.loader';
export {
  encodeInstructionPayload,
  decodeInstructionPayload,
  InstructionPayloadDecodeError,
} from './instruction-payload.codec';
export {
  encodePolicyBundlePayload,
  decodePolicyBundlePayload,
  PolicyBundlePayloadDecodeError,
} from './policy-bundle-payload.codec';
export { helloChallengeMessage } from './hello-challenge';
export {
  WORKER_REVOKED_REFUSAL,
  isWorkerRevokedRefusal,
  WORKER_VERSION_REFUSAL,
  workerVersionRefusalMetadata,
  readWorkerVersionRefusal,
  type WorkerVersionRefusal,
  GATEWAY_BUSY_REFUSAL,
  gatewayBusyRefusalMetadata,
  readGatewayBusyRetryAfterMs,
} from './worker-refusal';
export { policyBundleSignedMessage } from './policy-bundle-message';
export {
  controlFrameSignedMessage,
  signedControlFrameKind,
  SIGNED_CONTROL_FRAMES,
  type ControlFrameBinding,
  type SignedControlFrame,
  type SignedControlFrameKind,
} from './control-frame-message';
export {
  validateWorkerFrame,
  validateControlFrame,
  validateInstructionPayload,
  validatePolicyBundlePayload,
  FrameValidationError,
  REJECTION_FAILURE_CODES,
  POLICY_BUNDLE_FAILURE_CODES,
  type FrameViolation,
} from './frame-validation';

export { Delivery } from './generated/airlock/v1/Delivery';
export { MergeRequestState } from './generated/airlock/v1/MergeRequestState';
export type { DeliveryOutcome, DeliveryOutcome__Output } from './generated/airlock/v1/DeliveryOutcome';
export { FailureCode } from './generated/airlock/v1/FailureCode';
export { JobOutcome } from './generated/airlock/v1/JobOutcome';
export { Phase } from './generated/airlock/v1/Phase';
export { PhaseState } from './generated/airlock/v1/PhaseState';
export { ResultDisposition } from './generated/airlock/v1/ResultDisposition';
export { PolicyRule, type PolicyRule__Output } from './generated/airlock/v1/PolicyRule';
export { RuleLevel as WireRuleLevel } from './generated/airlock/v1/RuleLevel';
export { RuleOutcome } from './generated/airlock/v1/RuleOutcome';
export { MetadataLevel } from './generated/airlock/v1/MetadataLevel';
export { PolicyAckStatus } from './generated/airlock/v1/PolicyAckStatus';
export { VersionStatus } from './generated/airlock/v1/VersionStatus';
export type { VersionNotice, VersionNotice__Output } from './generated/airlock/v1/VersionNotice';
export type { Welcome, Welcome__Output } from './generated/airlock/v1/Welcome';
export type { AttemptRef, AttemptRef__Output } from './generated/airlock/v1/AttemptRef';
export type { ControlFrame, ControlFrame__Output } from './generated/airlock/v1/ControlFrame';
export type { FrameSignature, FrameSignature__Output } from './generated/airlock/v1/FrameSignature';
export type { WorkerFrame, WorkerFrame__Output } from './generated/airlock/v1/WorkerFrame';
export type { EnrollRequest, EnrollRequest__Output } from './generated/airlock/v1/EnrollRequest';
export type { EnrollResponse, EnrollResponse__Output } from './generated/airlock/v1/EnrollResponse';
export type { SigningPublicKey, SigningPublicKey__Output } from './generated/airlock/v1/SigningPublicKey';
export type { SignedInstruction, SignedInstruction__Output } from './generated/airlock/v1/SignedInstruction';
export type { InstructionPayload, InstructionPayload__Output } from './generated/airlock/v1/InstructionPayload';
export type { FixTask, FixTask__Output } from './generated/airlock/v1/FixTask';
export type { ReviewTask, ReviewTask__Output } from './generated/airlock/v1/ReviewTask';
export type { IndexTask, IndexTask__Output } from './generated/airlock/v1/IndexTask';
export type { ReviewStats, ReviewStats__Output } from './generated/airlock/v1/ReviewStats';
export type { JobResult, JobResult__Output } from './generated/airlock/v1/JobResult';
export type { ModelUsage, ModelUsage__Output } from './generated/airlock/v1/ModelUsage';
export type { Hello, Hello__Output } from './generated/airlock/v1/Hello';
export type { Heartbeat, Heartbeat__Output } from './generated/airlock/v1/Heartbeat';
export type { ProgressEvent, ProgressEvent__Output } from './generated/airlock/v1/ProgressEvent';
export type { PhaseDuration, PhaseDuration__Output } from './generated/airlock/v1/PhaseDuration';
export type { VerificationStats, VerificationStats__Output } from './generated/airlock/v1/VerificationStats';
export type { SignedPolicyBundle, SignedPolicyBundle__Output } from './generated/airlock/v1/SignedPolicyBundle';
export type { PolicyBundlePayload, PolicyBundlePayload__Output } from './generated/airlock/v1/PolicyBundlePayload';
export type { PolicyAck, PolicyAck__Output } from './generated/airlock/v1/PolicyAck';
export type { PolicyReport, PolicyReport__Output } from './generated/airlock/v1/PolicyReport';
export type { RuleDecision, RuleDecision__Output } from './generated/airlock/v1/RuleDecision';
export type {
  WorkerGatewayClient,
  WorkerGatewayHandlers,
} from './generated/airlock/v1/WorkerGateway';
