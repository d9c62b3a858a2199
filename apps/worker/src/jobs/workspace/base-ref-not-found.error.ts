import { FailureCode } from '@airlock/protocol';
import { JobError } from '../job.error';

/** Raised when the base ref is not an allowed branch or does not resolve to a commit in the mirror. */
export class BaseRefNotFoundError extends JobError {
  override readonly name = 'BaseRefNotFoundError';
  readonly code = 'BASE_REF_NOT_FOUND';
  override readonly failureCode = FailureCode.WORKSPACE_FAILED;
}
