import { FailureCode, Phase } from '@airlock/protocol';
import { ForgeError } from '../../delivery/forge/forge-client';
import { forgeFailureCode } from '../../delivery/merge-request.publisher';
import { JobPhaseFailedError } from '../job-phase-failed.error';
import type { JobPhase } from '../pipeline/phase';
import { type CheckedReview, REVIEW_SEVERITIES, reviewCounts } from '../review/review-answer';
import type { ReviewContext } from '../review/review-job';

/**
 * DELIVER of a review: once the lease is confirmed (so an attempt fenced meanwhile never posts
 * beside the one that replaced it), posts the checked comments on their lines of the head
 * commit and a summary on the request, as the forge's token user; then reports the comments
 * posted by severity and the entries dropped (JobResult.review) — their text, paths and lines
 * stay on the forge and in the local record. Nothing is posted when the model was not asked
 * (the change adds no line). Fails the lease guard's code or the FORGE_* codes.
 */
export class ReviewPostPhase implements JobPhase<ReviewContext> {
  readonly name = Phase.PHASE_DELIVER;
  // The forge's failures and the lease guard's carry their own codes: anything else is a bug.
  readonly defaultFailure = FailureCode.INTERNAL;

  async run(ctx: ReviewContext): Promise<void> {
    const { jobId, attempt, signal, confirmLease } = ctx.request;
    const { mergeRequest, forge } = ctx.need('target');
    const { oldPaths } = ctx.need('change');
    const { asked, review } = ctx.need('verdict');
    if (!asked) {
      ctx.report.review = reviewCounts(review);
      return;
    }
    await confirmLease(signal);
    const summary = reviewSummary(review, mergeRequest.headSha, jobId, attempt);
    const comments = review.comments.map((comment) => ({ path: comment.path, oldPath: oldPaths.get(comment.path), line: comment.line, body: `**${comment.severity}**: ${comment.body}` }));
    try {
      await forge.postReview(mergeRequest.request.number, { headSha: mergeRequest.headSha, summary, comments }, signal);
    } catch (error) {
      if (error instanceof ForgeError) throw new JobPhaseFailedError(forgeFailureCode(error.failure), `the review could not be posted (${error.failure}): ${error.message}`);
      throw error;
    }
    ctx.report.review = reviewCounts(review);
    ctx.record.transcript({ kind: 'review-posted', mergeRequest: mergeRequest.request.number, webUrl: mergeRequest.request.webUrl, headSha: mergeRequest.headSha, summary, comments: review.comments });
    ctx.logger.info('review-posted', { number: mergeRequest.request.number, ...ctx.report.review });
  }
}

/** The note on the request as a whole: what was reviewed, how many comments of each severity, how many were left out. */
export function reviewSummary(review: CheckedReview, headSha: string, jobId: string, attempt: number): string {
  const counts = reviewCounts(review);
  const bySeverity = REVIEW_SEVERITIES.filter((severity) => counts[severity] > 0).map((severity) => `${counts[severity]} ${severity}`);
  const found = review.comments.length === 0 ? 'No comments on the lines this change adds or modifies.' : `${review.comments.length} comment${review.comments.length === 1 ? '' : 's'} on the lines this change adds or modifies: ${bySeverity.join(', ')}.`;
  const dropped = counts.dropped === 0 ? '' : ` ${counts.dropped} more of the model's remarks were left out (on lines the change does not touch, malformed, or past the worker's limit).`;
  return `**Airlock review** of ${headSha.slice(0, 12)}, by a model inside your network. ${found}${dropped}\n\n---\nAirlock job ${jobId}, attempt ${attempt}\n`;
}
