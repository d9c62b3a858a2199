/**
 * Raised when a model proposes an edit outside the worktree (absolute, `..`, `.git/`, or
 * through a symlink), or to the repository's `.airlock.yml` (which names the test command).
 */
export class EditPathRejectedError extends Error {
  override readonly name = 'EditPathRejectedError';
  readonly code = 'EDIT_PATH_REJECTED';

  constructor(readonly reason: 'absolute' | 'parent-segment' | 'git-dir' | 'repo-config' | 'outside-worktree' | 'not-a-file') {
    super(`edit path rejected: ${reason}`);
  }
}
