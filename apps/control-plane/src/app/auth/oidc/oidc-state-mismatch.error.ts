import { DomainError } from '../../common/domain.error';

/**
 * The callback's state is not the one this browser's sign-in attempt started with, or the
 * attempt cookie is missing, expired or forged: the callback did not come from a sign-in this
 * browser began (a forged or replayed link, or a second sign-in in another tab in between).
 */
export class OidcStateMismatchError extends DomainError {
  override readonly name = 'OidcStateMismatchError';
  readonly code = 'OIDC_STATE_MISMATCH';

  constructor(reason: string) {
    super(`the single sign-on answer does not belong to a sign-in this browser started (${reason}); start again from the login page`);
  }
}
