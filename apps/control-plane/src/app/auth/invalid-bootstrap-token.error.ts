import { DomainError } from '../common/domain.error';

/** The bootstrap route's token is not a live API token holding people:write. */
export class InvalidBootstrapTokenError extends DomainError {
  override readonly name = 'InvalidBootstrapTokenError';
  readonly code = 'INVALID_BOOTSTRAP_TOKEN';

  constructor() {
    super('bootstrapToken: expected the live bootstrap admin token (alt_…, from the file the first start wrote)');
  }
}
