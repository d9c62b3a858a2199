import { DomainError } from '../../common/domain.error';

/** A single sign-on route on a control plane where AIRLOCK_OIDC_ISSUER is not set. */
export class OidcNotConfiguredError extends DomainError {
  override readonly name = 'OidcNotConfiguredError';
  readonly code = 'OIDC_NOT_CONFIGURED';

  constructor() {
    super('single sign-on is not set up on this control plane (AIRLOCK_OIDC_ISSUER); sign in with your email and password');
  }
}
