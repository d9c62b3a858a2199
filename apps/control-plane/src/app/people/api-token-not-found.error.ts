import { DomainError } from '../common/domain.error';

/** No such API token in the caller's tenant (another tenant's tokens are not found either). */
export class ApiTokenNotFoundError extends DomainError {
  override readonly name = 'ApiTokenNotFoundError';
  readonly code = 'API_TOKEN_NOT_FOUND';

  constructor(tokenId: string) {
    super(`no API token ${tokenId}`);
  }
}
