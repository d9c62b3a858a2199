import { DomainError } from '../common/domain.error';

/** The change would leave the tenant without an enabled ADMIN, and nobody could manage people again. */
export class LastAdminError extends DomainError {
  override readonly name = 'LastAdminError';
  readonly code = 'LAST_ADMIN';

  constructor() {
    super('this is the last enabled ADMIN of the organisation: make another person ADMIN first');
  }
}
