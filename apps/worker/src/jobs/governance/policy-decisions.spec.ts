import { RULE_IDS } from '@airlock/policy';
import { WIRE_LIMITS } from '@airlock/protocol';
import { PolicyDecisions, RECORDED_DECISION_LIMITS } from './policy-decisions';

describe('PolicyDecisions', () => {
  it('reports each rule once per outcome, blocked first, with rule, level and outcome only', () => {
    const decisions = new PolicyDecisions();
    decisions.addEnforced([
      { rule: 'secrets', level: 'advisory', detail: 'a.env adds what looks like a secret' },
      { rule: 'protected-paths', level: 'mandatory', detail: '.github/workflows/a.yml is protected' },
      { rule: 'protected-paths', level: 'mandatory', detail: '.github/workflows/b.yml is protected' },
    ]);
    decisions.addShadow(
      [
        { rule: 'protected-paths', level: 'mandatory', detail: 'blocked already' },
        { rule: 'max-files-changed', level: 'mandatory', detail: 'too many files' },
        { rule: 'denied-packages', level: 'advisory', detail: 'advisory in shadow' },
      ],
      new Set(['protected-paths']),
    );
    expect(decisions.toWire(4, 5)).toEqual({
      revision: 4,
      shadowRevision: 5,
      decisions: [
        { rule: 'RULE_PROTECTED_PATHS', level: 'RULE_LEVEL_MANDATORY', outcome: 'RULE_OUTCOME_BLOCKED' },
        { rule: 'RULE_SECRETS', level: 'RULE_LEVEL_ADVISORY', outcome: 'RULE_OUTCOME_RECORDED' },
        { rule: 'RULE_MAX_FILES_CHANGED', level: 'RULE_LEVEL_MANDATORY', outcome: 'RULE_OUTCOME_SHADOW_WOULD_BLOCK' },
      ],
    });
    expect(JSON.stringify(decisions.toWire(4, 5))).not.toContain('.github');
    // The record keeps every one, with its detail.
    expect(decisions.all.map((decision) => decision.detail)).toEqual([
      'a.env adds what looks like a secret',
      '.github/workflows/a.yml is protected',
      '.github/workflows/b.yml is protected',
      'too many files',
    ]);
  });

  it(`sends at most ${WIRE_LIMITS.maxPolicyDecisions} decisions and keeps a bounded record`, () => {
    const decisions = new PolicyDecisions();
    for (const outcome of ['blocked', 'corrected', 'recorded', 'shadow-would-block'] as const) {
      for (const rule of RULE_IDS) decisions.add({ rule, level: 'mandatory', outcome, policy: 'enforced', detail: 'x'.repeat(5_000) });
    }
    const wire = decisions.toWire(1, 0).decisions;
    expect(wire).toHaveLength(WIRE_LIMITS.maxPolicyDecisions);
    expect(wire.filter((decision) => decision.outcome === 'RULE_OUTCOME_BLOCKED')).toHaveLength(RULE_IDS.length);
    expect(decisions.all.every((decision) => decision.detail.length <= RECORDED_DECISION_LIMITS.maxDetailChars + 1)).toBe(true);
    for (let index = 0; index < RECORDED_DECISION_LIMITS.maxDecisions; index += 1) decisions.add({ rule: 'secrets', level: 'advisory', outcome: 'recorded', policy: 'enforced', detail: '' });
    expect(decisions.all).toHaveLength(RECORDED_DECISION_LIMITS.maxDecisions);
  });
});
