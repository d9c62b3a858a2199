import { localEffectivePolicy } from '@airlock/policy';
import { workerConfigSchema } from '../config/worker-config.schema';
import type { JobPolicy } from './job-policy';

const LIMITS = workerConfigSchema.shape.limits.parse(undefined);

/**
 * The policy a job runs under on a worker with no central bundle, whose catalog holds
 * `aliases` (each allowing main) and whose limits are the config's defaults: what tests
 * of the daemon and the pipeline hand a job when policy is not what they test.
 */
export function localJobPolicy(aliases: readonly string[] = ['demo']): JobPolicy {
  const enforced = localEffectivePolicy({
    allowedTaskKinds: ['fix', 'noop'],
    repoAliases: aliases,
    baseRefRules: new Map(aliases.map((alias) => [alias, { allowed: ['main'], forbiddenPrefixes: ['airlock/'] }])),
    endpointNames: ['local'],
    maxChangedFiles: LIMITS.maxChangedFiles,
    maxChangedLines: LIMITS.maxChangedLines,
    maxJobTokens: LIMITS.maxJobTokens,
    agentTimeoutMs: LIMITS.agentTimeout,
  });
  return { enforced, revision: 0, shadowRevision: 0, maxFixRetries: 2 };
}
