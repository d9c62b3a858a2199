import type { DatabaseClient } from '../database-client';
import { toBytesColumn } from './bytes';

/** An instruction-signing key pair of the control plane. */
export interface SigningKeyRecord {
  readonly keyId: string;
  readonly publicKey: Buffer;
  /** Unsealed PKCS#8 PEM: sealing at rest is a known gap, see the schema. */
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
}
