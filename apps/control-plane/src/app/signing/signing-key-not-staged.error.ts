import type { SigningKeyState } from '@airlock/data-access';
import { DomainError } from '../common/domain.error';

/**
 * Only a STAGED key can be activated or discarded: the ACTIVE one signs already, a RETIRED one
 * never signs again, and both signed what workers may still verify.
 */
export class SigningKeyNotStagedError extends DomainError {
  override readonly name = 'SigningKeyNotStagedError';
  readonly code = 'SIGNING_KEY_NOT_STAGED';

  constructor(keyId: string, state: Exclude<SigningKeyState, 'STAGED'>, action: 'activated' | 'discarded' = 'activated') {
    super(`signing key ${keyId} is ${state}, not STAGED; only a staged key can be ${action} (POST /api/v1/signing-keys stages one)`);
  }
}
