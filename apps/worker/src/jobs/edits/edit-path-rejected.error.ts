import { FailureCode } from '@airlock/protocol';
import { JobError } from '../job.error';

/**
 * Raised when a model proposes an edit outside the worktree (absolute, `..`, `.git/`, or
 * through a symlink), or to the repository's `.airlock.yml` (which names the test command).
 * The whole answer is refused: PATCH_APPLY_FAILED.
 */
export class EditPathRejectedError extends JobError {
  override readonly name = 'EditPathRejectedError';
  readonly code = 'EDIT_PATH_REJECTED';
  override readonly failureCode = FailureCode.PATCH_APPLY_FAILED;

  constructor(readonly reason: 'absolute' | 'parent-segment' | 'git-dir' | 'repo-config' | 'outside-worktree' | 'not-a-file') {
    super(`edit path rejected: ${reason}`);
  }
}
