import { DomainError } from '../common/domain.error';

/** No valid credentials on the request. Says nothing about why, on purpose. */
export class UnauthenticatedError extends DomainError {
  override readonly name = 'UnauthenticatedError';
  readonly code = 'UNAUTHENTICATED';

  constructor(message = 'log in (session cookie) or send a valid API token (Authorization: Bearer alt_…)') {
    super(message);
  }
}
