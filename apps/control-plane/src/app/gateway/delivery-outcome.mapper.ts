import type { DeliveryOutcomeReport, MergeRequestStateName } from '@airlock/data-access';
import type { DeliveryOutcome__Output } from '@airlock/protocol';

/**
 * Copies a validated DeliveryOutcome frame into the stored report, field by field:
 * `MERGE_REQUEST_STATE_MERGED` becomes MERGED (validateWorkerFrame admitted OPEN, MERGED and
 * CLOSED only).
 */
export function toDeliveryOutcomeReport(outcome: DeliveryOutcome__Output): DeliveryOutcomeReport {
  return {
    deliveryJobId: outcome.deliveryJobId,
    state: outcome.state.replace(/^MERGE_REQUEST_STATE_/, '') as MergeRequestStateName,
    humanCommits: outcome.humanCommits,
    reverted: outcome.reverted,
    firstReviewAfterS: outcome.firstReviewAfterS,
    reviewRounds: outcome.reviewRounds,
    mergedAfterS: outcome.mergedAfterS,
    final: outcome.final,
    metadataLevel: outcome.metadataLevel,
  };
}
