import { Injectable } from '@nestjs/common';
import { DataAccess, type SigningKeyRecord } from '@airlock/data-access';
import { generateSigningKeyPair, type InstructionSigningKey } from '@airlock/envelope';

/** The control plane's instruction-signing keys, loaded once at start. */
@Injectable()
export class SigningKeyService {
  private keys: readonly SigningKeyRecord[] = [];

  constructor(private readonly data: DataAccess) {}

  /** Loads the active keys, generating the first one on the very first start. */
  async load(): Promise<void> {
    this.keys = await this.data.signingKeys.ensureActive(() => generateSigningKeyPair());
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
