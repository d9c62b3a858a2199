import { DomainError } from '../common/domain.error';

/** No valid API token on the request. Says nothing about why, on purpose. */
export class UnauthenticatedError extends DomainError {
  override readonly name = 'UnauthenticatedError';
  readonly code = 'UNAUTHENTICATED';

  constructor() {
    super('a valid API token is required (Authorization: Bearer alt_…)');
  }
}
