import { localEffectivePolicy, type EffectivePolicy, type LocalPolicyInput } from './effective-policy';
import { localEffectivePolicyDigest } from './effective-policy-digest';
import { parsePolicyDocument } from './policy-document';

const config: LocalPolicyInput = {
  allowedTaskKinds: ['fix', 'noop'],
  repoAliases: ['payments-api', 'billing', '10', '9'],
  baseRefRules: new Map([
    ['payments-api', { allowed: ['main', 'release/*'], forbiddenPrefixes: ['airlock/'] }],
    ['billing', { allowed: ['master'], forbiddenPrefixes: ['bot/'] }],
  ]),
  endpointNames: ['gpu-a', 'gpu-b'],
  maxChangedFiles: 25,
  maxChangedLines: 2_000,
  maxJobTokens: 200_000,
  agentTimeoutMs: 1_200_000,
};
const hosts = ['llm.corp.internal', 'gpu-01'];
const policy = localEffectivePolicy(config);
const digest = localEffectivePolicyDigest(policy, hosts);

describe('localEffectivePolicyDigest', () => {
  it('is 32 bytes of SHA-256', () => {
    expect(digest).toHaveLength(32);
  });

  it('does not change when lists where order means nothing are reordered or repeat an entry', () => {
    const reordered = localEffectivePolicy({
      ...config,
      allowedTaskKinds: ['noop', 'fix', 'fix'],
      repoAliases: ['9', 'billing', '10', 'payments-api', 'billing'],
      baseRefRules: new Map([
        ['billing', { allowed: ['master', 'master'], forbiddenPrefixes: ['bot/'] }],
        ['payments-api', { allowed: ['release/*', 'main'], forbiddenPrefixes: ['airlock/'] }],
      ]),
    });
    expect(localEffectivePolicyDigest(reordered, ['gpu-01', 'llm.corp.internal', 'gpu-01'])).toEqual(digest);
  });

  it('changes when the endpoints change order, which is the fallback order', () => {
    expect(localEffectivePolicyDigest(localEffectivePolicy({ ...config, endpointNames: ['gpu-b', 'gpu-a'] }), hosts)).not.toEqual(digest);
  });

  const changed: Array<[string, EffectivePolicy]> = [
    ['job kinds', { ...policy, jobKinds: ['fix'] }],
    ['catalog', { ...policy, repositories: { ...policy.repositories, catalog: ['billing'] } }],
    ['repository globs', { ...policy, repositories: { ...policy.repositories, globLists: [['pay*']] } }],
    ['a base-ref rule', { ...policy, baseRefs: { ...policy.baseRefs, local: { ...policy.baseRefs.local, billing: { allowed: ['master'], forbiddenPrefixes: [] } } } }],
    ['base-ref constraints', { ...policy, baseRefs: { ...policy.baseRefs, constraints: [{ aliasGlob: '*', allowed: ['main'] }] } }],
    ['protected paths', { ...policy, protectedPaths: { ...policy.protectedPaths, paths: ['x/**'] } }],
    ['a level', { ...policy, protectedPaths: { ...policy.protectedPaths, level: 'advisory' } }],
    ['max files', { ...policy, maxFilesChanged: { ...policy.maxFilesChanged, max: 24 } }],
    ['max lines', { ...policy, maxLinesChanged: { ...policy.maxLinesChanged, max: 1_999 } }],
    ['secrets', { ...policy, secrets: { ...policy.secrets, enabled: false } }],
    ['dependency manifests', { ...policy, dependencyManifests: { ...policy.dependencyManifests, allowChanges: true } }],
    ['denied packages', { ...policy, deniedPackages: { ...policy.deniedPackages, packages: ['left-pad'] } }],
    ['denied licences', { ...policy, deniedLicenses: { ...policy.deniedLicenses, licenses: ['AGPL-3.0-only'] } }],
    ['tests must pass', { ...policy, testsMustPass: { ...policy.testsMustPass, required: false } }],
    ['min tests', { ...policy, minTestsRun: { ...policy.minTestsRun, min: 1 } }],
    ['endpoints', { ...policy, inferenceEndpoints: ['gpu-a'] }],
    ['token budget', { ...policy, inferenceTokenBudget: 199_999 }],
    ['time budget', { ...policy, inferenceTimeBudgetMs: 1_199_999 }],
    ['metadata report', { ...policy, metadata: { report: 'minimal', buckets: false } }],
    ['metadata buckets', { ...policy, metadata: { report: 'standard', buckets: true } }],
  ];

  it.each(changed)('changes when the %s change', (_what, other) => {
    expect(localEffectivePolicyDigest(other, hosts)).not.toEqual(digest);
  });

  it('changes when the inference hosts change', () => {
    expect(localEffectivePolicyDigest(policy, ['llm.corp.internal'])).not.toEqual(digest);
  });

  it('changes when policy.rules in the config changes', () => {
    const parsed = parsePolicyDocument({ schemaVersion: 1, rules: { 'denied-packages': { packages: ['left-pad'] } } });
    if (!parsed.ok) throw new Error('test document refused');
    expect(localEffectivePolicyDigest(localEffectivePolicy({ ...config, rules: parsed.value.rules }), hosts)).not.toEqual(digest);
  });

  it('does not confuse values moved between fields', () => {
    const a = { ...policy, deniedPackages: { ...policy.deniedPackages, packages: ['x'] } };
    const b = { ...policy, protectedPaths: { ...policy.protectedPaths, paths: [...policy.protectedPaths.paths, 'x'] } };
    expect(localEffectivePolicyDigest(a, hosts)).not.toEqual(localEffectivePolicyDigest(b, hosts));
  });

  it("does not confuse base refs moved between a rule's lists or between aliases", () => {
    const rules = (a: { allowed: string[]; forbiddenPrefixes: string[] }, b: { allowed: string[]; forbiddenPrefixes: string[] }) =>
      localEffectivePolicyDigest(localEffectivePolicy({ ...config, repoAliases: ['a', 'b'], baseRefRules: new Map([['a', a], ['b', b]]) }), hosts);
    const moved = rules({ allowed: ['x'], forbiddenPrefixes: [] }, { allowed: [], forbiddenPrefixes: [] });
    expect(rules({ allowed: [], forbiddenPrefixes: ['x'] }, { allowed: [], forbiddenPrefixes: [] })).not.toEqual(moved);
    expect(rules({ allowed: [], forbiddenPrefixes: [] }, { allowed: ['x'], forbiddenPrefixes: [] })).not.toEqual(moved);
  });

  it('does not depend on the insertion order of integer-like aliases', () => {
    const rule = { allowed: ['main'], forbiddenPrefixes: ['airlock/'] };
    const ordered = (entries: Array<[string, typeof rule]>) => localEffectivePolicyDigest(localEffectivePolicy({ ...config, baseRefRules: new Map(entries) }), hosts);
    expect(ordered([['10', rule], ['9', rule], ['billing', rule]])).toEqual(ordered([['billing', rule], ['9', rule], ['10', rule]]));
  });
});
