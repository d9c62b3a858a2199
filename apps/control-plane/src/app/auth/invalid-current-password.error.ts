import { DomainError } from '../common/domain.error';

/** A password change whose currentPassword is wrong. Counts towards the account's lock. */
export class InvalidCurrentPasswordError extends DomainError {
  override readonly name = 'InvalidCurrentPasswordError';
  readonly code = 'INVALID_CURRENT_PASSWORD';

  constructor() {
    super('currentPassword: expected your current password');
  }
}
