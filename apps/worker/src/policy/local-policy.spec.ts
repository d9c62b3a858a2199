import { instructionHeader } from '@airlock/testing';
import { evaluateTaskAdmission } from '@airlock/policy';
import type { InstructionPayload__Output } from '@airlock/protocol';
import { workerConfigSchema } from '../config/worker-config.schema';
import { localEffectivePolicyOf, type LocalPolicyConfig } from './local-policy';

const fix = (repoAlias: string, baseRef: string): InstructionPayload__Output => ({
  ...instructionHeader(),
  task: 'fix',
  fix: { repoAlias, baseRef, ticketRef: '', deliveryJobId: '', deliveryGeneration: 0, ticket: { title: 'Fix rounding', description: '' } },
});

const config = (policy: LocalPolicyConfig['policy'] = { maxFixRetries: 2 }): LocalPolicyConfig => ({
  allowNoop: false,
  inference: { endpoints: [], allowedHosts: [] },
  limits: workerConfigSchema.shape.limits.parse(undefined),
  policy,
  repositories: [
    { alias: 'payments', cloneUrl: '/r/p.git', pushUrl: '/r/p.git', branchPrefix: 'airlock/', baseRefs: ['main', 'master'] },
    { alias: 'web', cloneUrl: '/r/w.git', pushUrl: '/r/w.git', branchPrefix: 'bots/', baseRefs: ['*', 'release/*'] },
  ],
});

describe('localEffectivePolicyOf', () => {
  const policy = localEffectivePolicyOf(config());

  it("carries each repository's base refs, forbids its own branch prefix, and takes the change limits from the config", () => {
    expect(policy.baseRefs.local).toEqual({
      payments: { allowed: ['main', 'master'], forbiddenPrefixes: ['airlock/'] },
      web: { allowed: ['*', 'release/*'], forbiddenPrefixes: ['bots/'] },
    });
    expect(policy).toMatchObject({ jobKinds: ['fix'], maxFilesChanged: { max: 25 }, maxLinesChanged: { max: 2_000 }, inferenceTokenBudget: 500_000 });
  });

  it.each([
    ['payments', 'main', true],
    ['payments', 'master', true],
    ['payments', 'develop', false],
    ['payments', 'airlock/1f0e5c3a-52a4-4c53-9d0b-7d8b7c8e2a11', false],
    ['web', 'develop', true],
    ['web', 'release/3', true],
    ['web', 'bots/anything', false],
    ['web', 'team/feature', false],
  ])('%s @ %s allowed: %s', (alias, baseRef, allowed) => {
    expect(evaluateTaskAdmission(fix(alias, baseRef), policy)).toEqual(
      allowed ? { allowed: true } : { allowed: false, failureCode: 'TASK_FORBIDDEN_BY_POLICY', rules: ['base-refs'] },
    );
  });

  it('narrows the catalog and the limits by the local policy.rules, never widens them', () => {
    const narrowed = localEffectivePolicyOf(config({ maxFixRetries: 2, rules: { repositories: { allowed: ['web', 'other'] }, 'max-files-changed': { max: 100, level: 'mandatory' } } }));
    expect(evaluateTaskAdmission(fix('payments', 'main'), narrowed)).toEqual({ allowed: false, failureCode: 'TASK_FORBIDDEN_BY_POLICY', rules: ['repositories'] });
    expect(evaluateTaskAdmission(fix('web', 'main'), narrowed)).toEqual({ allowed: true });
    expect(narrowed.maxFilesChanged.max).toBe(25);
  });
});
