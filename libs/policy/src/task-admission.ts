import { FailureCode, type InstructionPayload__Output } from '@airlock/protocol';
import { isBaseRefAllowedByPolicy, isRepositoryAllowed, type EffectivePolicy } from './effective-policy';
import type { RuleId } from './policy-document';

/** Whether the effective policy lets a worker run a verified instruction's task, and which rule refused it. */
export type TaskAdmission =
  | { allowed: true }
  | { allowed: false; failureCode: 'REPO_ALIAS_UNKNOWN' | 'TASK_FORBIDDEN_BY_POLICY'; rules: RuleId[] };

/**
 * Decides whether a verified instruction's task may run under the effective policy, in
 * the order of docs/worker-protocol.md: a fix's alias must be in the local catalog
 * (REPO_ALIAS_UNKNOWN, no rule: the worker does not have that repository), then match the
 * central repositories rule, then the task kind must be allowed, then the base ref
 * (TASK_FORBIDDEN_BY_POLICY naming the rule). A task kind this worker does not know is
 * one it has not allowed (`job-kinds`).
 */
export function evaluateTaskAdmission(payload: InstructionPayload__Output, policy: EffectivePolicy): TaskAdmission {
  switch (payload.task) {
    case 'fix': {
      const repoAlias = payload.fix?.repoAlias;
      if (repoAlias === undefined || !policy.repositories.catalog.includes(repoAlias)) {
        return { allowed: false, failureCode: FailureCode.REPO_ALIAS_UNKNOWN, rules: [] };
      }
      if (!isRepositoryAllowed(policy, repoAlias)) return forbiddenBy('repositories');
      if (!policy.jobKinds.includes('fix')) return forbiddenBy('job-kinds');
      // The base ref names the .airlock.yml whose test command runs: local policy decides it, central may narrow it.
      if (!isBaseRefAllowedByPolicy(policy, repoAlias, payload.fix?.baseRef ?? '')) return forbiddenBy('base-refs');
      return { allowed: true };
    }
    case 'noop':
      return policy.jobKinds.includes('noop') ? { allowed: true } : forbiddenBy('job-kinds');
    case 'review': {
      // A review reads the request's change and posts comments: no test command, so no base-ref rule.
      const repoAlias = payload.review?.repoAlias;
      if (repoAlias === undefined || !policy.repositories.catalog.includes(repoAlias)) {
        return { allowed: false, failureCode: FailureCode.REPO_ALIAS_UNKNOWN, rules: [] };
      }
      if (!isRepositoryAllowed(policy, repoAlias)) return forbiddenBy('repositories');
      return policy.jobKinds.includes('review') ? { allowed: true } : forbiddenBy('job-kinds');
    }
    case 'index': {
      const repoAlias = payload.index?.repoAlias;
      if (repoAlias === undefined || !policy.repositories.catalog.includes(repoAlias)) {
        return { allowed: false, failureCode: FailureCode.REPO_ALIAS_UNKNOWN, rules: [] };
      }
      if (!isRepositoryAllowed(policy, repoAlias)) return forbiddenBy('repositories');
      if (!policy.jobKinds.includes('index')) return forbiddenBy('job-kinds');
      // An index is of a ref fix jobs may start from: the same rule keeps arbitrary refs out.
      if (!isBaseRefAllowedByPolicy(policy, repoAlias, payload.index?.ref ?? '')) return forbiddenBy('base-refs');
      return { allowed: true };
    }
    default:
      return forbiddenBy('job-kinds');
  }
}

function forbiddenBy(rule: RuleId): TaskAdmission {
  return { allowed: false, failureCode: FailureCode.TASK_FORBIDDEN_BY_POLICY, rules: [rule] };
}
