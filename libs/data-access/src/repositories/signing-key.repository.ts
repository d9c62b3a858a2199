import type { DatabaseClient } from '../database-client';
import { toBytesColumn } from './bytes';

/** An instruction-signing key pair of the control plane. */
export interface SigningKeyRecord {
  readonly keyId: string;
  readonly publicKey: Buffer;
  /**
   * The PKCS#8 PEM as stored: a sealed value (`airlock-sealed:v1:…`, @airlock/sealed-secrets)
   * when the control plane has a key-encryption key, the PEM itself otherwise. Opening it is
   * the control plane's business, not this repository's.
   */
  readonly privateKeyPem: string;
  readonly createdAt: Date;
}

// Serialises first-start key generation across replicas.
const SIGNING_KEY_ADVISORY_LOCK = 4_177_001;

/** The control plane's instruction-signing keys. */
export class SigningKeyRepository {
  constructor(private readonly db: DatabaseClient) {}

  /** Keys that are not retired, oldest first; the newest one signs. */
  async listActive(): Promise<SigningKeyRecord[]> {
    const keys = await this.db.signingKey.findMany({ where: { retiredAt: null }, orderBy: { createdAt: 'asc' } });
    return keys.map((key) => ({ ...key, publicKey: Buffer.from(key.publicKey) }));
  }

  /**
   * Returns the active keys, first storing the one `generate` makes if there are none.
   * Replicas starting together agree on a single first key.
   */
  async ensureActive(generate: () => Omit<SigningKeyRecord, 'createdAt'>): Promise<SigningKeyRecord[]> {
    await this.db.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${SIGNING_KEY_ADVISORY_LOCK})`;
      if ((await tx.signingKey.count({ where: { retiredAt: null } })) > 0) return;
      const key = generate();
      await tx.signingKey.create({ data: { keyId: key.keyId, publicKey: toBytesColumn(key.publicKey), privateKeyPem: key.privateKeyPem } });
    });
    return this.listActive();
  }

  /** The stored private key of every key, retired ones included: what sealing at rest walks over. */
  async listStoredPrivateKeys(): Promise<{ keyId: string; privateKeyPem: string }[]> {
    return this.db.signingKey.findMany({ select: { keyId: true, privateKeyPem: true }, orderBy: { createdAt: 'asc' } });
  }

  /**
   * Replaces a key's stored private key only if it still is `expected`, and says whether it did.
   * Replicas booting together each seal or rewrap the same rows: whichever writes first wins,
   * the others find their compare failing and keep what is there, which opens just as well.
   */
  async replaceStoredPrivateKey(keyId: string, expected: string, next: string): Promise<boolean> {
    const { count } = await this.db.signingKey.updateMany({ where: { keyId, privateKeyPem: expected }, data: { privateKeyPem: next } });
    return count === 1;
  }
}
