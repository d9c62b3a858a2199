import { FailureCode } from '@airlock/protocol';
import { JobPhaseFailedError } from '../jobs/job-phase-failed.error';
import type { FailureCodeName } from '../jobs/job-result.builder';
import { ForgeError, type ForgeFailure, type MergeRequest, type MergeRequestDraft, type MergeRequestPublishing } from './forge/forge-client';

/** What the forge holds after a delivery: the branch's request, opened now or updated. */
export interface PublishedMergeRequest {
  readonly outcome: 'opened' | 'updated';
  readonly mergeRequest: MergeRequest;
}

const FAILURE_CODES: Readonly<Record<ForgeFailure, FailureCodeName>> = {
  unavailable: FailureCode.FORGE_UNAVAILABLE,
  auth: FailureCode.FORGE_AUTH_FAILED,
  'rate-limited': FailureCode.FORGE_RATE_LIMITED,
  'not-found': FailureCode.FORGE_REQUEST_REFUSED,
  refused: FailureCode.FORGE_REQUEST_REFUSED,
  conflict: FailureCode.FORGE_REQUEST_REFUSED,
};

/**
 * The merge request could not be opened or updated. `existing` is the branch's request when
 * the forge had shown one (an earlier delivery's), so the local record can still link it.
 */
export class MergeRequestNotPublishedError extends JobPhaseFailedError {
  constructor(
    failureCode: FailureCodeName,
    detail: string,
    readonly existing: MergeRequest | undefined,
  ) {
    super(failureCode, detail);
  }
}

/** The failure code a forge failure ends the job with. */
export function forgeFailureCode(failure: ForgeFailure): FailureCodeName {
  return FAILURE_CODES[failure];
}

/**
 * Opens the branch's merge request, or updates the open one — a re-run delivers to the first
 * job's branch, so its request is updated rather than duplicated. When the forge says a
 * request exists that the look-up did not find (another delivery opened it in between), the
 * request is looked up again and updated. A ForgeError becomes a
 * MergeRequestNotPublishedError with the code for its kind; its message, which may name the
 * forge's host and project, stays in the local log.
 */
export async function publishMergeRequest(forge: MergeRequestPublishing, draft: MergeRequestDraft, signal: AbortSignal): Promise<PublishedMergeRequest> {
  let existing: MergeRequest | undefined;
  try {
    existing = await forge.findOpen(draft.sourceBranch, signal);
    if (existing !== undefined) return { outcome: 'updated', mergeRequest: await forge.update(existing.number, draft, signal) };
    try {
      return { outcome: 'opened', mergeRequest: await forge.open(draft, signal) };
    } catch (error) {
      if (!(error instanceof ForgeError && error.failure === 'conflict')) throw error;
      existing = await forge.findOpen(draft.sourceBranch, signal);
      if (existing === undefined) throw new MergeRequestNotPublishedError(FailureCode.FORGE_REQUEST_REFUSED, 'the forge says the branch has a request, yet lists none open for it', undefined);
      return { outcome: 'updated', mergeRequest: await forge.update(existing.number, draft, signal) };
    }
  } catch (error) {
    if (error instanceof ForgeError) throw new MergeRequestNotPublishedError(forgeFailureCode(error.failure), `forge request failed (${error.failure}): ${error.message}`, existing);
    throw error;
  }
}
