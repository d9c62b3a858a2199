import { RULE_IDS_TO_WIRE, type PolicyViolation, type RuleId, type RuleLevel } from '@airlock/policy';
import { RuleOutcome, WIRE_LIMITS, WireRuleLevel, type PolicyReport__Output, type RuleDecision__Output } from '@airlock/protocol';

/** What a rule's firing did to the job (RuleOutcome on the wire, without its prefix). */
export type DecisionOutcome = 'blocked' | 'corrected' | 'recorded' | 'shadow-would-block';

/** One rule that fired on the attempt, with the local detail of why. */
export interface PolicyDecision {
  readonly rule: RuleId;
  readonly level: RuleLevel;
  readonly outcome: DecisionOutcome;
  /** Which policy the rule belongs to: the one enforced, or the one evaluated in shadow beside it. */
  readonly policy: 'enforced' | 'shadow';
  /** For the local record only: it may name a path, a line, a masked secret. */
  readonly detail: string;
}

/** The decisions as the local job record keeps them: every one, with its detail. */
export interface RecordedPolicy {
  readonly revision: number;
  readonly shadowRevision: number;
  readonly decisions: readonly PolicyDecision[];
}

/** Decisions kept per attempt in the local record, and characters kept of each detail. */
export const RECORDED_DECISION_LIMITS = { maxDecisions: 200, maxDetailChars: 2_000 } as const;

const WIRE_OUTCOMES: Readonly<Record<DecisionOutcome, RuleDecision__Output['outcome']>> = {
  blocked: RuleOutcome.RULE_OUTCOME_BLOCKED,
  corrected: RuleOutcome.RULE_OUTCOME_CORRECTED,
  recorded: RuleOutcome.RULE_OUTCOME_RECORDED,
  'shadow-would-block': RuleOutcome.RULE_OUTCOME_SHADOW_WOULD_BLOCK,
};
const WIRE_LEVELS: Readonly<Record<RuleLevel, RuleDecision__Output['level']>> = {
  advisory: WireRuleLevel.RULE_LEVEL_ADVISORY,
  mandatory: WireRuleLevel.RULE_LEVEL_MANDATORY,
};
/** The order the report lists outcomes in, so that what stopped the job survives the bound first. */
const OUTCOME_ORDER: readonly DecisionOutcome[] = ['blocked', 'corrected', 'recorded', 'shadow-would-block'];

/**
 * The policy decisions of one attempt: each rule that fired, how (blocked, corrected after
 * feedback, recorded, would have blocked in shadow) and why. Upstream gets rule, level and
 * outcome only, once per rule and outcome; the local record gets all of it.
 */
export class PolicyDecisions {
  private readonly entries: PolicyDecision[] = [];

  get all(): readonly PolicyDecision[] {
    return this.entries;
  }

  add(decision: PolicyDecision): void {
    if (this.entries.length >= RECORDED_DECISION_LIMITS.maxDecisions) return;
    const detail = decision.detail.length > RECORDED_DECISION_LIMITS.maxDetailChars ? `${decision.detail.slice(0, RECORDED_DECISION_LIMITS.maxDetailChars)}…` : decision.detail;
    this.entries.push({ ...decision, detail });
  }

  /** The violations of the enforced policy: mandatory ones `blocked`, advisory ones `recorded`. */
  addEnforced(violations: readonly PolicyViolation[]): void {
    for (const violation of violations) this.add({ ...violation, outcome: violation.level === 'mandatory' ? 'blocked' : 'recorded', policy: 'enforced' });
  }

  /**
   * The violations of the shadow policy: each mandatory one whose rule the enforced policy
   * did not already block is one the shadow version would have stopped the job for.
   */
  addShadow(violations: readonly PolicyViolation[], blockedRules: ReadonlySet<RuleId>): void {
    for (const violation of violations) {
      if (violation.level === 'mandatory' && !blockedRules.has(violation.rule)) this.add({ ...violation, outcome: 'shadow-would-block', policy: 'shadow' });
    }
  }

  /** The report JobResult.policy carries: one decision per rule and outcome, at most WIRE_LIMITS.maxPolicyDecisions, never a detail. */
  toWire(revision: number, shadowRevision: number): PolicyReport__Output {
    const seen = new Set<string>();
    const decisions: RuleDecision__Output[] = [];
    for (const outcome of OUTCOME_ORDER) {
      for (const entry of this.entries.filter((candidate) => candidate.outcome === outcome)) {
        const key = `${entry.rule}:${outcome}`;
        if (seen.has(key) || decisions.length >= WIRE_LIMITS.maxPolicyDecisions) continue;
        seen.add(key);
        // PolicyRule's values are its names, which is what a decoded frame (__Output) holds.
        decisions.push({ rule: RULE_IDS_TO_WIRE[entry.rule] as RuleDecision__Output['rule'], level: WIRE_LEVELS[entry.level], outcome: WIRE_OUTCOMES[outcome] });
      }
    }
    return { revision, shadowRevision, decisions };
  }
}
