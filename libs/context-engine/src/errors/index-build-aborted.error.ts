/**
 * Raised when the caller's AbortSignal fires while an index is built or a query read:
 * the job was cancelled. Nothing half-built is cached. (Running out of the time budget is
 * not an error: the index comes back partial and says so.)
 */
export class IndexBuildAbortedError extends Error {
  override readonly name = 'IndexBuildAbortedError';
  readonly code = 'CONTEXT_INDEX_ABORTED';

  constructor(options?: { readonly cause?: unknown }) {
    super('context engine: aborted by the caller', options);
  }
}
