import { DomainError } from '../../common/domain.error';

/** The identity provider's discovery document could not be read: it is down or unreachable from the control plane. */
export class OidcUnavailableError extends DomainError {
  override readonly name = 'OidcUnavailableError';
  readonly code = 'OIDC_UNAVAILABLE';

  constructor(override readonly retryAfterSeconds: number) {
    super('the identity provider cannot be reached right now; try again in a moment, or sign in with your password');
  }
}
