/** Raised when `.airlock.yml` is missing or invalid. `field` is logged locally only; upstream sees the code. */
export class RepoConfigInvalidError extends Error {
  override readonly name = 'RepoConfigInvalidError';
  readonly code = 'REPO_CONFIG_INVALID';

  constructor(
    readonly field: string,
    readonly expected: string,
  ) {
    super(`.airlock.yml ${field || '(file)'}: expected ${expected}`);
  }
}
