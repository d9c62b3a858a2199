import { createHash } from 'node:crypto';
import type { LocalPolicy } from './local-policy';

/**
 * SHA-256 (32 bytes) of the policy's canonical JSON: keys sorted, every array sorted by
 * code unit and without duplicates. Two policies that allow the same things have the
 * same digest however their config lists them; any real change gives another digest.
 * The worker reports it in `Hello.local_policy_digest`.
 *
 * Superseded by localEffectivePolicyDigest, which also covers the rules of `policy.rules`;
 * kept only until the worker's run command switches to it.
 */
export function localPolicyDigest(policy: LocalPolicy): Buffer {
  // Built field by field, in sorted key order, so that nothing beyond these fields
  // (whatever else a config object carries) can move the digest. Base-ref rules become
  // [alias, {allowed, forbiddenPrefixes}] pairs sorted by alias: an array rather than an
  // object, because JSON objects put integer-like keys first whatever the insertion order.
  const canonical = {
    allowedTaskKinds: sortedUnique(policy.allowedTaskKinds),
    baseRefRules: [...policy.baseRefRules.entries()]
      .sort(([a], [b]) => compare(a, b))
      .map(([alias, rule]) => [alias, { allowed: sortedUnique(rule.allowed), forbiddenPrefixes: sortedUnique(rule.forbiddenPrefixes) }]),
    inferenceHosts: sortedUnique(policy.inferenceHosts),
    repoAliases: sortedUnique(policy.repoAliases),
  };
  return createHash('sha256').update(JSON.stringify(canonical), 'utf8').digest();
}

// Plain comparison rather than localeCompare: the order must not depend on the host's locale.
function sortedUnique(values: ReadonlyArray<string>): string[] {
  return [...new Set(values)].sort(compare);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
