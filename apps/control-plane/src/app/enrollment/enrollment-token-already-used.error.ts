import { DomainError } from '../common/domain.error';

/** The token already enrolled a worker; revoking the token would not undo that. */
export class EnrollmentTokenAlreadyUsedError extends DomainError {
  override readonly name = 'EnrollmentTokenAlreadyUsedError';
  readonly code = 'ENROLLMENT_TOKEN_ALREADY_USED';

  constructor(tokenId: string, workerId: string | null) {
    super(`enrollment token ${tokenId} was already used${workerId ? ` to enroll worker ${workerId}` : ''}; revoke the worker instead (POST /api/v1/workers/{id}/revoke)`);
  }
}
