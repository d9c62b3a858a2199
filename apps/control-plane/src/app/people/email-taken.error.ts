import { DomainError } from '../common/domain.error';

/** Emails are unique across every tenant: the login form has no tenant field. */
export class EmailTakenError extends DomainError {
  override readonly name = 'EmailTakenError';
  readonly code = 'EMAIL_TAKEN';

  constructor() {
    super('email: another account has this email already');
  }
}
