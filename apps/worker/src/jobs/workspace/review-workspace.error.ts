import { FailureCode } from '@airlock/protocol';
import { JobError } from '../job.error';

/** A merge request's branches or head commit, as the forge named them, are not what the repository holds. */
export class ReviewWorkspaceError extends JobError {
  override readonly name = 'ReviewWorkspaceError';
  override readonly failureCode = FailureCode.WORKSPACE_FAILED;
}
