import { instructionHeader } from '@airlock/testing';
import type { InstructionPayload__Output } from '@airlock/protocol';
import { localEffectivePolicy, mergePolicy, type EffectivePolicy } from './effective-policy';
import { parsePolicyDocument, type PolicyDocumentInput } from './policy-document';
import type { TaskKind } from './local-policy';
import { evaluateTaskAdmission } from './task-admission';

const fix = (repoAlias: string, baseRef = 'main'): InstructionPayload__Output => ({
  ...instructionHeader(),
  task: 'fix',
  fix: { repoAlias, baseRef, ticketRef: '', deliveryJobId: '', deliveryGeneration: 0, ticket: { title: 'Fix rounding', description: '' } },
});
const noop = (): InstructionPayload__Output => ({ ...instructionHeader(), task: 'noop', noop: {} });
const review = (repoAlias: string): InstructionPayload__Output => ({ ...instructionHeader(), task: 'review', review: { repoAlias, target: 'mergeRequest', mergeRequest: 7 } });
const index = (repoAlias: string, ref: string): InstructionPayload__Output => ({ ...instructionHeader(), task: 'index', index: { repoAlias, ref } });

const LOCAL_INPUT = {
  allowedTaskKinds: ['fix', 'noop'] as TaskKind[],
  repoAliases: ['payments-api', 'billing'],
  baseRefRules: new Map([
    ['payments-api', { allowed: ['main', 'release/*'], forbiddenPrefixes: ['airlock/'] }],
    ['billing', { allowed: ['main'], forbiddenPrefixes: ['airlock/'] }],
  ]),
  endpointNames: ['gpu-a'],
  maxChangedFiles: 25,
  maxChangedLines: 2_000,
  maxJobTokens: 200_000,
  agentTimeoutMs: 1_200_000,
};
const local = localEffectivePolicy(LOCAL_INPUT);

function parseOrThrow(rules: PolicyDocumentInput['rules']) {
  const parsed = parsePolicyDocument({ schemaVersion: 1, rules });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.value;
}

function under(rules: PolicyDocumentInput['rules']): EffectivePolicy {
  const parsed = parsePolicyDocument({ schemaVersion: 1, rules });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return mergePolicy(local, [parsed.value]).effective;
}

const forbiddenBy = (rule: string) => ({ allowed: false, failureCode: 'TASK_FORBIDDEN_BY_POLICY', rules: [rule] });

describe('evaluateTaskAdmission: review and index tasks', () => {
  const withKinds = localEffectivePolicy({ ...LOCAL_INPUT, allowedTaskKinds: ['fix', 'review', 'index'] });

  it('allows them on a catalogued repository when local policy allows their kind', () => {
    expect(evaluateTaskAdmission(review('billing'), withKinds)).toEqual({ allowed: true });
    expect(evaluateTaskAdmission(index('payments-api', 'release/3'), withKinds)).toEqual({ allowed: true });
  });

  it('refuses an unknown alias, a kind local policy does not allow, and an index of a ref no fix may start from', () => {
    expect(evaluateTaskAdmission(review('elsewhere'), withKinds)).toEqual({ allowed: false, failureCode: 'REPO_ALIAS_UNKNOWN', rules: [] });
    expect(evaluateTaskAdmission(review('billing'), local)).toEqual(forbiddenBy('job-kinds'));
    expect(evaluateTaskAdmission(index('billing', 'main'), local)).toEqual(forbiddenBy('job-kinds'));
    expect(evaluateTaskAdmission(index('billing', 'develop'), withKinds)).toEqual(forbiddenBy('base-refs'));
    expect(evaluateTaskAdmission(index('billing', 'airlock/x'), withKinds)).toEqual(forbiddenBy('base-refs'));
  });

  it('lets central policy narrow them by kind and repository', () => {
    const narrowed = mergePolicy(withKinds, [parseOrThrow({ 'job-kinds': { allowed: ['fix', 'index'] }, repositories: { allowed: ['payments-*'] } })]).effective;
    expect(evaluateTaskAdmission(review('payments-api'), narrowed)).toEqual(forbiddenBy('job-kinds'));
    expect(evaluateTaskAdmission(index('billing', 'main'), narrowed)).toEqual(forbiddenBy('repositories'));
  });
});

describe('evaluateTaskAdmission', () => {
  it('allows a fix and a noop that local policy alone allows', () => {
    expect(evaluateTaskAdmission(fix('payments-api', 'release/2'), local)).toEqual({ allowed: true });
    expect(evaluateTaskAdmission(noop(), local)).toEqual({ allowed: true });
  });

  it('refuses an alias outside the catalog with REPO_ALIAS_UNKNOWN and no rule, even when a central glob matches it', () => {
    expect(evaluateTaskAdmission(fix('web'), under({ repositories: { allowed: ['*'] } }))).toEqual({ allowed: false, failureCode: 'REPO_ALIAS_UNKNOWN', rules: [] });
  });

  it('refuses a catalogued alias outside the central repositories rule (repositories)', () => {
    const policy = under({ repositories: { allowed: ['pay*'] } });
    expect(evaluateTaskAdmission(fix('billing'), policy)).toEqual(forbiddenBy('repositories'));
    expect(evaluateTaskAdmission(fix('payments-api'), policy)).toEqual({ allowed: true });
  });

  it('refuses a task kind the policy does not allow (job-kinds)', () => {
    const fixOnly = under({ 'job-kinds': { allowed: ['fix'] } });
    expect(evaluateTaskAdmission(noop(), fixOnly)).toEqual(forbiddenBy('job-kinds'));
    expect(evaluateTaskAdmission(fix('billing'), under({ 'job-kinds': { allowed: ['noop'] } }))).toEqual(forbiddenBy('job-kinds'));
    expect(evaluateTaskAdmission({ ...instructionHeader() }, local)).toEqual(forbiddenBy('job-kinds'));
  });

  it('refuses a base ref the local rule or a central constraint refuses (base-refs)', () => {
    expect(evaluateTaskAdmission(fix('billing', 'develop'), local)).toEqual(forbiddenBy('base-refs'));
    expect(evaluateTaskAdmission(fix('payments-api', 'airlock/x'), local)).toEqual(forbiddenBy('base-refs'));
    const mainOnly = under({ 'base-refs': { allowed: { 'payments-*': ['main'] } } });
    expect(evaluateTaskAdmission(fix('payments-api', 'release/2'), mainOnly)).toEqual(forbiddenBy('base-refs'));
    expect(evaluateTaskAdmission(fix('payments-api', 'main'), mainOnly)).toEqual({ allowed: true });
  });

  it('checks in the protocol order: catalog, repositories, kind, base ref', () => {
    const everything = under({ repositories: { allowed: ['billing'] }, 'job-kinds': { allowed: ['noop'] }, 'base-refs': { allowed: { '*': ['nothing'] } } });
    expect(evaluateTaskAdmission(fix('web', 'develop'), everything)).toEqual({ allowed: false, failureCode: 'REPO_ALIAS_UNKNOWN', rules: [] });
    expect(evaluateTaskAdmission(fix('payments-api', 'develop'), everything)).toEqual(forbiddenBy('repositories'));
    expect(evaluateTaskAdmission(fix('billing', 'develop'), everything)).toEqual(forbiddenBy('job-kinds'));
    expect(evaluateTaskAdmission(fix('billing', 'main'), under({ 'base-refs': { allowed: { '*': ['nothing'] } } }))).toEqual(forbiddenBy('base-refs'));
  });

  describe('base refs of local policy (the base ref names the .airlock.yml whose test command runs)', () => {
    it.each(['main', 'release/1.2', 'release/v2-rc'])('allows %s, listed or matching a glob', (baseRef) => {
      expect(evaluateTaskAdmission(fix('payments-api', baseRef), local)).toEqual({ allowed: true });
    });

    it.each([
      ['a branch not listed', 'develop'],
      ['a name that only starts like a listed one', 'main2'],
      ['a listed name in another namespace', 'refs/heads/main'],
      ["a fork's pull-request ref", 'refs/pull/7/head'],
      ['a tag name', 'refs/tags/v1'],
      ['a glob match one level too deep (* stops at /)', 'release/1.2/rc'],
      ["the glob's bare directory", 'release'],
      ['a listed name in another case', 'Main'],
      ['an empty base ref', ''],
    ])('refuses %s (%s)', (_what, baseRef) => {
      expect(evaluateTaskAdmission(fix('payments-api', baseRef), local)).toEqual(forbiddenBy('base-refs'));
    });

    it("refuses the worker's own branches even when a rule would allow them, in any case", () => {
      const own = localEffectivePolicy({
        allowedTaskKinds: ['fix'],
        repoAliases: ['payments-api'],
        baseRefRules: new Map([['payments-api', { allowed: ['*', '*/*', 'airlock/*'], forbiddenPrefixes: ['airlock/'] }]]),
        endpointNames: ['gpu-a'],
        maxChangedFiles: 25,
        maxChangedLines: 2_000,
        maxJobTokens: 200_000,
        agentTimeoutMs: 1_200_000,
      });
      expect(evaluateTaskAdmission(fix('payments-api', 'anything'), own)).toEqual({ allowed: true });
      expect(evaluateTaskAdmission(fix('payments-api', 'team/feature'), own)).toEqual({ allowed: true });
      expect(evaluateTaskAdmission(fix('payments-api', 'airlock/0b7f3f8e-1c52-4d7a-9a55-0d4b5d3c2e11'), own)).toEqual(forbiddenBy('base-refs'));
      expect(evaluateTaskAdmission(fix('payments-api', 'Airlock/0b7f3f8e-1c52-4d7a-9a55-0d4b5d3c2e11'), own)).toEqual(forbiddenBy('base-refs'));
    });

    it('refuses a fix on a catalogued repository that has no base-ref rule', () => {
      const withoutRule = localEffectivePolicy({
        allowedTaskKinds: ['fix'],
        repoAliases: ['payments-api'],
        baseRefRules: new Map(),
        endpointNames: ['gpu-a'],
        maxChangedFiles: 25,
        maxChangedLines: 2_000,
        maxJobTokens: 200_000,
        agentTimeoutMs: 1_200_000,
      });
      expect(evaluateTaskAdmission(fix('payments-api'), withoutRule)).toEqual(forbiddenBy('base-refs'));
    });
  });
});
