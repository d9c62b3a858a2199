import { localPolicyDigest } from './local-policy-digest';
import type { LocalPolicy } from './local-policy';

describe('localPolicyDigest', () => {
  const policy: LocalPolicy = {
    allowedTaskKinds: ['fix', 'noop'],
    repoAliases: ['payments-api', 'billing', 'web'],
    inferenceHosts: ['llm.corp.internal', 'gpu-01'],
    baseRefRules: new Map([
      ['payments-api', { allowed: ['main', 'release/*'], forbiddenPrefixes: ['airlock/'] }],
      ['billing', { allowed: ['master'], forbiddenPrefixes: ['bot/'] }],
    ]),
  };

  it('is 32 bytes of SHA-256', () => {
    expect(localPolicyDigest(policy)).toHaveLength(32);
  });

  it('does not change when keys or array entries are reordered or repeated', () => {
    const reordered: LocalPolicy = {
      inferenceHosts: ['gpu-01', 'llm.corp.internal'],
      repoAliases: ['web', 'payments-api', 'billing', 'web'],
      allowedTaskKinds: ['noop', 'fix'],
      baseRefRules: new Map([
        ['billing', { forbiddenPrefixes: ['bot/', 'bot/'], allowed: ['master'] }],
        ['payments-api', { allowed: ['release/*', 'main', 'main'], forbiddenPrefixes: ['airlock/'] }],
      ]),
    };
    expect(localPolicyDigest(reordered)).toEqual(localPolicyDigest(policy));
  });

  it('changes when anything the policy allows changes', () => {
    const digest = localPolicyDigest(policy);
    expect(localPolicyDigest({ ...policy, allowedTaskKinds: ['fix'] })).not.toEqual(digest);
    expect(localPolicyDigest({ ...policy, repoAliases: ['payments-api', 'billing'] })).not.toEqual(digest);
    expect(localPolicyDigest({ ...policy, inferenceHosts: ['llm.corp.internal'] })).not.toEqual(digest);
  });

  it('changes when a base-ref rule changes', () => {
    const digest = localPolicyDigest(policy);
    const withRule = (alias: string, rule: { allowed: string[]; forbiddenPrefixes: string[] }) => ({ ...policy, baseRefRules: new Map([...policy.baseRefRules, [alias, rule]]) });
    expect(localPolicyDigest(withRule('payments-api', { allowed: ['main'], forbiddenPrefixes: ['airlock/'] }))).not.toEqual(digest);
    expect(localPolicyDigest(withRule('payments-api', { allowed: ['main', 'release/*', 'dev'], forbiddenPrefixes: ['airlock/'] }))).not.toEqual(digest);
    expect(localPolicyDigest(withRule('payments-api', { allowed: ['main', 'release/*'], forbiddenPrefixes: ['bot/'] }))).not.toEqual(digest);
    expect(localPolicyDigest(withRule('web', { allowed: ['main'], forbiddenPrefixes: ['airlock/'] }))).not.toEqual(digest);
    expect(localPolicyDigest({ ...policy, baseRefRules: new Map() })).not.toEqual(digest);
  });

  it('does not confuse base refs moved between a rule\'s lists or between aliases', () => {
    const rules = (a: { allowed: string[]; forbiddenPrefixes: string[] }, b: { allowed: string[]; forbiddenPrefixes: string[] }): LocalPolicy => ({
      allowedTaskKinds: [],
      repoAliases: ['a', 'b'],
      inferenceHosts: [],
      baseRefRules: new Map([
        ['a', a],
        ['b', b],
      ]),
    });
    const digest = localPolicyDigest(rules({ allowed: ['x'], forbiddenPrefixes: [] }, { allowed: [], forbiddenPrefixes: [] }));
    expect(localPolicyDigest(rules({ allowed: [], forbiddenPrefixes: ['x'] }, { allowed: [], forbiddenPrefixes: [] }))).not.toEqual(digest);
    expect(localPolicyDigest(rules({ allowed: [], forbiddenPrefixes: [] }, { allowed: ['x'], forbiddenPrefixes: [] }))).not.toEqual(digest);
  });

  it('does not depend on the insertion order of integer-like aliases', () => {
    const rule = { allowed: ['main'], forbiddenPrefixes: ['airlock/'] };
    const a: LocalPolicy = { allowedTaskKinds: [], repoAliases: [], inferenceHosts: [], baseRefRules: new Map([['10', rule], ['9', rule], ['x', rule]]) };
    const b: LocalPolicy = { allowedTaskKinds: [], repoAliases: [], inferenceHosts: [], baseRefRules: new Map([['x', rule], ['9', rule], ['10', rule]]) };
    expect(localPolicyDigest(a)).toEqual(localPolicyDigest(b));
  });

  it('does not confuse values moved between fields', () => {
    const a: LocalPolicy = { allowedTaskKinds: [], repoAliases: ['x'], inferenceHosts: [], baseRefRules: new Map() };
    const b: LocalPolicy = { allowedTaskKinds: [], repoAliases: [], inferenceHosts: ['x'], baseRefRules: new Map() };
    expect(localPolicyDigest(a)).not.toEqual(localPolicyDigest(b));
  });
});
