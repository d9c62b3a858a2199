import { localEffectivePolicy, mergePolicy, type PolicyRules } from '@airlock/policy';
import type { JobPolicy } from '../../policy/job-policy';
import { TEST_AGENT_LIMITS } from '../../testing/scripted-model.mock';

/** What a test says about the policy a job runs under; the rest is a worker on repository `demo` (base `main`) with the test limits. */
export interface GovernedJobPolicyOptions {
  /** The worker config's `policy.rules`: the only place a rule can be advisory or `tests-must-pass` not required. */
  readonly localRules?: PolicyRules;
  /** A central document in force (revision `revision`), merged with the local policy as a bundle's enforce layer is. */
  readonly centralRules?: PolicyRules;
  readonly revision?: number;
  /** A central document published in shadow (revision `shadowRevision`). */
  readonly shadowRules?: PolicyRules;
  readonly shadowRevision?: number;
  readonly maxFixRetries?: number;
  readonly limits?: { readonly maxChangedFiles?: number; readonly maxChangedLines?: number };
}

/** The JobPolicy admission would hand a job under these rules, built with the same merge a worker uses. */
export function governedJobPolicy(options: GovernedJobPolicyOptions = {}): JobPolicy {
  const local = localEffectivePolicy({
    allowedTaskKinds: ['fix'],
    repoAliases: ['demo'],
    baseRefRules: new Map([['demo', { allowed: ['main'], forbiddenPrefixes: ['airlock/'] }]]),
    endpointNames: ['local'],
    maxChangedFiles: options.limits?.maxChangedFiles ?? TEST_AGENT_LIMITS.maxChangedFiles,
    maxChangedLines: options.limits?.maxChangedLines ?? TEST_AGENT_LIMITS.maxChangedLines,
    maxJobTokens: TEST_AGENT_LIMITS.maxJobTokens,
    agentTimeoutMs: TEST_AGENT_LIMITS.agentTimeout,
    ...(options.localRules === undefined ? {} : { rules: options.localRules }),
  });
  const merged = (rules: PolicyRules) => mergePolicy(local, [{ schemaVersion: 1, rules }]).effective;
  return {
    enforced: options.centralRules === undefined ? local : merged(options.centralRules),
    ...(options.shadowRules === undefined ? {} : { shadow: merged(options.shadowRules) }),
    revision: options.revision ?? (options.centralRules === undefined ? 0 : 1),
    shadowRevision: options.shadowRules === undefined ? 0 : (options.shadowRevision ?? 2),
    maxFixRetries: options.maxFixRetries ?? 2,
  };
}
