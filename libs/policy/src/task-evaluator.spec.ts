import { randomBytes, randomUUID } from 'node:crypto';
import type { InstructionPayload__Output } from '@airlock/protocol';
import type { LocalPolicy } from './local-policy';
import { evaluateTask } from './task-evaluator';

const base = (): InstructionPayload__Output => ({
  jobId: randomUUID(),
  attempt: 1,
  tenantId: randomUUID(),
  audience: randomUUID(),
  issuedAtMs: 1_700_000_000_000,
  expiresAtMs: 1_700_000_060_000,
  nonce: randomBytes(16),
  policyRef: '',
});

const fix = (repoAlias: string): InstructionPayload__Output => ({
  ...base(),
  task: 'fix',
  fix: { repoAlias, baseRef: 'main', ticket: { title: 'Fix rounding', description: '' } },
});
const noop = (): InstructionPayload__Output => ({ ...base(), task: 'noop', noop: {} });

const policy = (allowedTaskKinds: LocalPolicy['allowedTaskKinds']): LocalPolicy => ({
  allowedTaskKinds,
  repoAliases: ['payments-api'],
  inferenceHosts: [],
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
});
