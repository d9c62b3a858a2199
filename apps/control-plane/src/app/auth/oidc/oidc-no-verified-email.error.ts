import { DomainError } from '../../common/domain.error';

/**
 * The identity provider's account is linked to nobody here and offers no verified email to
 * match or create one by: an unverified email could be anyone's, so it never links.
 */
export class OidcNoVerifiedEmailError extends DomainError {
  override readonly name = 'OidcNoVerifiedEmailError';
  readonly code = 'OIDC_NO_VERIFIED_EMAIL';

  constructor() {
    super('the identity provider did not vouch for your email address (email_verified); verify it there, or ask an admin');
  }
}
