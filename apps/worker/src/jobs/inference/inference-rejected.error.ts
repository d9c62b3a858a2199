import { FailureCode } from '@airlock/protocol';
import { JobError } from '../job.error';
import type { EndpointUsage } from './conversation';

/** Raised when an inference endpoint refused the request (4xx): trying another will not help. */
export class InferenceRejectedError extends JobError {
  override readonly name = 'InferenceRejectedError';
  readonly code = 'INFERENCE_FAILED';
  override readonly failureCode = FailureCode.INFERENCE_FAILED;

  /** Requests sent, the refused one included. */
  readonly requests: number;

  /** `usage`: the requests sent to each endpoint asked, in configured order, the refusing one last. */
  constructor(
    readonly status: number,
    readonly usage: readonly EndpointUsage[],
  ) {
    super(`inference request rejected (${status})`);
    this.requests = usage.reduce((sum, entry) => sum + entry.requests, 0);
  }
}
