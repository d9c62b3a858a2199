import { DomainError } from '../common/domain.error';

/** No such person in the caller's tenant (another tenant's people are not found either). */
export class UserNotFoundError extends DomainError {
  override readonly name = 'UserNotFoundError';
  readonly code = 'USER_NOT_FOUND';

  constructor(userId: string) {
    super(`no user ${userId}`);
  }
}
