import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { DataAccess, type SigningKeyRecord } from '@airlock/data-access';
import { generateSigningKeyPair, type InstructionSigningKey } from '@airlock/envelope';
import type { SecretSealer } from '@airlock/sealed-secrets';
import { sealAtRest } from '../secrets/sealed-at-rest';
import { SECRET_SEALER } from '../secrets/secret-sealer.provider';

/** What a signing key's private key is sealed for: the key's own row and column, so a sealed value moved to another row does not open. */
export function signingKeyPurpose(keyId: string): string {
  return `control-plane/signing-key/${keyId}/private-key`;
}

/** The control plane's instruction-signing keys, loaded once at start. */
@Injectable()
export class SigningKeyService {
  private readonly logger = new Logger('SigningKeys');
  private keys: readonly SigningKeyRecord[] = [];

  constructor(
    private readonly data: DataAccess,
    @Optional() @Inject(SECRET_SEALER) private readonly sealer: SecretSealer | null = null,
  ) {}

  /**
   * Loads the active keys, generating the first one on the very first start, and brings every
   * stored private key in line with the configured KEKs (docs/security.md#secrets-at-rest):
   * plain ones sealed, ones under a previous KEK rewrapped under the active one.
   */
  async load(): Promise<void> {
    const candidate = generateSigningKeyPair();
    const stored = this.sealer ? await this.sealer.seal(signingKeyPurpose(candidate.keyId), candidate.privateKeyPem) : candidate.privateKeyPem;
    const active = await this.data.signingKeys.ensureActive(() => ({ ...candidate, privateKeyPem: stored }));
    const rows = (await this.data.signingKeys.listStoredPrivateKeys()).map((key) => ({ id: key.keyId, stored: key.privateKeyPem }));
    const { plaintext, report } = await sealAtRest(rows, this.sealer, signingKeyPurpose, (keyId, expected, next) =>
      this.data.signingKeys.replaceStoredPrivateKey(keyId, expected, next),
    );
    this.keys = active.map((key) => ({ ...key, privateKeyPem: plaintext.get(key.keyId) ?? key.privateKeyPem }));
    if (this.sealer) {
      this.logger.log({ event: 'signing_keys_sealed_at_rest', activeKekId: this.sealer.activeKekId, keys: rows.length, ...report });
    } else {
      this.logger.warn({ event: 'signing_keys_unsealed_at_rest', keys: rows.length, note: 'set AIRLOCK_KEK_FILE to seal them (docs/security.md#secrets-at-rest)' });
    }
  }

  /** Public halves of the active keys: what operators pin in worker config. */
  publicKeys(): { keyId: string; publicKey: Buffer }[] {
    return this.keys.map((key) => ({ keyId: key.keyId, publicKey: key.publicKey }));
  }

  /** The key that signs new instructions: the newest active one. */
  currentSigner(): InstructionSigningKey {
    const newest = this.keys[this.keys.length - 1];
    if (!newest) throw new Error('signing keys are not loaded yet');
    return { keyId: newest.keyId, privateKeyPem: newest.privateKeyPem };
  }
}
