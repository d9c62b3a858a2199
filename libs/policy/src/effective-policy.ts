import type { BaseRefRule, TaskKind } from './local-policy';
import { DEFAULT_PROTECTED_PATHS, RULE_IDS, type PolicyDocument, type PolicyRules, type RuleId, type RuleLevel } from './policy-document';
import { baseRefGlobMatches, isBaseRefAllowed } from './base-ref-rule';

/** A rule evaluated on a change or its test run, with how hard it stops the job. */
interface Levelled {
  readonly level: RuleLevel;
}

/**
 * The policy a worker enforces on a job: its local config merged with every central
 * document that applies, each rule with a concrete value. Plain data (no Map, no class),
 * so that the worker can keep it in the job's record as JSON.
 */
export interface EffectivePolicy {
  readonly jobKinds: ReadonlyArray<TaskKind>;
  readonly repositories: {
    /** Aliases of the worker's local catalog: nothing outside it ever runs. */
    readonly catalog: ReadonlyArray<string>;
    /**
     * Alias glob lists (`*` any run, `?` one character) from the documents that set
     * `repositories`: an alias is allowed iff it is in the catalog AND matches at least
     * one glob of every list. No list: the catalog alone decides.
     */
    readonly globLists: ReadonlyArray<ReadonlyArray<string>>;
  };
  readonly baseRefs: {
    /** The worker's own rule per catalog alias; an alias without one allows no base ref. */
    readonly local: Readonly<Record<string, BaseRefRule>>;
    /**
     * Central constraints, one per alias glob of each document that set `base-refs`: a
     * base ref is allowed only if every constraint whose glob matches the alias lists it.
     * A document without an entry matching the alias leaves that alias to the others.
     */
    readonly constraints: ReadonlyArray<BaseRefConstraint>;
  };
  readonly protectedPaths: Levelled & { readonly paths: ReadonlyArray<string> };
  readonly maxFilesChanged: Levelled & { readonly max: number };
  readonly maxLinesChanged: Levelled & { readonly max: number };
  readonly secrets: Levelled & { readonly enabled: boolean };
  readonly dependencyManifests: Levelled & { readonly allowChanges: boolean };
  readonly deniedPackages: Levelled & { readonly packages: ReadonlyArray<string> };
  readonly deniedLicenses: Levelled & { readonly licenses: ReadonlyArray<string> };
  readonly testsMustPass: Levelled & { readonly required: boolean };
  readonly minTestsRun: Levelled & { readonly min: number };
  /** Endpoint names in the worker's fallback order (the order of its config). */
  readonly inferenceEndpoints: ReadonlyArray<string>;
  readonly inferenceTokenBudget: number;
  readonly inferenceTimeBudgetMs: number;
  readonly metadata: { readonly report: 'minimal' | 'standard'; readonly buckets: boolean };
}

export interface BaseRefConstraint {
  readonly aliasGlob: string;
  /** Branch names or globs (`*` = any run of characters but `/`). */
  readonly allowed: ReadonlyArray<string>;
}

/** What a worker's config says, from which its local EffectivePolicy is built. */
export interface LocalPolicyInput {
  readonly allowedTaskKinds: ReadonlyArray<TaskKind>;
  readonly repoAliases: ReadonlyArray<string>;
  readonly baseRefRules: ReadonlyMap<string, BaseRefRule>;
  /** The configured inference endpoints' names, in fallback order. */
  readonly endpointNames: ReadonlyArray<string>;
  readonly maxChangedFiles: number;
  readonly maxChangedLines: number;
  readonly maxJobTokens: number;
  readonly agentTimeoutMs: number;
  /** The config's `policy.rules` section: the document schema's `rules`. */
  readonly rules?: PolicyRules;
}

/**
 * The rules the rest of a worker's config already carries (job kinds, catalog, base refs,
 * change limits, endpoints, budgets). Local `policy.rules` entries for them can only
 * narrow what the config says, exactly as a central document would.
 */
const CONFIG_CARRIED_RULES = [
  'job-kinds',
  'repositories',
  'base-refs',
  'max-files-changed',
  'max-lines-changed',
  'inference-endpoints',
  'inference-token-budget',
  'inference-time-budget',
] as const satisfies readonly RuleId[];

/**
 * The worker's local EffectivePolicy. The rules only `policy.rules` can state (protected
 * paths, secrets, dependency manifests, denied packages and licences, tests, metadata)
 * take its values, or these defaults where it leaves them out: the repository's CI and
 * Airlock config protected, secrets scanned, no dependency changes, tests must pass (all
 * mandatory), nothing denied, no minimum test count, standard metadata without buckets.
 * The rules the config carries elsewhere (job kinds, repositories, base refs, change
 * limits, endpoints, token and time budgets) come from there; a `policy.rules` entry for
 * one of them merges with it, stricter wins (a repository glob list narrows the catalog,
 * a smaller max lowers the limit), and never replaces it.
 */
export function localEffectivePolicy(input: LocalPolicyInput): EffectivePolicy {
  const rules = input.rules ?? {};
  const fromConfig: EffectivePolicy = {
    jobKinds: unique(input.allowedTaskKinds),
    repositories: { catalog: unique(input.repoAliases), globLists: [] },
    baseRefs: {
      local: Object.fromEntries([...input.baseRefRules].map(([alias, rule]) => [alias, { allowed: [...rule.allowed], forbiddenPrefixes: [...rule.forbiddenPrefixes] }])),
      constraints: [],
    },
    protectedPaths: rules['protected-paths'] ?? { paths: [...DEFAULT_PROTECTED_PATHS], level: 'mandatory' },
    maxFilesChanged: { max: input.maxChangedFiles, level: 'mandatory' },
    maxLinesChanged: { max: input.maxChangedLines, level: 'mandatory' },
    secrets: rules.secrets ?? { enabled: true, level: 'mandatory' },
    dependencyManifests: rules['dependency-manifests'] ?? { allowChanges: false, level: 'mandatory' },
    deniedPackages: rules['denied-packages'] ?? { packages: [], level: 'mandatory' },
    deniedLicenses: rules['denied-licenses'] ?? { licenses: [], level: 'mandatory' },
    testsMustPass: rules['tests-must-pass'] ?? { required: true, level: 'mandatory' },
    minTestsRun: rules['min-tests-run'] ?? { min: 0, level: 'mandatory' },
    inferenceEndpoints: unique(input.endpointNames),
    inferenceTokenBudget: input.maxJobTokens,
    inferenceTimeBudgetMs: input.agentTimeoutMs,
    metadata: rules['metadata-level'] ?? { report: 'standard', buckets: false },
  };
  const narrowing: PolicyRules = {};
  for (const id of CONFIG_CARRIED_RULES) {
    if (rules[id] !== undefined) Object.assign(narrowing, { [id]: rules[id] });
  }
  return mergePolicy(fromConfig, [{ schemaVersion: 1, rules: narrowing }]).effective;
}

export interface MergeResult {
  readonly effective: EffectivePolicy;
  /** Rules where a document set a value that local policy keeps stricter, in RULE_IDS order. */
  readonly narrowed: RuleId[];
}

/**
 * Central ∩ local, rule by rule, the stricter wins: an allow-list is the intersection
 * (repository and base-ref globs narrow the local catalog and base-ref rules, endpoints
 * keep the local fallback order), a limit the minimum, a deny-list the union (licences
 * compared case-insensitively), a boolean the stricter value, a level the stricter one
 * (mandatory over advisory), metadata the lower report (minimal over standard) and
 * buckets if any side wants them. The same merge combines the documents with each
 * other, so the order of `documents` does not matter and no document can widen another
 * or the local policy.
 *
 * `narrowed` names each rule for which some document set a value that does not survive
 * because the local policy is stricter (a glob or alias beyond the catalog, a higher
 * limit, a shorter deny-list, a weaker level…). A document stricter than local, or equal
 * to it, narrows nothing.
 */
export function mergePolicy(local: EffectivePolicy, documents: ReadonlyArray<PolicyDocument>): MergeResult {
  const narrowed = new Set<RuleId>();
  let effective = local;
  for (const { rules } of documents) {
    for (const id of RULE_IDS) {
      if (rules[id] !== undefined && localIsStricter(local, id, rules)) narrowed.add(id);
    }
    effective = mergeRules(effective, rules);
  }
  return { effective, narrowed: RULE_IDS.filter((id) => narrowed.has(id)) };
}

function mergeRules(policy: EffectivePolicy, rules: PolicyRules): EffectivePolicy {
  const r = rules;
  return {
    jobKinds: r['job-kinds'] ? policy.jobKinds.filter((kind) => r['job-kinds']!.allowed.includes(kind)) : policy.jobKinds,
    repositories: r.repositories
      ? { catalog: policy.repositories.catalog, globLists: [...policy.repositories.globLists, unique(r.repositories.allowed)] }
      : policy.repositories,
    baseRefs: r['base-refs']
      ? {
          local: policy.baseRefs.local,
          constraints: [...policy.baseRefs.constraints, ...Object.entries(r['base-refs'].allowed).map(([aliasGlob, allowed]) => ({ aliasGlob, allowed: unique(allowed) }))],
        }
      : policy.baseRefs,
    protectedPaths: r['protected-paths']
      ? { paths: unique([...policy.protectedPaths.paths, ...r['protected-paths'].paths]), level: stricterLevel(policy.protectedPaths.level, r['protected-paths'].level) }
      : policy.protectedPaths,
    maxFilesChanged: r['max-files-changed'] ? minimum(policy.maxFilesChanged, r['max-files-changed']) : policy.maxFilesChanged,
    maxLinesChanged: r['max-lines-changed'] ? minimum(policy.maxLinesChanged, r['max-lines-changed']) : policy.maxLinesChanged,
    secrets: r.secrets
      ? { enabled: policy.secrets.enabled || r.secrets.enabled, level: stricterLevel(policy.secrets.level, r.secrets.level) }
      : policy.secrets,
    dependencyManifests: r['dependency-manifests']
      ? {
          allowChanges: policy.dependencyManifests.allowChanges && r['dependency-manifests'].allowChanges,
          level: stricterLevel(policy.dependencyManifests.level, r['dependency-manifests'].level),
        }
      : policy.dependencyManifests,
    deniedPackages: r['denied-packages']
      ? { packages: unique([...policy.deniedPackages.packages, ...r['denied-packages'].packages]), level: stricterLevel(policy.deniedPackages.level, r['denied-packages'].level) }
      : policy.deniedPackages,
    deniedLicenses: r['denied-licenses']
      ? { licenses: uniqueIgnoringCase([...policy.deniedLicenses.licenses, ...r['denied-licenses'].licenses]), level: stricterLevel(policy.deniedLicenses.level, r['denied-licenses'].level) }
      : policy.deniedLicenses,
    testsMustPass: r['tests-must-pass']
      ? { required: policy.testsMustPass.required || r['tests-must-pass'].required, level: stricterLevel(policy.testsMustPass.level, r['tests-must-pass'].level) }
      : policy.testsMustPass,
    minTestsRun: r['min-tests-run']
      ? { min: Math.max(policy.minTestsRun.min, r['min-tests-run'].min), level: stricterLevel(policy.minTestsRun.level, r['min-tests-run'].level) }
      : policy.minTestsRun,
    inferenceEndpoints: r['inference-endpoints'] ? policy.inferenceEndpoints.filter((name) => r['inference-endpoints']!.allowed.includes(name)) : policy.inferenceEndpoints,
    inferenceTokenBudget: r['inference-token-budget'] ? Math.min(policy.inferenceTokenBudget, r['inference-token-budget'].max) : policy.inferenceTokenBudget,
    inferenceTimeBudgetMs: r['inference-time-budget'] ? Math.min(policy.inferenceTimeBudgetMs, r['inference-time-budget'].max) : policy.inferenceTimeBudgetMs,
    metadata: r['metadata-level']
      ? {
          report: policy.metadata.report === 'minimal' || r['metadata-level'].report === 'minimal' ? 'minimal' : 'standard',
          buckets: policy.metadata.buckets || r['metadata-level'].buckets,
        }
      : policy.metadata,
  };
}

/** Whether the local policy keeps rule `id` stricter than `rules` set it (`rules[id]` is set). */
function localIsStricter(local: EffectivePolicy, id: RuleId, rules: PolicyRules): boolean {
  switch (id) {
    case 'job-kinds':
      return rules['job-kinds']!.allowed.some((kind) => !local.jobKinds.includes(kind));
    case 'repositories':
      // A glob allows aliases the catalog does not hold (the catalog is finite), a literal
      // only when the catalog lacks it.
      return rules.repositories!.allowed.some((glob) => isGlob(glob) || !local.repositories.catalog.includes(glob));
    case 'base-refs':
      return Object.entries(rules['base-refs']!.allowed).some(([aliasGlob, refs]) =>
        local.repositories.catalog.some((alias) => aliasGlobMatches(aliasGlob, alias) && refs.some((ref) => !localAllowsAll(local.baseRefs.local[alias], ref))),
      );
    case 'protected-paths':
      return levelIsStricter(local.protectedPaths.level, rules['protected-paths']!.level) || local.protectedPaths.paths.some((path) => !rules['protected-paths']!.paths.includes(path));
    case 'max-files-changed':
      return limitIsStricter(local.maxFilesChanged, rules['max-files-changed']!);
    case 'max-lines-changed':
      return limitIsStricter(local.maxLinesChanged, rules['max-lines-changed']!);
    case 'secrets':
      return levelIsStricter(local.secrets.level, rules.secrets!.level) || (local.secrets.enabled && !rules.secrets!.enabled);
    case 'dependency-manifests':
      return levelIsStricter(local.dependencyManifests.level, rules['dependency-manifests']!.level) || (!local.dependencyManifests.allowChanges && rules['dependency-manifests']!.allowChanges);
    case 'denied-packages':
      return levelIsStricter(local.deniedPackages.level, rules['denied-packages']!.level) || local.deniedPackages.packages.some((name) => !rules['denied-packages']!.packages.includes(name));
    case 'denied-licenses': {
      const central = new Set(rules['denied-licenses']!.licenses.map((id) => id.toLowerCase()));
      return levelIsStricter(local.deniedLicenses.level, rules['denied-licenses']!.level) || local.deniedLicenses.licenses.some((id) => !central.has(id.toLowerCase()));
    }
    case 'tests-must-pass':
      return levelIsStricter(local.testsMustPass.level, rules['tests-must-pass']!.level) || (local.testsMustPass.required && !rules['tests-must-pass']!.required);
    case 'min-tests-run':
      return levelIsStricter(local.minTestsRun.level, rules['min-tests-run']!.level) || local.minTestsRun.min > rules['min-tests-run']!.min;
    case 'inference-endpoints':
      return rules['inference-endpoints']!.allowed.some((name) => !local.inferenceEndpoints.includes(name));
    case 'inference-token-budget':
      return local.inferenceTokenBudget < rules['inference-token-budget']!.max;
    case 'inference-time-budget':
      return local.inferenceTimeBudgetMs < rules['inference-time-budget']!.max;
    case 'metadata-level': {
      const central = rules['metadata-level']!;
      if (central.report === 'minimal') return false; // minimal says nothing a bucket could hide
      return local.metadata.report === 'minimal' || (local.metadata.buckets && !central.buckets);
    }
  }
}

/**
 * Whether every base ref that `ref` (a name or a glob) stands for is allowed by the local
 * rule. A literal is checked as admission would; a glob only if the local rule lists the
 * same glob and no forbidden prefix can overlap what it matches.
 */
function localAllowsAll(rule: BaseRefRule | undefined, ref: string): boolean {
  if (rule === undefined) return false;
  if (!ref.includes('*')) return isBaseRefAllowed(ref, rule);
  if (!rule.allowed.includes(ref)) return false;
  const fixedStart = ref.slice(0, ref.indexOf('*')).toLowerCase();
  return rule.forbiddenPrefixes.every((prefix) => {
    const lower = prefix.toLowerCase();
    return lower.length === 0 || (!fixedStart.startsWith(lower) && !lower.startsWith(fixedStart));
  });
}

/** Whether `alias` may run under the policy: in the catalog and matching every central glob list. */
export function isRepositoryAllowed(policy: EffectivePolicy, alias: string): boolean {
  return policy.repositories.catalog.includes(alias) && policy.repositories.globLists.every((globs) => globs.some((glob) => aliasGlobMatches(glob, alias)));
}

/**
 * Whether a fix on `alias` may start from `baseRef`: the local rule must allow it (no rule:
 * nothing is allowed), and so must every central constraint whose alias glob matches.
 */
export function isBaseRefAllowedByPolicy(policy: EffectivePolicy, alias: string, baseRef: string): boolean {
  const local = Object.hasOwn(policy.baseRefs.local, alias) ? policy.baseRefs.local[alias] : undefined;
  if (local === undefined || !isBaseRefAllowed(baseRef, local)) return false;
  return policy.baseRefs.constraints.every(
    (constraint) => !aliasGlobMatches(constraint.aliasGlob, alias) || constraint.allowed.some((pattern) => baseRefGlobMatches(pattern, baseRef)),
  );
}

/** Matches a repository alias against an alias glob: `*` any run of characters, `?` exactly one. */
export function aliasGlobMatches(glob: string, alias: string): boolean {
  if (!isGlob(glob)) return glob === alias;
  const source = [...glob].map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))).join('');
  return new RegExp(`^${source}$`, 'u').test(alias);
}

function isGlob(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

function stricterLevel(a: RuleLevel, b: RuleLevel): RuleLevel {
  return a === 'mandatory' || b === 'mandatory' ? 'mandatory' : 'advisory';
}

function levelIsStricter(local: RuleLevel, central: RuleLevel): boolean {
  return local === 'mandatory' && central === 'advisory';
}

function minimum(a: Levelled & { max: number }, b: Levelled & { max: number }): Levelled & { max: number } {
  return { max: Math.min(a.max, b.max), level: stricterLevel(a.level, b.level) };
}

function limitIsStricter(local: Levelled & { max: number }, central: Levelled & { max: number }): boolean {
  return levelIsStricter(local.level, central.level) || local.max < central.max;
}

function unique<T>(values: ReadonlyArray<T>): T[] {
  return [...new Set(values)];
}

/** Keeps the first spelling of each value, compared case-insensitively. */
function uniqueIgnoringCase(values: ReadonlyArray<string>): string[] {
  const seen = new Set<string>();
  return values.filter((value) => {
    const key = value.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
