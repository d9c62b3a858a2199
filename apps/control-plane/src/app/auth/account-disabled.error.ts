import { DomainError } from '../common/domain.error';

/** The right password for an account an admin disabled. Only said once the password is proven. */
export class AccountDisabledError extends DomainError {
  override readonly name = 'AccountDisabledError';
  readonly code = 'ACCOUNT_DISABLED';

  constructor() {
    super('this account is disabled; an admin of your organisation can enable it again');
  }
}
