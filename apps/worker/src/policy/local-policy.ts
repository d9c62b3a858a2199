import { localEffectivePolicy, type EffectivePolicy, type LocalPolicyInput } from '@airlock/policy';
import type { WorkerConfig } from '../config/worker-config.loader';

/** The parts of a worker config that make its local policy. */
export type LocalPolicyConfig = Pick<WorkerConfig, 'allowNoop' | 'jobKinds' | 'repositories' | 'inference' | 'limits' | 'policy'>;

/** What the worker config says, as `localEffectivePolicy` takes it. */
export function localPolicyInputOf(config: LocalPolicyConfig): LocalPolicyInput {
  return {
    allowedTaskKinds: config.allowNoop ? [...config.jobKinds, 'noop'] : [...config.jobKinds],
    repoAliases: config.repositories.map((repo) => repo.alias),
    // The worker's own output (branchPrefix) is never a base, whatever baseRefs say.
    baseRefRules: new Map(config.repositories.map((repo) => [repo.alias, { allowed: [...repo.baseRefs], forbiddenPrefixes: [repo.branchPrefix] }])),
    endpointNames: config.inference.endpoints.map((endpoint) => endpoint.name),
    maxChangedFiles: config.limits.maxChangedFiles,
    maxChangedLines: config.limits.maxChangedLines,
    maxJobTokens: config.limits.maxJobTokens,
    agentTimeoutMs: config.limits.agentTimeout,
    rules: config.policy.rules,
  };
}

/** The local policy a worker config implies: it has the last word over anything the control plane asks. */
export function localEffectivePolicyOf(config: LocalPolicyConfig): EffectivePolicy {
  return localEffectivePolicy(localPolicyInputOf(config));
}
