import { instructionHeader } from '@airlock/testing';
import type { InstructionPayload__Output } from '@airlock/protocol';
import type { LocalPolicy } from './local-policy';
import { evaluateTask } from './task-evaluator';

const base = (): InstructionPayload__Output => ({
  ...instructionHeader(),
});

const fix = (repoAlias: string, baseRef = 'main'): InstructionPayload__Output => ({
  ...base(),
  task: 'fix',
  fix: { repoAlias, baseRef, ticket: { title: 'Fix rounding', description: '' } },
});
const noop = (): InstructionPayload__Output => ({ ...base(), task: 'noop', noop: {} });

const policy = (allowedTaskKinds: LocalPolicy['allowedTaskKinds']): LocalPolicy => ({
  allowedTaskKinds,
  repoAliases: ['payments-api'],
  inferenceHosts: [],
  baseRefRules: new Map([['payments-api', { allowed: ['main', 'master', 'release/*'], forbiddenPrefixes: ['airlock/'] }]]),
});

describe('evaluateTask', () => {
  it('allows a fix on a catalogued repository when fixes are allowed', () => {
    expect(evaluateTask(fix('payments-api'), policy(['fix']))).toEqual({ allowed: true });
  });

  it('refuses a fix on a repository outside the catalog', () => {
    expect(evaluateTask(fix('billing'), policy(['fix']))).toEqual({ allowed: false, failureCode: 'REPO_ALIAS_UNKNOWN' });
  });

  it('refuses a fix when fixes are not allowed', () => {
    expect(evaluateTask(fix('payments-api'), policy(['noop']))).toEqual({ allowed: false, failureCode: 'TASK_FORBIDDEN_BY_POLICY' });
  });

  it('checks the repository before the task kind, as the protocol orders them', () => {
    expect(evaluateTask(fix('billing'), policy([]))).toEqual({ allowed: false, failureCode: 'REPO_ALIAS_UNKNOWN' });
  });

  it('allows a noop only when noop is allowed', () => {
    expect(evaluateTask(noop(), policy(['noop']))).toEqual({ allowed: true });
    expect(evaluateTask(noop(), policy(['fix']))).toEqual({ allowed: false, failureCode: 'TASK_FORBIDDEN_BY_POLICY' });
  });

  it('refuses a payload without a task', () => {
    expect(evaluateTask(base(), policy(['fix', 'noop']))).toEqual({ allowed: false, failureCode: 'TASK_FORBIDDEN_BY_POLICY' });
  });

  describe('base refs (local policy: the base ref names the .airlock.yml whose test command runs)', () => {
    const forbidden = { allowed: false, failureCode: 'TASK_FORBIDDEN_BY_POLICY' };

    it.each(['main', 'master', 'release/1.2', 'release/v2-rc'])('allows %s, listed or matching a glob', (baseRef) => {
      expect(evaluateTask(fix('payments-api', baseRef), policy(['fix']))).toEqual({ allowed: true });
    });

    it.each([
      ['a branch not listed', 'develop'],
      ['a name that only starts like a listed one', 'main2'],
      ['a listed name in another namespace', 'refs/heads/main'],
      ['a fork\'s pull-request ref', 'refs/pull/7/head'],
      ['a tag name', 'refs/tags/v1'],
      ['a glob match one level too deep (* stops at /)', 'release/1.2/rc'],
      ['the glob\'s bare directory', 'release'],
      ['a listed name in another case', 'Main'],
      ['an empty base ref', ''],
    ])('refuses %s (%s) with TASK_FORBIDDEN_BY_POLICY', (_what, baseRef) => {
      expect(evaluateTask(fix('payments-api', baseRef), policy(['fix']))).toEqual(forbidden);
    });

    it("refuses the worker's own branches even when a rule would allow them, in any case", () => {
      const own: LocalPolicy = { ...policy(['fix']), baseRefRules: new Map([['payments-api', { allowed: ['*', '*/*', 'airlock/*'], forbiddenPrefixes: ['airlock/'] }]]) };
      expect(evaluateTask(fix('payments-api', 'anything'), own)).toEqual({ allowed: true });
      expect(evaluateTask(fix('payments-api', 'team/feature'), own)).toEqual({ allowed: true });
      expect(evaluateTask(fix('payments-api', 'airlock/0b7f3f8e-1c52-4d7a-9a55-0d4b5d3c2e11'), own)).toEqual(forbidden);
      expect(evaluateTask(fix('payments-api', 'Airlock/0b7f3f8e-1c52-4d7a-9a55-0d4b5d3c2e11'), own)).toEqual(forbidden);
    });

    it('refuses a fix on a catalogued repository that has no base-ref rule', () => {
      expect(evaluateTask(fix('payments-api'), { ...policy(['fix']), baseRefRules: new Map() })).toEqual(forbidden);
    });

    it('checks the repository and the task kind before the base ref', () => {
      expect(evaluateTask(fix('billing', 'develop'), policy(['fix']))).toEqual({ allowed: false, failureCode: 'REPO_ALIAS_UNKNOWN' });
      expect(evaluateTask(fix('payments-api', 'develop'), policy(['noop']))).toEqual(forbidden);
    });
  });
});
