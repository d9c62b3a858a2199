import { DomainError } from '../common/domain.error';

/** A rotation stages one key at a time: the staged one must be activated before another is staged. */
export class SigningKeyAlreadyStagedError extends DomainError {
  override readonly name = 'SigningKeyAlreadyStagedError';
  readonly code = 'SIGNING_KEY_ALREADY_STAGED';

  constructor(stagedKeyId: string) {
    super(`signing key ${stagedKeyId} is staged already; pin it on every worker and activate it (POST /api/v1/signing-keys/${stagedKeyId}/activate) before staging another`);
  }
}
