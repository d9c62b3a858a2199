import type { JobResultMetadata, ResultJudge } from '@airlock/data-access';
import { LIMIT_CEILINGS } from '@airlock/policy';

/** Rounding: phase durations may be reported to the nearest 100 ms, and clocks tick coarsely. */
export const DURATION_SLACK_MS = 1_000;

/**
 * The most tokens one job can report. The agent loop checks its budget before each request,
 * so a job ends past it by one request at most: a prompt no longer than the conversation so
 * far, and one answer. Twice the largest budget any policy or config allows, plus the
 * largest answer, bounds that whatever the worker's own limits.
 */
export const MAX_PLAUSIBLE_JOB_TOKENS = 2 * LIMIT_CEILINGS.jobTokens + LIMIT_CEILINGS.answerTokens;

/**
 * Judges a worker's result against what its attempt could have measured. The schema check
 * already holds each figure to its type and the figures to each other (edits applied ≤
 * proposed, failing ≤ run, the tokens per endpoint adding up to the totals, so the token
 * bound below bounds them too); this holds them to the attempt:
 *
 * - `durations-exceed-wall-time`: the phases took longer than the attempt has existed, from
 *   its dispatch to the result's arrival;
 * - `tokens-exceed-every-budget`: more tokens than any budget a policy or config can set
 *   lets a job spend (MAX_PLAUSIBLE_JOB_TOKENS);
 * - `change-exceeds-every-limit`: a delivered change larger than any file or line limit
 *   can allow (a refused change may be larger: that is why it was refused).
 *
 * The ceilings are those of any worker, not this job's own budget: a tighter bound needs the
 * limits the job ran under, which the control plane knows only in part.
 */
export function judgeResult(result: JobResultMetadata, receivedAt: Date): ResultJudge {
  return ({ dispatchedAt }) => {
    const reasons: string[] = [];
    const wallMs = receivedAt.getTime() - dispatchedAt.getTime() + DURATION_SLACK_MS;
    const durations = result.phaseDurations.map((entry) => entry.durationMs);
    if (durations.reduce((sum, ms) => sum + ms, 0) > wallMs) reasons.push('durations-exceed-wall-time');
    if (result.tokens.promptTokens + result.tokens.completionTokens > MAX_PLAUSIBLE_JOB_TOKENS) reasons.push('tokens-exceed-every-budget');
    const { filesChanged, linesAdded, linesRemoved } = result.change;
    if (result.outcome === 'JOB_OUTCOME_SUCCEEDED' && (filesChanged > LIMIT_CEILINGS.filesChanged || linesAdded + linesRemoved > LIMIT_CEILINGS.linesChanged)) {
      reasons.push('change-exceeds-every-limit');
    }
    return reasons;
  };
}
