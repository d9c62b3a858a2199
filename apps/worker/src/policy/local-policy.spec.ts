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

const review = (repoAlias: string): InstructionPayload__Output => ({ ...instructionHeader(), task: 'review', review: { repoAlias, target: 'mergeRequest', mergeRequest: 7 } });
const index = (repoAlias: string, ref: string): InstructionPayload__Output => ({ ...instructionHeader(), task: 'index', index: { repoAlias, ref } });
const noop = (): InstructionPayload__Output => ({ ...instructionHeader(), task: 'noop', noop: {} });
const forbiddenByJobKinds = { allowed: false, failureCode: 'TASK_FORBIDDEN_BY_POLICY', rules: ['job-kinds'] };

const config = (policy: LocalPolicyConfig['policy'] = { maxFixRetries: 2 }, kinds: Pick<LocalPolicyConfig, 'allowNoop' | 'jobKinds'> = { allowNoop: false, jobKinds: ['fix', 'review', 'index'] }): LocalPolicyConfig => ({
  ...kinds,
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
    expect(policy).toMatchObject({ jobKinds: ['fix', 'review', 'index'], maxFilesChanged: { max: 25 }, maxLinesChanged: { max: 2_000 }, inferenceTokenBudget: 500_000 });
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

  it('admits the kinds jobKinds lists, noop only with allowNoop, and refuses the others by job-kinds', () => {
    expect(evaluateTaskAdmission(review('payments'), policy)).toEqual({ allowed: true });
    expect(evaluateTaskAdmission(index('payments', 'main'), policy)).toEqual({ allowed: true });
    expect(evaluateTaskAdmission(noop(), policy)).toEqual(forbiddenByJobKinds);

    const fixOnly = localEffectivePolicyOf(config(undefined, { allowNoop: true, jobKinds: ['fix'] }));
    expect(fixOnly.jobKinds).toEqual(['fix', 'noop']);
    expect(evaluateTaskAdmission(fix('payments', 'main'), fixOnly)).toEqual({ allowed: true });
    expect(evaluateTaskAdmission(noop(), fixOnly)).toEqual({ allowed: true });
    expect(evaluateTaskAdmission(review('payments'), fixOnly)).toEqual(forbiddenByJobKinds);
    expect(evaluateTaskAdmission(index('payments', 'main'), fixOnly)).toEqual(forbiddenByJobKinds);

    const reviewOnly = localEffectivePolicyOf(config(undefined, { allowNoop: false, jobKinds: ['review'] }));
    expect(evaluateTaskAdmission(fix('payments', 'main'), reviewOnly)).toEqual(forbiddenByJobKinds);
    expect(evaluateTaskAdmission(review('payments'), reviewOnly)).toEqual({ allowed: true });
  });
});
