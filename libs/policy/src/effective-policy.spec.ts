import { isBaseRefAllowedByPolicy, isRepositoryAllowed, localEffectivePolicy, mergePolicy, type EffectivePolicy, type LocalPolicyInput } from './effective-policy';
import { DEFAULT_PROTECTED_PATHS, parsePolicyDocument, RULE_IDS, type PolicyDocument, type PolicyDocumentInput, type RuleId } from './policy-document';

type RulesInput = PolicyDocumentInput['rules'];

/** A document as the bundle would carry it: validated, defaults applied, durations in ms. */
function doc(rules: RulesInput): PolicyDocument {
  const parsed = parsePolicyDocument({ schemaVersion: 1, rules });
  if (!parsed.ok) throw new Error(`test document refused: ${JSON.stringify(parsed.errors)}`);
  return parsed.value;
}

const config: LocalPolicyInput = {
  allowedTaskKinds: ['fix'],
  repoAliases: ['payments-api', 'billing'],
  baseRefRules: new Map([
    ['payments-api', { allowed: ['main', 'release/*'], forbiddenPrefixes: ['airlock/'] }],
    ['billing', { allowed: ['main'], forbiddenPrefixes: ['airlock/'] }],
  ]),
  endpointNames: ['gpu-a', 'gpu-b'],
  maxChangedFiles: 25,
  maxChangedLines: 2_000,
  maxJobTokens: 200_000,
  agentTimeoutMs: 1_200_000,
};

/** The local policy with `rules` as the config's policy.rules section. */
function local(rules: RulesInput = {}): EffectivePolicy {
  return localEffectivePolicy({ ...config, rules: doc(rules).rules });
}

const allowedAliases = (policy: EffectivePolicy) => ['payments-api', 'billing', 'web'].filter((alias) => isRepositoryAllowed(policy, alias));
const allowedBaseRefs = (policy: EffectivePolicy) =>
  ['payments-api', 'billing'].flatMap((alias) => ['main', 'develop', 'release/1', 'airlock/x'].filter((ref) => isBaseRefAllowedByPolicy(policy, alias, ref)).map((ref) => `${alias}@${ref}`));

interface Row {
  readonly rule: RuleId;
  readonly localRules?: RulesInput;
  readonly central: RulesInput;
  readonly value: (policy: EffectivePolicy) => unknown;
  readonly expected: unknown;
  readonly narrowed: boolean;
}

// Every rule × {local stricter, central stricter, equal}: the value that survives, and
// whether the rule is reported as narrowed (only when local is the stricter one).
const table: Record<RuleId, { localStricter: Omit<Row, 'rule' | 'narrowed'>; centralStricter: Omit<Row, 'rule' | 'narrowed'>; equal: Omit<Row, 'rule' | 'narrowed'> }> = {
  'job-kinds': {
    localStricter: { central: { 'job-kinds': { allowed: ['fix', 'noop'] } }, value: (p) => p.jobKinds, expected: ['fix'] },
    centralStricter: { central: { 'job-kinds': { allowed: [] } }, value: (p) => p.jobKinds, expected: [] },
    equal: { central: { 'job-kinds': { allowed: ['fix'] } }, value: (p) => p.jobKinds, expected: ['fix'] },
  },
  repositories: {
    localStricter: { central: { repositories: { allowed: ['*'] } }, value: allowedAliases, expected: ['payments-api', 'billing'] },
    centralStricter: { central: { repositories: { allowed: ['payments-api'] } }, value: allowedAliases, expected: ['payments-api'] },
    equal: { central: { repositories: { allowed: ['billing', 'payments-api'] } }, value: allowedAliases, expected: ['payments-api', 'billing'] },
  },
  'base-refs': {
    localStricter: {
      central: { 'base-refs': { allowed: { '*': ['main', 'develop'] } } },
      value: allowedBaseRefs,
      expected: ['payments-api@main', 'billing@main'],
    },
    centralStricter: {
      central: { 'base-refs': { allowed: { 'payments-api': ['main'] } } },
      value: allowedBaseRefs,
      expected: ['payments-api@main', 'billing@main'],
    },
    equal: {
      central: { 'base-refs': { allowed: { 'payments-api': ['main', 'release/*'], billing: ['main'] } } },
      value: allowedBaseRefs,
      expected: ['payments-api@main', 'payments-api@release/1', 'billing@main'],
    },
  },
  'protected-paths': {
    localStricter: { central: { 'protected-paths': { paths: ['.github/workflows/**'] } }, value: (p) => p.protectedPaths, expected: { paths: DEFAULT_PROTECTED_PATHS, level: 'mandatory' } },
    centralStricter: {
      central: { 'protected-paths': { paths: [...DEFAULT_PROTECTED_PATHS, 'deploy/**'] } },
      value: (p) => p.protectedPaths,
      expected: { paths: [...DEFAULT_PROTECTED_PATHS, 'deploy/**'], level: 'mandatory' },
    },
    equal: { central: { 'protected-paths': { paths: [...DEFAULT_PROTECTED_PATHS] } }, value: (p) => p.protectedPaths, expected: { paths: DEFAULT_PROTECTED_PATHS, level: 'mandatory' } },
  },
  'max-files-changed': {
    localStricter: { central: { 'max-files-changed': { max: 50 } }, value: (p) => p.maxFilesChanged, expected: { max: 25, level: 'mandatory' } },
    centralStricter: { central: { 'max-files-changed': { max: 10 } }, value: (p) => p.maxFilesChanged, expected: { max: 10, level: 'mandatory' } },
    equal: { central: { 'max-files-changed': { max: 25 } }, value: (p) => p.maxFilesChanged, expected: { max: 25, level: 'mandatory' } },
  },
  'max-lines-changed': {
    localStricter: { central: { 'max-lines-changed': { max: 5_000 } }, value: (p) => p.maxLinesChanged, expected: { max: 2_000, level: 'mandatory' } },
    centralStricter: { central: { 'max-lines-changed': { max: 300 } }, value: (p) => p.maxLinesChanged, expected: { max: 300, level: 'mandatory' } },
    equal: { central: { 'max-lines-changed': { max: 2_000 } }, value: (p) => p.maxLinesChanged, expected: { max: 2_000, level: 'mandatory' } },
  },
  secrets: {
    localStricter: { central: { secrets: { enabled: false, level: 'advisory' } }, value: (p) => p.secrets, expected: { enabled: true, level: 'mandatory' } },
    centralStricter: {
      localRules: { secrets: { enabled: true, level: 'advisory' } },
      central: { secrets: { enabled: true, level: 'mandatory' } },
      value: (p) => p.secrets,
      expected: { enabled: true, level: 'mandatory' },
    },
    equal: { central: { secrets: { enabled: true } }, value: (p) => p.secrets, expected: { enabled: true, level: 'mandatory' } },
  },
  'dependency-manifests': {
    localStricter: { central: { 'dependency-manifests': { allowChanges: true } }, value: (p) => p.dependencyManifests, expected: { allowChanges: false, level: 'mandatory' } },
    centralStricter: {
      localRules: { 'dependency-manifests': { allowChanges: true, level: 'advisory' } },
      central: { 'dependency-manifests': { allowChanges: false, level: 'advisory' } },
      value: (p) => p.dependencyManifests,
      expected: { allowChanges: false, level: 'advisory' },
    },
    equal: { central: { 'dependency-manifests': { allowChanges: false } }, value: (p) => p.dependencyManifests, expected: { allowChanges: false, level: 'mandatory' } },
  },
  'denied-packages': {
    localStricter: {
      localRules: { 'denied-packages': { packages: ['left-pad'] } },
      central: { 'denied-packages': { packages: [] } },
      value: (p) => p.deniedPackages,
      expected: { packages: ['left-pad'], level: 'mandatory' },
    },
    centralStricter: {
      localRules: { 'denied-packages': { packages: ['left-pad'] } },
      central: { 'denied-packages': { packages: ['left-pad', 'event-stream'] } },
      value: (p) => p.deniedPackages,
      expected: { packages: ['left-pad', 'event-stream'], level: 'mandatory' },
    },
    equal: {
      localRules: { 'denied-packages': { packages: ['left-pad'] } },
      central: { 'denied-packages': { packages: ['left-pad'] } },
      value: (p) => p.deniedPackages,
      expected: { packages: ['left-pad'], level: 'mandatory' },
    },
  },
  'denied-licenses': {
    localStricter: {
      localRules: { 'denied-licenses': { licenses: ['AGPL-3.0-only'] } },
      central: { 'denied-licenses': { licenses: [] } },
      value: (p) => p.deniedLicenses,
      expected: { licenses: ['AGPL-3.0-only'], level: 'mandatory' },
    },
    centralStricter: {
      localRules: { 'denied-licenses': { licenses: ['AGPL-3.0-only'] } },
      central: { 'denied-licenses': { licenses: ['agpl-3.0-only', 'SSPL-1.0'] } },
      value: (p) => p.deniedLicenses,
      expected: { licenses: ['AGPL-3.0-only', 'SSPL-1.0'], level: 'mandatory' },
    },
    equal: {
      localRules: { 'denied-licenses': { licenses: ['AGPL-3.0-only'] } },
      central: { 'denied-licenses': { licenses: ['agpl-3.0-ONLY'] } },
      value: (p) => p.deniedLicenses,
      expected: { licenses: ['AGPL-3.0-only'], level: 'mandatory' },
    },
  },
  'tests-must-pass': {
    localStricter: { central: { 'tests-must-pass': { required: false } }, value: (p) => p.testsMustPass, expected: { required: true, level: 'mandatory' } },
    centralStricter: {
      localRules: { 'tests-must-pass': { required: false, level: 'advisory' } },
      central: { 'tests-must-pass': { required: true, level: 'advisory' } },
      value: (p) => p.testsMustPass,
      expected: { required: true, level: 'advisory' },
    },
    equal: { central: { 'tests-must-pass': { required: true } }, value: (p) => p.testsMustPass, expected: { required: true, level: 'mandatory' } },
  },
  'min-tests-run': {
    localStricter: { localRules: { 'min-tests-run': { min: 5 } }, central: { 'min-tests-run': { min: 1 } }, value: (p) => p.minTestsRun, expected: { min: 5, level: 'mandatory' } },
    centralStricter: { localRules: { 'min-tests-run': { min: 5 } }, central: { 'min-tests-run': { min: 10 } }, value: (p) => p.minTestsRun, expected: { min: 10, level: 'mandatory' } },
    equal: { localRules: { 'min-tests-run': { min: 5 } }, central: { 'min-tests-run': { min: 5 } }, value: (p) => p.minTestsRun, expected: { min: 5, level: 'mandatory' } },
  },
  'inference-endpoints': {
    localStricter: { central: { 'inference-endpoints': { allowed: ['gpu-a', 'cloud-x'] } }, value: (p) => p.inferenceEndpoints, expected: ['gpu-a'] },
    centralStricter: { central: { 'inference-endpoints': { allowed: ['gpu-b'] } }, value: (p) => p.inferenceEndpoints, expected: ['gpu-b'] },
    // The local order is the worker's fallback order; the document's order means nothing.
    equal: { central: { 'inference-endpoints': { allowed: ['gpu-b', 'gpu-a'] } }, value: (p) => p.inferenceEndpoints, expected: ['gpu-a', 'gpu-b'] },
  },
  'inference-token-budget': {
    localStricter: { central: { 'inference-token-budget': { max: 500_000 } }, value: (p) => p.inferenceTokenBudget, expected: 200_000 },
    centralStricter: { central: { 'inference-token-budget': { max: 100_000 } }, value: (p) => p.inferenceTokenBudget, expected: 100_000 },
    equal: { central: { 'inference-token-budget': { max: 200_000 } }, value: (p) => p.inferenceTokenBudget, expected: 200_000 },
  },
  'inference-time-budget': {
    localStricter: { central: { 'inference-time-budget': { max: '1h' } }, value: (p) => p.inferenceTimeBudgetMs, expected: 1_200_000 },
    centralStricter: { central: { 'inference-time-budget': { max: '10m' } }, value: (p) => p.inferenceTimeBudgetMs, expected: 600_000 },
    equal: { central: { 'inference-time-budget': { max: '20m' } }, value: (p) => p.inferenceTimeBudgetMs, expected: 1_200_000 },
  },
  'metadata-level': {
    localStricter: { localRules: { 'metadata-level': { report: 'minimal' } }, central: { 'metadata-level': { report: 'standard' } }, value: (p) => p.metadata, expected: { report: 'minimal', buckets: false } },
    centralStricter: { central: { 'metadata-level': { report: 'standard', buckets: true } }, value: (p) => p.metadata, expected: { report: 'standard', buckets: true } },
    equal: { central: { 'metadata-level': { report: 'standard' } }, value: (p) => p.metadata, expected: { report: 'standard', buckets: false } },
  },
};

const rows: Array<[string, Row]> = RULE_IDS.flatMap((rule) => [
  [`${rule}: local stricter`, { rule, ...table[rule].localStricter, narrowed: true }] as [string, Row],
  [`${rule}: central stricter`, { rule, ...table[rule].centralStricter, narrowed: false }] as [string, Row],
  [`${rule}: equal`, { rule, ...table[rule].equal, narrowed: false }] as [string, Row],
]);

describe('mergePolicy', () => {
  it.each(rows)('%s', (_name, row) => {
    const { effective, narrowed } = mergePolicy(local(row.localRules), [doc(row.central)]);
    expect(row.value(effective)).toEqual(row.expected);
    expect(narrowed).toEqual(row.narrowed ? [row.rule] : []);
  });

  it('leaves every rule a document does not set as local says', () => {
    const before = local({ 'min-tests-run': { min: 3 } });
    expect(mergePolicy(before, [doc({})])).toEqual({ effective: before, narrowed: [] });
    expect(mergePolicy(before, [])).toEqual({ effective: before, narrowed: [] });
  });

  describe('central cannot widen local', () => {
    it('an alias outside the catalog stays out, whatever the globs', () => {
      const { effective, narrowed } = mergePolicy(local(), [doc({ repositories: { allowed: ['web', 'payments-api'] } })]);
      expect(isRepositoryAllowed(effective, 'web')).toBe(false);
      expect(allowedAliases(effective)).toEqual(['payments-api']);
      expect(narrowed).toEqual(['repositories']);
    });

    it('a job kind local does not allow stays forbidden', () => {
      expect(mergePolicy(local(), [doc({ 'job-kinds': { allowed: ['noop'] } })]).effective.jobKinds).toEqual([]);
    });

    it("a base ref the local rule refuses stays refused, and so does the worker's own prefix", () => {
      const { effective } = mergePolicy(local(), [doc({ 'base-refs': { allowed: { '*': ['*', 'airlock/*'] } } })]);
      expect(isBaseRefAllowedByPolicy(effective, 'billing', 'develop')).toBe(false);
      expect(isBaseRefAllowedByPolicy(effective, 'payments-api', 'airlock/x')).toBe(false);
      expect(isBaseRefAllowedByPolicy(effective, 'payments-api', 'main')).toBe(true);
    });

    it("an endpoint not in the worker's list is not added", () => {
      const { effective, narrowed } = mergePolicy(local(), [doc({ 'inference-endpoints': { allowed: ['cloud-x'] } })]);
      expect(effective.inferenceEndpoints).toEqual([]);
      expect(narrowed).toEqual(['inference-endpoints']);
    });

    it('a bigger budget or limit does not raise the local one', () => {
      const { effective, narrowed } = mergePolicy(local(), [
        doc({ 'inference-token-budget': { max: 9_000_000 }, 'inference-time-budget': { max: '24h' }, 'max-files-changed': { max: 10_000 }, 'max-lines-changed': { max: 1_000_000 } }),
      ]);
      expect([effective.inferenceTokenBudget, effective.inferenceTimeBudgetMs, effective.maxFilesChanged.max, effective.maxLinesChanged.max]).toEqual([200_000, 1_200_000, 25, 2_000]);
      expect(narrowed).toEqual(['max-files-changed', 'max-lines-changed', 'inference-token-budget', 'inference-time-budget']);
    });

    it('a shorter protected list does not unprotect a path', () => {
      const { effective } = mergePolicy(local(), [doc({ 'protected-paths': { paths: [] } })]);
      expect(effective.protectedPaths.paths).toEqual(DEFAULT_PROTECTED_PATHS);
    });

    it('allowChanges true does not lift a local false, nor secrets off a local on, nor tests optional a local required', () => {
      const { effective } = mergePolicy(local(), [doc({ 'dependency-manifests': { allowChanges: true }, secrets: { enabled: false }, 'tests-must-pass': { required: false }, 'min-tests-run': { min: 0 } })]);
      expect(effective.dependencyManifests.allowChanges).toBe(false);
      expect(effective.secrets.enabled).toBe(true);
      expect(effective.testsMustPass.required).toBe(true);
    });

    it('metadata standard does not raise a local minimal, nor drop local buckets', () => {
      expect(mergePolicy(local({ 'metadata-level': { report: 'minimal' } }), [doc({ 'metadata-level': { report: 'standard' } })]).effective.metadata.report).toBe('minimal');
      const bucketed = mergePolicy(local({ 'metadata-level': { report: 'standard', buckets: true } }), [doc({ 'metadata-level': { report: 'standard', buckets: false } })]);
      expect(bucketed).toMatchObject({ effective: { metadata: { report: 'standard', buckets: true } }, narrowed: ['metadata-level'] });
    });

    it('advisory does not weaken a local mandatory level, and says so', () => {
      const { effective, narrowed } = mergePolicy(local(), [doc({ 'max-files-changed': { max: 5, level: 'advisory' }, 'protected-paths': { paths: [...DEFAULT_PROTECTED_PATHS, 'x/**'], level: 'advisory' } })]);
      expect(effective.maxFilesChanged).toEqual({ max: 5, level: 'mandatory' });
      expect(effective.protectedPaths.level).toBe('mandatory');
      expect(narrowed).toEqual(['protected-paths', 'max-files-changed']);
    });
  });

  it('combines documents with each other by the same rule, whatever their order', () => {
    const tenant = doc({ 'max-files-changed': { max: 20 }, 'denied-packages': { packages: ['left-pad'] }, repositories: { allowed: ['*'] } });
    const pool = doc({ 'max-files-changed': { max: 15 }, 'denied-packages': { packages: ['event-stream'] }, repositories: { allowed: ['billing', 'web'] } });
    const forward = mergePolicy(local(), [tenant, pool]);
    const backward = mergePolicy(local(), [pool, tenant]);
    expect(forward.effective.maxFilesChanged.max).toBe(15);
    expect([...forward.effective.deniedPackages.packages].sort()).toEqual(['event-stream', 'left-pad']);
    expect(allowedAliases(forward.effective)).toEqual(['billing']);
    expect(allowedAliases(backward.effective)).toEqual(['billing']);
    expect(backward.effective.maxFilesChanged.max).toBe(15);
    // Both documents name aliases beyond the catalog; neither limit is above local's 25.
    expect(forward.narrowed).toEqual(['repositories']);
  });

  it('reports each narrowed rule once, in RULE_IDS order, even when several documents set it', () => {
    const { narrowed } = mergePolicy(local(), [doc({ 'metadata-level': { report: 'standard' }, 'max-files-changed': { max: 99 } }), doc({ 'max-files-changed': { max: 30 }, 'job-kinds': { allowed: ['noop'] } })]);
    expect(narrowed).toEqual(['job-kinds', 'max-files-changed']);
  });

  it('does not change the local policy it is given', () => {
    const before = local();
    const copy = JSON.parse(JSON.stringify(before));
    mergePolicy(before, [doc({ repositories: { allowed: ['billing'] }, 'protected-paths': { paths: ['x/**'] }, 'base-refs': { allowed: { '*': ['main'] } } })]);
    expect(before).toEqual(copy);
  });

  it('keeps the effective policy plain JSON', () => {
    const { effective } = mergePolicy(local(), [doc({ 'base-refs': { allowed: { billing: ['main'] } }, repositories: { allowed: ['b*'] } })]);
    expect(JSON.parse(JSON.stringify(effective))).toEqual(effective);
  });

  it('lets a base-ref document without an entry for an alias leave that alias to the others', () => {
    const { effective } = mergePolicy(local(), [doc({ 'base-refs': { allowed: { billing: ['main'] } } })]);
    expect(isBaseRefAllowedByPolicy(effective, 'payments-api', 'release/1')).toBe(true);
    const both = mergePolicy(local(), [doc({ 'base-refs': { allowed: { 'pay*': ['main', 'release/*'] } } }), doc({ 'base-refs': { allowed: { 'payments-?pi': ['main'] } } })]);
    expect(isBaseRefAllowedByPolicy(both.effective, 'payments-api', 'release/1')).toBe(false);
    expect(isBaseRefAllowedByPolicy(both.effective, 'payments-api', 'main')).toBe(true);
  });
});

describe('localEffectivePolicy', () => {
  it('fills what policy.rules leaves out with the mandatory defaults', () => {
    expect(localEffectivePolicy(config)).toEqual({
      jobKinds: ['fix'],
      repositories: { catalog: ['payments-api', 'billing'], globLists: [] },
      baseRefs: {
        local: { 'payments-api': { allowed: ['main', 'release/*'], forbiddenPrefixes: ['airlock/'] }, billing: { allowed: ['main'], forbiddenPrefixes: ['airlock/'] } },
        constraints: [],
      },
      protectedPaths: { paths: DEFAULT_PROTECTED_PATHS, level: 'mandatory' },
      maxFilesChanged: { max: 25, level: 'mandatory' },
      maxLinesChanged: { max: 2_000, level: 'mandatory' },
      secrets: { enabled: true, level: 'mandatory' },
      dependencyManifests: { allowChanges: false, level: 'mandatory' },
      deniedPackages: { packages: [], level: 'mandatory' },
      deniedLicenses: { licenses: [], level: 'mandatory' },
      testsMustPass: { required: true, level: 'mandatory' },
      minTestsRun: { min: 0, level: 'mandatory' },
      inferenceEndpoints: ['gpu-a', 'gpu-b'],
      inferenceTokenBudget: 200_000,
      inferenceTimeBudgetMs: 1_200_000,
      metadata: { report: 'standard', buckets: false },
    });
  });

  it('takes the rules only policy.rules states as written, even looser than the defaults', () => {
    const policy = local({ 'protected-paths': { paths: ['deploy/**'], level: 'advisory' }, 'dependency-manifests': { allowChanges: true }, secrets: { enabled: false } });
    expect(policy.protectedPaths).toEqual({ paths: ['deploy/**'], level: 'advisory' });
    expect(policy.dependencyManifests.allowChanges).toBe(true);
    expect(policy.secrets.enabled).toBe(false);
  });

  it('lets policy.rules narrow what the rest of the config says, never widen it', () => {
    const narrower = local({
      'max-files-changed': { max: 10 },
      'max-lines-changed': { max: 9_000 },
      'inference-token-budget': { max: 50_000 },
      'inference-time-budget': { max: '1h' },
      'inference-endpoints': { allowed: ['gpu-b', 'cloud-x'] },
      'job-kinds': { allowed: ['fix', 'noop'] },
      repositories: { allowed: ['pay*'] },
    });
    expect(narrower.maxFilesChanged.max).toBe(10);
    expect(narrower.maxLinesChanged.max).toBe(2_000);
    expect(narrower.inferenceTokenBudget).toBe(50_000);
    expect(narrower.inferenceTimeBudgetMs).toBe(1_200_000);
    expect(narrower.inferenceEndpoints).toEqual(['gpu-b']);
    expect(narrower.jobKinds).toEqual(['fix']);
    expect(allowedAliases(narrower)).toEqual(['payments-api']);
  });
});
