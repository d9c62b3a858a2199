/**
 * Raised for a request or limits the engine cannot honour: a commit that is not a full
 * object id, an empty repository id, a limit that is not a positive whole number. Names
 * the field and what it expects, never the value.
 */
export class ContextRequestInvalidError extends Error {
  override readonly name = 'ContextRequestInvalidError';
  readonly code = 'CONTEXT_REQUEST_INVALID';

  constructor(
    readonly field: string,
    readonly expected: string,
  ) {
    super(`context engine: ${field} must be ${expected}`);
  }
}
