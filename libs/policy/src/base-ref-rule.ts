import type { BaseRefRule } from './local-policy';

/**
 * Whether a fix may start from branch `baseRef` under `rule`: it must not start with a
 * forbidden prefix (case-insensitively, so that `Airlock/x` cannot slip past `airlock/`
 * on a case-insensitive file system), and must match one of the allowed names or globs.
 * `baseRef` is a branch name without `refs/heads/`; a full ref name matches nothing
 * unless a rule names it so.
 */
export function isBaseRefAllowed(baseRef: string, rule: BaseRefRule): boolean {
  if (baseRef.length === 0) return false;
  const lower = baseRef.toLowerCase();
  if (rule.forbiddenPrefixes.some((prefix) => prefix.length > 0 && lower.startsWith(prefix.toLowerCase()))) return false;
  return rule.allowed.some((pattern) => baseRefGlobMatches(pattern, baseRef));
}

/**
 * Matches a branch name against a simple glob: `*` stands for any run (possibly empty)
 * of characters other than `/`; every other character stands for itself. Comparison is
 * exact (git branch names are case-sensitive).
 */
export function baseRefGlobMatches(pattern: string, baseRef: string): boolean {
  if (!pattern.includes('*')) return pattern === baseRef;
  const source = pattern
    .split('*')
    .map((literal) => literal.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
    .join('[^/]*');
  return new RegExp(`^${source}$`, 'u').test(baseRef);
}
