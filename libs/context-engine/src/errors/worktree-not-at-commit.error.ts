/**
 * Raised when the caller names a commit but the worktree's HEAD is another: an index for
 * one commit built from another's files would be cached under the wrong name.
 */
export class WorktreeNotAtCommitError extends Error {
  override readonly name = 'WorktreeNotAtCommitError';
  readonly code = 'CONTEXT_WORKTREE_NOT_AT_COMMIT';

  constructor(
    readonly expectedCommit: string,
    readonly headCommit: string,
  ) {
    super(`context engine: the worktree is at ${headCommit}, not at the requested commit ${expectedCommit}`);
  }
}
