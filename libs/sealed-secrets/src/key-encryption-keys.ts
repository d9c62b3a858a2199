import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { InvalidKekError, SealedValueTamperedError, UnknownKekError } from './sealed-secret.errors';

/** A data key wrapped under one key-encryption key. */
export interface WrappedDataKey {
  readonly kekId: string;
  /** Opaque to the sealer: whatever the provider needs to unwrap it again. */
  readonly wrappedKey: Buffer;
}

/**
 * Where key-encryption keys (KEKs) live: wraps a data key under the active KEK and unwraps
 * one under any KEK it still holds. The local implementation below keeps the KEKs in memory,
 * read from files or the environment; a KMS (AWS KMS `Encrypt`/`Decrypt` with `context` as
 * the encryption context, Vault transit `encrypt`/`decrypt` with `context` as its context)
 * implements the same interface without the KEK ever leaving it, which is why both methods
 * are asynchronous. None is built here.
 */
export interface KeyEncryptionKeys {
  /** The KEK new values are sealed under. */
  readonly activeKekId: string;
  /** Every KEK this provider unwraps with, the active one first; the others are rotated out. */
  readonly kekIds: readonly string[];
  /**
   * Wraps `dataKey` under the active KEK. `context` is authenticated with it: unwrapping with
   * any other context fails.
   */
  wrap(dataKey: Buffer, context: Buffer): Promise<WrappedDataKey>;
  /**
   * Unwraps a data key. Throws UnknownKekError for a KEK it does not hold, and
   * SealedValueTamperedError when the wrapped key or the context do not authenticate.
   */
  unwrap(kekId: string, wrappedKey: Buffer, context: Buffer): Promise<Buffer>;
}

/** A KEK is 256 bits. */
export const KEK_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** What a KEK id may look like, in the sealed format and in messages. */
export const KEK_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * The id of a local KEK, derived from the key so that operators never name keys by hand and
 * a value sealed under another key is told apart at once: `kek_` and 16 hex characters of
 * SHA-256 over a label and the key. A one-way fingerprint of 256 random bits reveals nothing.
 */
export function localKekId(key: Buffer): string {
  return `kek_${createHash('sha256').update('airlock-kek-id:v1\0').update(key).digest('hex').slice(0, 16)}`;
}

/**
 * KEKs held in this process: one active (seals), any number of previous ones (still unseal,
 * so that a rotation needs no downtime). Data keys are wrapped with AES-256-GCM under the KEK,
 * the KEK id and the caller's context authenticated as additional data.
 */
export class LocalKeyEncryptionKeys implements KeyEncryptionKeys {
  readonly activeKekId: string;
  readonly kekIds: readonly string[];
  // An ES private field: neither JSON.stringify nor util.inspect (a logged object) shows it.
  readonly #keys: ReadonlyMap<string, Buffer>;

  constructor(active: Buffer, previous: readonly Buffer[] = []) {
    const keys = new Map<string, Buffer>();
    for (const key of [active, ...previous]) {
      if (key.length !== KEK_BYTES) throw new InvalidKekError(`a key-encryption key must be ${KEK_BYTES} bytes, not ${key.length}`);
      // The same key listed twice (active and previous during a rotation's first step) is one key.
      keys.set(localKekId(key), Buffer.from(key));
    }
    this.#keys = keys;
    this.activeKekId = localKekId(active);
    this.kekIds = [...keys.keys()];
  }

  async wrap(dataKey: Buffer, context: Buffer): Promise<WrappedDataKey> {
    const kek = this.#keys.get(this.activeKekId) as Buffer;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', kek, iv);
    cipher.setAAD(wrapAad(this.activeKekId, context));
    const wrapped = Buffer.concat([iv, cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
    return { kekId: this.activeKekId, wrappedKey: wrapped };
  }

  async unwrap(kekId: string, wrappedKey: Buffer, context: Buffer): Promise<Buffer> {
    const kek = this.#keys.get(kekId);
    if (!kek) throw new UnknownKekError(kekId, this.kekIds);
    if (wrappedKey.length <= IV_BYTES + TAG_BYTES) throw new SealedValueTamperedError(`the wrapped data key under ${kekId} is too short: the sealed value was altered`);
    const iv = wrappedKey.subarray(0, IV_BYTES);
    const tag = wrappedKey.subarray(wrappedKey.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', kek, iv);
    decipher.setAAD(wrapAad(kekId, context));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(wrappedKey.subarray(IV_BYTES, wrappedKey.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new SealedValueTamperedError(`the wrapped data key does not authenticate under ${kekId}: the sealed value was altered, or belongs to another field or row`);
    }
  }
}

function wrapAad(kekId: string, context: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`airlock-kek-wrap:v1\0${kekId}\0`), context]);
}
