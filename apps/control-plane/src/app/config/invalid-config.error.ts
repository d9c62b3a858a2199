/** The environment does not describe a valid configuration. Raised once, at boot. */
export class InvalidConfigError extends Error {
  override readonly name = 'InvalidConfigError';
  readonly code = 'INVALID_CONFIG';

  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}
