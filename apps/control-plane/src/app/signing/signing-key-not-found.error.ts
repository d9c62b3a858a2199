import { DomainError } from '../common/domain.error';

/** No instruction-signing key with that id, in any state. */
export class SigningKeyNotFoundError extends DomainError {
  override readonly name = 'SigningKeyNotFoundError';
  readonly code = 'SIGNING_KEY_NOT_FOUND';

  constructor(keyId: string) {
    super(`signing key ${keyId} not found; GET /api/v1/signing-keys lists the keys`);
  }
}
