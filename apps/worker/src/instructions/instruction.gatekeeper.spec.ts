import { instructionHeader } from '@airlock/testing';
import { evaluateTask } from '@airlock/policy';
import type { InstructionPayload__Output } from '@airlock/protocol';
import { localPolicyOf } from './instruction.gatekeeper';

const fix = (repoAlias: string, baseRef: string): InstructionPayload__Output => ({
  ...instructionHeader(),
  task: 'fix',
  fix: { repoAlias, baseRef, ticket: { title: 'Fix rounding', description: '' } },
});

describe('localPolicyOf', () => {
  const policy = localPolicyOf({
    allowNoop: false,
    inference: { endpoints: [], allowedHosts: [] },
    repositories: [
      { alias: 'payments', cloneUrl: '/r/p.git', pushUrl: '/r/p.git', branchPrefix: 'airlock/', baseRefs: ['main', 'master'] },
      { alias: 'web', cloneUrl: '/r/w.git', pushUrl: '/r/w.git', branchPrefix: 'bots/', baseRefs: ['*', 'release/*'] },
    ],
  });

  it("carries each repository's base refs, and forbids its own branch prefix", () => {
    expect(policy.baseRefRules.get('payments')).toEqual({ allowed: ['main', 'master'], forbiddenPrefixes: ['airlock/'] });
    expect(policy.baseRefRules.get('web')).toEqual({ allowed: ['*', 'release/*'], forbiddenPrefixes: ['bots/'] });
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
    expect(evaluateTask(fix(alias, baseRef), policy)).toEqual(allowed ? { allowed: true } : { allowed: false, failureCode: 'TASK_FORBIDDEN_BY_POLICY' });
  });
});
