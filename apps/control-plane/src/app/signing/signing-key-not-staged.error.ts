import type { SigningKeyState } from '@airlock/data-access';
import { DomainError } from '../common/domain.error';

/** Only a STAGED key can be activated: the ACTIVE one signs already, a RETIRED one never signs again. */
export class SigningKeyNotStagedError extends DomainError {
  override readonly name = 'SigningKeyNotStagedError';
  readonly code = 'SIGNING_KEY_NOT_STAGED';

  constructor(keyId: string, state: Exclude<SigningKeyState, 'STAGED'>) {
    super(`signing key ${keyId} is ${state}, not STAGED; only a staged key can be activated (POST /api/v1/signing-keys stages one)`);
  }
}
