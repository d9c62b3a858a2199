import { DomainError } from '../../common/domain.error';

/**
 * The identity provider refused the sign-in or gave an answer that does not hold up: an
 * error on the callback (e.g. consent denied), a code it would not redeem (used already,
 * expired), or tokens or claims that fail their checks.
 */
export class OidcFailedError extends DomainError {
  override readonly name = 'OidcFailedError';
  readonly code = 'OIDC_FAILED';

  constructor(readonly reason: string) {
    super('the sign-in at the identity provider did not succeed; try again');
  }
}
