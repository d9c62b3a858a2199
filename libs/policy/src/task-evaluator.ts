import { FailureCode, type InstructionPayload__Output } from '@airlock/protocol';
import { isBaseRefAllowed } from './base-ref-rule';
import type { LocalPolicy } from './local-policy';

/** Whether the local policy lets a worker run a verified instruction's task. */
export type TaskDecision =
  | { allowed: true }
  | { allowed: false; failureCode: 'REPO_ALIAS_UNKNOWN' | 'TASK_FORBIDDEN_BY_POLICY' };

/**
 * Decides whether a verified instruction's task may run under the local policy, in the
 * order of docs/worker-protocol.md: a fix task's repository must be in the local catalog
 * (REPO_ALIAS_UNKNOWN), then its kind must be allowed, then its base ref must be allowed
 * by the repository's base-ref rule (both TASK_FORBIDDEN_BY_POLICY). A noop runs only
 * when `noop` is allowed. Anything else is refused.
 */
export function evaluateTask(payload: InstructionPayload__Output, policy: LocalPolicy): TaskDecision {
  switch (payload.task) {
    case 'fix': {
      const repoAlias = payload.fix?.repoAlias;
      if (repoAlias === undefined || !policy.repoAliases.includes(repoAlias)) {
        return { allowed: false, failureCode: FailureCode.REPO_ALIAS_UNKNOWN };
      }
      if (!policy.allowedTaskKinds.includes('fix')) return forbidden();
      // The base ref names the .airlock.yml whose test command runs: local policy decides it.
      const rule = policy.baseRefRules.get(repoAlias);
      if (rule === undefined || !isBaseRefAllowed(payload.fix?.baseRef ?? '', rule)) return forbidden();
      return { allowed: true };
    }
    case 'noop':
      return policy.allowedTaskKinds.includes('noop') ? { allowed: true } : forbidden();
    default:
      // A task kind this worker does not know is one it has not allowed.
      return forbidden();
  }
}

function forbidden(): TaskDecision {
  return { allowed: false, failureCode: FailureCode.TASK_FORBIDDEN_BY_POLICY };
}
