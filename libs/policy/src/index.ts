export type { LocalPolicy, TaskKind } from './local-policy';
export { localPolicyDigest } from './local-policy-digest';
export { evaluateTask, type TaskDecision } from './task-evaluator';
export { isLocalInferenceUrl } from './inference-url-guard';
