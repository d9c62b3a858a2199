import { createHash } from 'node:crypto';
import type { EffectivePolicy } from './effective-policy';

/**
 * SHA-256 (32 bytes) of the worker's local policy: its local EffectivePolicy and the
 * inference hosts its config allows (not a rule, but where prompts may go). Canonical
 * JSON: keys sorted, arrays sorted by code unit and without duplicates, except the
 * inference endpoints, whose order is the worker's fallback order. Two configs that allow
 * the same things have the same digest however they list them; any change of a local
 * rule gives another. The worker reports it in `Hello.local_policy_digest`.
 */
export function localEffectivePolicyDigest(local: EffectivePolicy, inferenceHosts: ReadonlyArray<string>): Buffer {
  // Built field by field in sorted key order, so that nothing beyond these fields can move
  // the digest. Records become [key, value] pairs sorted by key: JSON objects put
  // integer-like keys first whatever the insertion order.
  const canonical = {
    baseRefs: {
      constraints: sortedUniqueJson(local.baseRefs.constraints.map((c) => ({ aliasGlob: c.aliasGlob, allowed: sortedUnique(c.allowed) }))),
      local: Object.entries(local.baseRefs.local)
        .sort(([a], [b]) => compare(a, b))
        .map(([alias, rule]) => [alias, { allowed: sortedUnique(rule.allowed), forbiddenPrefixes: sortedUnique(rule.forbiddenPrefixes) }]),
    },
    deniedLicenses: { level: local.deniedLicenses.level, licenses: sortedUnique(local.deniedLicenses.licenses.map((id) => id.toLowerCase())) },
    deniedPackages: { level: local.deniedPackages.level, packages: sortedUnique(local.deniedPackages.packages) },
    dependencyManifests: { allowChanges: local.dependencyManifests.allowChanges, level: local.dependencyManifests.level },
    inferenceEndpoints: [...local.inferenceEndpoints],
    inferenceHosts: sortedUnique(inferenceHosts),
    inferenceTimeBudgetMs: local.inferenceTimeBudgetMs,
    inferenceTokenBudget: local.inferenceTokenBudget,
    jobKinds: sortedUnique(local.jobKinds),
    maxFilesChanged: { level: local.maxFilesChanged.level, max: local.maxFilesChanged.max },
    maxLinesChanged: { level: local.maxLinesChanged.level, max: local.maxLinesChanged.max },
    metadata: { buckets: local.metadata.buckets, report: local.metadata.report },
    minTestsRun: { level: local.minTestsRun.level, min: local.minTestsRun.min },
    protectedPaths: { level: local.protectedPaths.level, paths: sortedUnique(local.protectedPaths.paths) },
    repositories: { catalog: sortedUnique(local.repositories.catalog), globLists: sortedUniqueJson(local.repositories.globLists.map(sortedUnique)) },
    secrets: { enabled: local.secrets.enabled, level: local.secrets.level },
    testsMustPass: { level: local.testsMustPass.level, required: local.testsMustPass.required },
  };
  return createHash('sha256').update(JSON.stringify(canonical), 'utf8').digest();
}

// Plain comparison rather than localeCompare: the order must not depend on the host's locale.
function sortedUnique(values: ReadonlyArray<string>): string[] {
  return [...new Set(values)].sort(compare);
}

/** Sorts and deduplicates values by their JSON (each already canonical). */
function sortedUniqueJson<T>(values: ReadonlyArray<T>): T[] {
  const byJson = new Map(values.map((value) => [JSON.stringify(value), value]));
  return [...byJson.keys()].sort(compare).map((key) => byJson.get(key)!);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
