/**
 * Raised when git could not say what the worktree's commit holds (`rev-parse`, `ls-tree`
 * or `check-attr` failed, or printed something unreadable). Without the listing nothing can be indexed;
 * the caller decides whether to fall back to no context or fail the job.
 */
export class GitListingFailedError extends Error {
  override readonly name = 'GitListingFailedError';
  readonly code = 'CONTEXT_GIT_LISTING_FAILED';

  /** @param step which git call failed. */
  constructor(
    readonly step: 'rev-parse' | 'ls-tree' | 'check-attr',
    readonly reason: string,
    options?: { readonly cause?: unknown },
  ) {
    super(`context engine: git ${step} failed: ${reason}`, options);
  }
}
