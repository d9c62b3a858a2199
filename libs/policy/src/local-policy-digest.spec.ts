import { localPolicyDigest } from './local-policy-digest';
import type { LocalPolicy } from './local-policy';

describe('localPolicyDigest', () => {
  const policy: LocalPolicy = {
    allowedTaskKinds: ['fix', 'noop'],
    repoAliases: ['payments-api', 'billing', 'web'],
    inferenceHosts: ['llm.corp.internal', 'gpu-01'],
  };

  it('is 32 bytes of SHA-256', () => {
    expect(localPolicyDigest(policy)).toHaveLength(32);
  });

  it('does not change when keys or array entries are reordered or repeated', () => {
    const reordered: LocalPolicy = {
      inferenceHosts: ['gpu-01', 'llm.corp.internal'],
      repoAliases: ['web', 'payments-api', 'billing', 'web'],
      allowedTaskKinds: ['noop', 'fix'],
    };
    expect(localPolicyDigest(reordered)).toEqual(localPolicyDigest(policy));
  });

  it('changes when anything the policy allows changes', () => {
    const digest = localPolicyDigest(policy);
    expect(localPolicyDigest({ ...policy, allowedTaskKinds: ['fix'] })).not.toEqual(digest);
    expect(localPolicyDigest({ ...policy, repoAliases: ['payments-api', 'billing'] })).not.toEqual(digest);
    expect(localPolicyDigest({ ...policy, inferenceHosts: ['llm.corp.internal'] })).not.toEqual(digest);
  });

  it('does not confuse values moved between fields', () => {
    const a: LocalPolicy = { allowedTaskKinds: [], repoAliases: ['x'], inferenceHosts: [] };
    const b: LocalPolicy = { allowedTaskKinds: [], repoAliases: [], inferenceHosts: ['x'] };
    expect(localPolicyDigest(a)).not.toEqual(localPolicyDigest(b));
  });
});
