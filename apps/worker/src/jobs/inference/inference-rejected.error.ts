import { FailureCode } from '@airlock/protocol';
import { JobError } from '../job.error';

/** Raised when an inference endpoint refused the request (4xx): trying another will not help. */
export class InferenceRejectedError extends JobError {
  override readonly name = 'InferenceRejectedError';
  readonly code = 'INFERENCE_FAILED';
  override readonly failureCode = FailureCode.INFERENCE_FAILED;

  constructor(
    readonly status: number,
    readonly requests: number,
  ) {
    super(`inference request rejected (${status})`);
  }
}
