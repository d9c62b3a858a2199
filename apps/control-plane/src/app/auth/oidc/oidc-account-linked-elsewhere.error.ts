import { DomainError } from '../../common/domain.error';

/**
 * The verified email belongs to a person already linked to another identity-provider account
 * (another subject or issuer): linking a second one would let either take the account over.
 */
export class OidcAccountLinkedElsewhereError extends DomainError {
  override readonly name = 'OidcAccountLinkedElsewhereError';
  readonly code = 'OIDC_ACCOUNT_LINKED_ELSEWHERE';

  constructor() {
    super('the Airlock account with your email address is linked to another identity-provider account; ask an admin');
  }
}
