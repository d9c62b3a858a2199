/** Raised when a repository's git token cannot be read or opened, or cannot travel in a header. Names where the token is, never the token. */
export class GitCredentialsUnreadableError extends Error {
  override readonly name = 'GitCredentialsUnreadableError';
  readonly code = 'GIT_CREDENTIALS_UNREADABLE';

  constructor(reason: string) {
    super(`the repository's git credentials cannot be used: ${reason}`);
  }
}
