import { FailureCode } from '@airlock/protocol';
import { JobError } from '../job.error';

/** Raised when no configured inference endpoint could be reached or all answered 5xx. */
export class InferenceUnavailableError extends JobError {
  override readonly name = 'InferenceUnavailableError';
  readonly code = 'INFERENCE_UNAVAILABLE';
  override readonly failureCode = FailureCode.INFERENCE_UNAVAILABLE;

  constructor(readonly requests: number) {
    super(`no inference endpoint answered (${requests} tried)`);
  }
}
