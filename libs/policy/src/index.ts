export type { BaseRefRule, LocalPolicy, TaskKind } from './local-policy';
export { baseRefGlobMatches, isBaseRefAllowed } from './base-ref-rule';
export { localPolicyDigest } from './local-policy-digest';
export { evaluateTask, type TaskDecision } from './task-evaluator';
export { isLocalInferenceUrl } from './inference-url-guard';
