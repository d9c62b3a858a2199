/** Raised when a model proposes an edit outside the worktree (absolute, `..`, `.git/`, or through a symlink). */
export class EditPathRejectedError extends Error {
  override readonly name = 'EditPathRejectedError';
  readonly code = 'EDIT_PATH_REJECTED';

  constructor(readonly reason: 'absolute' | 'parent-segment' | 'git-dir' | 'outside-worktree' | 'not-a-file') {
    super(`edit path rejected: ${reason}`);
  }
}
