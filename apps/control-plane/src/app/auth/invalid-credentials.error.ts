import { DomainError } from '../common/domain.error';

/**
 * A login with an unknown email or a wrong password. Both get this same error, so that the
 * answer does not tell whether an account exists.
 */
export class InvalidCredentialsError extends DomainError {
  override readonly name = 'InvalidCredentialsError';
  readonly code = 'INVALID_CREDENTIALS';

  constructor() {
    super('the email or the password is wrong');
  }
}
