import { DomainError } from '../common/domain.error';

/** No enrollment token with that id in the caller's tenant (another tenant's token is "not found" too). */
export class EnrollmentTokenNotFoundError extends DomainError {
  override readonly name = 'EnrollmentTokenNotFoundError';
  readonly code = 'ENROLLMENT_TOKEN_NOT_FOUND';

  constructor(tokenId: string) {
    super(`enrollment token ${tokenId} not found`);
  }
}
