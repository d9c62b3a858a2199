import { randomBytes, randomUUID } from 'node:crypto';
import { InstructionVerifier, MemoryNonceStore, generateSigningKeyPair, signInstruction } from '@airlock/envelope';
import { localEffectivePolicy, parseBundleLayers } from '@airlock/policy';
import type { InstructionPayload } from '@airlock/protocol';
import type { AppliedPolicyBundle } from '../policy/central-policy.store';
import { WorkerPolicy } from '../policy/worker-policy';
import { InstructionGatekeeper } from './instruction.gatekeeper';

const NOW_MS = 1_700_000_000_000;

/** A bundle in force at `revision` with these layers, parsed as the worker parses them. */
function inForce(revision: number, layers: unknown[]): AppliedPolicyBundle {
  const parsed = parseBundleLayers({ layers });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return { revision, issuedAtMs: NOW_MS, expiresAtMs: NOW_MS + 60_000, keyId: 'sk_0123456789abcdef', layers: parsed.value };
}

describe('InstructionGatekeeper', () => {
  const signer = generateSigningKeyPair();
  const workerId = randomUUID();
  const tenantId = randomUUID();
  const local = localEffectivePolicy({
    allowedTaskKinds: ['fix', 'noop', 'review', 'index'],
    repoAliases: ['payments', 'web'],
    baseRefRules: new Map([
      ['payments', { allowed: ['main', 'release/*'], forbiddenPrefixes: ['airlock/'] }],
      ['web', { allowed: ['main'], forbiddenPrefixes: ['airlock/'] }],
    ]),
    endpointNames: ['local'],
    maxChangedFiles: 25,
    maxChangedLines: 2_000,
    maxJobTokens: 500_000,
    agentTimeoutMs: 1_200_000,
  });
  let current: AppliedPolicyBundle | undefined;
  let gatekeeper: InstructionGatekeeper;

  const instruction = (task: Pick<InstructionPayload, 'fix' | 'noop' | 'review' | 'index'>) =>
    signInstruction({ jobId: randomUUID(), attempt: 1, tenantId, audience: workerId, issuedAtMs: NOW_MS, expiresAtMs: NOW_MS + 60_000, nonce: randomBytes(16), policyRef: '', ...task }, signer);
  const fixOn = (repoAlias: string, baseRef = 'main') => instruction({ fix: { repoAlias, baseRef, ticket: { title: 'Fix it', description: '' } } });

  beforeEach(() => {
    current = undefined;
    const verifier = new InstructionVerifier({
      trustedKeys: new Map([[signer.keyId, signer.publicKey]]),
      workerId,
      tenantId,
      clock: () => NOW_MS,
      maxClockSkewMs: 30_000,
      maxValidityWindowMs: 3_600_000,
      nonceStore: new MemoryNonceStore(() => NOW_MS),
    });
    const bundles = { get current() { return current; } };
    gatekeeper = new InstructionGatekeeper(verifier, new WorkerPolicy({ local, labels: ['gpu'], maxFixRetries: 1, bundles }));
  });

  it('admits under local policy alone when no bundle is in force, handing the job that policy', () => {
    const decision = gatekeeper.check(fixOn('payments', 'release/2'));
    expect(decision).toMatchObject({ ok: true, policy: { enforced: local, revision: 0, shadowRevision: 0, maxFixRetries: 1 } });
  });

  it('refuses the envelope before any policy is looked at', () => {
    expect(gatekeeper.check({ ...fixOn('payments'), keyId: generateSigningKeyPair().keyId })).toMatchObject({ ok: false, failureCode: 'INSTRUCTION_UNKNOWN_KEY' });
  });

  it('checks the task against local policy merged with the layers for this worker and the repository, naming the rule', () => {
    current = inForce(7, [
          { scope: 'tenant', policyId: randomUUID(), version: 1, mode: 'enforce', document: { schemaVersion: 1, rules: { repositories: { allowed: ['pay*', 'web'] } } } },
          { scope: 'pool', key: 'gpu', policyId: randomUUID(), version: 1, mode: 'enforce', document: { schemaVersion: 1, rules: { 'job-kinds': { allowed: ['fix'] } } } },
          { scope: 'pool', key: 'cpu', policyId: randomUUID(), version: 1, mode: 'enforce', document: { schemaVersion: 1, rules: { repositories: { allowed: ['nothing'] } } } },
          { scope: 'repository', key: 'payments', policyId: randomUUID(), version: 2, mode: 'enforce', document: { schemaVersion: 1, rules: { 'base-refs': { allowed: { payments: ['main'] } } } } },
          { scope: 'repository', key: 'web', policyId: randomUUID(), version: 1, mode: 'shadow', document: { schemaVersion: 1, rules: { 'max-files-changed': { max: 3 } } } },
    ]);
    expect(gatekeeper.check(fixOn('payments', 'main'))).toMatchObject({ ok: true, policy: { revision: 7, shadowRevision: 0 } });
    expect(gatekeeper.check(fixOn('payments', 'release/2'))).toMatchObject({ ok: false, failureCode: 'TASK_FORBIDDEN_BY_POLICY', rules: ['RULE_BASE_REFS'] });
    expect(gatekeeper.check(instruction({ noop: {} }))).toMatchObject({ ok: false, failureCode: 'TASK_FORBIDDEN_BY_POLICY', rules: ['RULE_JOB_KINDS'] });
    expect(gatekeeper.check(fixOn('elsewhere'))).toMatchObject({ ok: false, failureCode: 'REPO_ALIAS_UNKNOWN', rules: [] });
    const web = gatekeeper.check(fixOn('web'));
    expect(web).toMatchObject({ ok: true, policy: { revision: 7, shadowRevision: 7, enforced: { maxFilesChanged: { max: 25 } }, shadow: { maxFilesChanged: { max: 3 } } } });
  });

  it('refuses an alias the central repositories rule leaves out', () => {
    current = inForce(2, [{ scope: 'tenant', policyId: randomUUID(), version: 1, mode: 'enforce', document: { schemaVersion: 1, rules: { repositories: { allowed: ['web'] } } } }]);
    expect(gatekeeper.check(fixOn('payments'))).toMatchObject({ ok: false, failureCode: 'TASK_FORBIDDEN_BY_POLICY', rules: ['RULE_REPOSITORIES'] });
  });

  it("applies a repository's layers to the review and index tasks that name it, as to its fixes", () => {
    current = inForce(3, [
      { scope: 'repository', key: 'payments', policyId: randomUUID(), version: 1, mode: 'enforce', document: { schemaVersion: 1, rules: { 'job-kinds': { allowed: ['fix'] } } } },
    ]);
    const review = (repoAlias: string) => instruction({ review: { repoAlias, mergeRequest: 4 } });
    const index = (repoAlias: string) => instruction({ index: { repoAlias, ref: 'main' } });
    expect(gatekeeper.check(review('payments'))).toMatchObject({ ok: false, failureCode: 'TASK_FORBIDDEN_BY_POLICY', rules: ['RULE_JOB_KINDS'] });
    expect(gatekeeper.check(index('payments'))).toMatchObject({ ok: false, failureCode: 'TASK_FORBIDDEN_BY_POLICY', rules: ['RULE_JOB_KINDS'] });
    expect(gatekeeper.check(review('web'))).toMatchObject({ ok: true, policy: { revision: 3 } });
    expect(gatekeeper.check(index('web'))).toMatchObject({ ok: true, policy: { revision: 3 } });
  });
});
