import type { JobResultMetadata, ResultJudge } from '@airlock/data-access';
import { LIMIT_CEILINGS } from '@airlock/policy';

/** Rounding: phase durations may be reported to the nearest 100 ms, and clocks tick coarsely. */
export const DURATION_SLACK_MS = 1_000;

/**
 * The most tokens a job with this token budget can report. The agent loop checks the budget
 * (the job's tokens so far) before each request, so a job ends past it by one request at
 * most: a prompt no longer than the conversation so far, and one answer. No policy bounds an
 * answer (that is the worker's own `limits.maxModelTokens`), so the largest answer any config
 * allows stands for it.
 */
export function maxPlausibleTokens(budget: number): number {
  return 2 * budget + LIMIT_CEILINGS.answerTokens;
}

/** The most tokens any job can report, whatever its worker's or its policy's budget. */
export const MAX_PLAUSIBLE_JOB_TOKENS = maxPlausibleTokens(LIMIT_CEILINGS.jobTokens);

/**
 * Limits a job ran under, as far as the control plane knows them: those of the central policy
 * that reached its worker. The worker merges its local policy in, the stricter winning, so
 * its real limits can only be lower.
 */
export interface JobLimits {
  /** `max-files-changed`. */
  readonly filesChanged: number;
  /** `max-lines-changed`: lines added and removed. */
  readonly linesChanged: number;
  /** `inference-token-budget`. */
  readonly jobTokens: number;
}

/** The central limits of a job on this repository (null: a task without one, e.g. noop). */
export type JobLimitsLookup = (repoAlias: string | null) => JobLimits;

/** What any job may do at most: every limit at its ceiling. */
const CEILING_LIMITS: JobLimits = { filesChanged: LIMIT_CEILINGS.filesChanged, linesChanged: LIMIT_CEILINGS.linesChanged, jobTokens: LIMIT_CEILINGS.jobTokens };

/**
 * Judges a worker's result against what its attempt could have measured. The schema check
 * already holds each figure to its type and the figures to each other (edits applied ≤
 * proposed, failing ≤ run, the tokens per endpoint adding up to the totals, so the token
 * bounds below bound them too); this holds them to the attempt:
 *
 * - `durations-exceed-wall-time`: the phases took longer than the attempt has existed, from
 *   its dispatch to the result's arrival;
 * - `tokens-exceed-every-budget`: more tokens than any budget a policy or config can set
 *   lets a job spend (MAX_PLAUSIBLE_JOB_TOKENS);
 * - `tokens-exceed-job-budget`: within that, but more than the `inference-token-budget` of
 *   the central policy the result names lets the job spend (maxPlausibleTokens). Both token
 *   bounds hold whatever the outcome: the budget stops the agent however the job then ends;
 * - `change-exceeds-every-limit`: a delivered change larger than any file or line limit
 *   can allow (a refused change may be larger: that is why it was refused);
 * - `change-exceeds-job-limits`: a delivered change within those, but with more files or
 *   lines than the `max-files-changed` / `max-lines-changed` of the central policy the result
 *   names. Both are always mandatory, so a worker honouring that policy fails such a change
 *   CHANGE_TOO_LARGE rather than deliver it.
 *
 * `jobLimits` gives the limits of the central policy the result names (JobLimits), for the
 * job's repository; without it (revision 0, local policy alone, or a revision the tenant
 * never reached) the ceilings are all there is to judge by. A figure past the ceilings is
 * past the job's limits too: it is named once, by the ceiling's reason.
 */
export function judgeResult(result: JobResultMetadata, receivedAt: Date, jobLimits?: JobLimitsLookup): ResultJudge {
  return ({ dispatchedAt, repoAlias }) => {
    const reasons: string[] = [];
    const wallMs = receivedAt.getTime() - dispatchedAt.getTime() + DURATION_SLACK_MS;
    const durations = result.phaseDurations.map((entry) => entry.durationMs);
    if (durations.reduce((sum, ms) => sum + ms, 0) > wallMs) reasons.push('durations-exceed-wall-time');
    const limits = jobLimits?.(repoAlias) ?? CEILING_LIMITS;
    const tokens = result.tokens.promptTokens + result.tokens.completionTokens;
    if (tokens > MAX_PLAUSIBLE_JOB_TOKENS) reasons.push('tokens-exceed-every-budget');
    else if (tokens > maxPlausibleTokens(limits.jobTokens)) reasons.push('tokens-exceed-job-budget');
    if (result.outcome === 'JOB_OUTCOME_SUCCEEDED') {
      const { filesChanged, linesAdded, linesRemoved } = result.change;
      const exceeds = (bound: JobLimits) => filesChanged > bound.filesChanged || linesAdded + linesRemoved > bound.linesChanged;
      if (exceeds(CEILING_LIMITS)) reasons.push('change-exceeds-every-limit');
      else if (exceeds(limits)) reasons.push('change-exceeds-job-limits');
    }
    return reasons;
  };
}
