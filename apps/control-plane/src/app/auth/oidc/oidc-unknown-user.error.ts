import { DomainError } from '../../common/domain.error';

/** A verified email nobody here has, while AIRLOCK_OIDC_NEW_USER_ROLE is unset: only people an admin added may sign in. */
export class OidcUnknownUserError extends DomainError {
  override readonly name = 'OidcUnknownUserError';
  readonly code = 'OIDC_UNKNOWN_USER';

  constructor() {
    super('nobody with your email address has been added to Airlock; ask an admin of your organisation to add you');
  }
}
