import { evaluateChange, type PolicyViolation, type RuleId } from '@airlock/policy';
import type { GitRunner } from '../../git/git-runner';
import type { JobContext } from '../pipeline/job-context';
import { stageChange, worktreeCandidate } from './candidate-change';
import { PolicyViolationError } from './policy-violation.error';

/** One candidate change the agent loop was about to end with, and what the enforced policy said of it. */
export interface CandidateReview {
  /** The staged patch judged (what APPLY would record). */
  readonly patch: string;
  readonly violations: readonly PolicyViolation[];
  /** Whether its mandatory violations went back to the model as feedback. */
  readonly sentBack: boolean;
}

/** What the agent loop asks before it ends: feedback for the model when it must try again, or undefined. */
export interface CandidateReviewer {
  review(ctx: JobContext, touched: readonly string[]): Promise<string | undefined>;
  /** Every review so far, in order. */
  readonly reviews: readonly CandidateReview[];
}

/** What the model is told to do about a broken rule, after the rule's own detail. */
const REMEDIES: Readonly<Partial<Record<RuleId, string>>> = {
  'protected-paths': 'put that file back as it was with revert_file, and fix the ticket without touching it',
  'max-files-changed': 'make the change smaller: revert_file the files the ticket does not need changed',
  'max-lines-changed': 'make the change smaller: undo edits the ticket does not need',
  secrets: 'remove the secret from the file; read it from the environment or configuration instead',
  'dependency-manifests': 'drop the change to that manifest or lockfile with revert_file, and fix the problem with the dependencies already there',
  'denied-packages': 'remove that package and do without it',
  'denied-licenses': 'remove those packages and do without them',
};

/**
 * Governance on the candidate change, inside the agent loop: when the loop is about to end
 * with a change, the change is staged and judged against the enforced policy; while
 * mandatory rules are broken and `maxFixRetries` rounds of feedback remain, the model hears
 * which rule each violation breaks, why (the local detail: it may name paths — the model is
 * local too) and what to do, and goes on working. Each round is kept in the transcript.
 */
export class ChangeGovernance implements CandidateReviewer {
  private readonly rounds: CandidateReview[] = [];

  constructor(private readonly git: Pick<GitRunner, 'run'>) {}

  get reviews(): readonly CandidateReview[] {
    return this.rounds;
  }

  async review(ctx: JobContext, touched: readonly string[]): Promise<string | undefined> {
    const workspace = ctx.need('workspace');
    const { enforced, maxFixRetries } = ctx.request.policy;
    const patch = await stageChange(this.git, workspace, touched, ctx.signal);
    const violations = patch === '' ? [] : await evaluateChange(enforced, worktreeCandidate(this.git, workspace, patch, ctx.signal));
    const mandatory = violations.filter((violation) => violation.level === 'mandatory');
    const retriesLeft = maxFixRetries - this.rounds.filter((round) => round.sentBack).length;
    const sentBack = mandatory.length > 0 && retriesLeft > 0;
    this.rounds.push({ patch, violations, sentBack });
    ctx.record.transcript({
      kind: 'policy-review',
      round: this.rounds.length,
      verdict: sentBack ? 'sent-back' : mandatory.length > 0 ? 'violations-remain' : 'accepted',
      violations: violations.map(({ rule, level, detail }) => ({ rule, level, detail })),
      retriesLeft: sentBack ? retriesLeft - 1 : retriesLeft,
    });
    return sentBack ? feedbackFor(mandatory, retriesLeft - 1) : undefined;
  }
}

function feedbackFor(violations: readonly PolicyViolation[], retriesLeft: number): string {
  return [
    'Your change breaks rules of the repository policy, so it cannot be delivered as it is:',
    ...violations.map((violation) => `- ${violation.rule}: ${violation.detail}. To fix: ${REMEDIES[violation.rule] ?? 'change your edits so that the rule holds'}.`),
    retriesLeft > 0
      ? `Change your edits, then call finish again. If the change still breaks a rule after ${retriesLeft} more ${retriesLeft === 1 ? 'try' : 'tries'}, the job fails.`
      : 'Change your edits, then call finish again. This is the last try: if the change still breaks a rule, the job fails.',
  ].join('\n');
}

/**
 * The gate before a change is committed (APPLY): judges the staged patch under the enforced
 * policy — reusing the loop's last review when it judged this very patch — and records the
 * decisions: mandatory violations BLOCKED, advisory ones RECORDED, mandatory rules an earlier
 * candidate broke and feedback mended CORRECTED, and under the shadow policy, if any, each
 * mandatory rule that would have blocked when the enforced one did not (SHADOW_WOULD_BLOCK).
 * Throws PolicyViolationError when a mandatory rule is still broken.
 */
export async function judgeFinalChange(ctx: JobContext, git: Pick<GitRunner, 'run'>, patch: string): Promise<void> {
  const { enforced, shadow } = ctx.request.policy;
  const reviews = ctx.need('agent').reviews;
  const candidate = worktreeCandidate(git, ctx.need('workspace'), patch, ctx.signal);
  const last = reviews.at(-1);
  const violations = last?.patch === patch ? last.violations : await evaluateChange(enforced, candidate);
  const decisions = ctx.report.decisions;
  decisions.addEnforced(violations);
  const blocked = violations.filter((violation) => violation.level === 'mandatory');
  const blockedRules = new Set(blocked.map((violation) => violation.rule));
  const corrected = new Set<RuleId>();
  for (const violation of reviews.filter((review) => review.sentBack).flatMap((review) => review.violations)) {
    if (violation.level !== 'mandatory' || blockedRules.has(violation.rule) || corrected.has(violation.rule)) continue;
    corrected.add(violation.rule);
    decisions.add({ ...violation, outcome: 'corrected', policy: 'enforced', detail: `mended after feedback: ${violation.detail}` });
  }
  if (shadow !== undefined) decisions.addShadow(await evaluateChange(shadow, candidate), blockedRules);
  if (blocked.length > 0) throw new PolicyViolationError([...blockedRules], blocked.map((violation) => `${violation.rule}: ${violation.detail}`).join('; '));
}
