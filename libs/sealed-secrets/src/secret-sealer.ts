import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { KEK_ID_PATTERN, type KeyEncryptionKeys } from './key-encryption-keys';
import { SealedValueMalformedError, SealedValueTamperedError, WrongPurposeError } from './sealed-secret.errors';

/** Every sealed value starts with this; the version follows. */
export const SEALED_PREFIX = 'airlock-sealed:';
const V1 = 'v1';
const DATA_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const PURPOSE_TAG_BYTES = 8;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** The parts of a sealed value's header, which are not secret. */
export interface SealedHeader {
  readonly version: 'v1';
  readonly kekId: string;
}

/** Whether `text` claims to be a sealed value (it may still be malformed). */
export function isSealedValue(text: string): boolean {
  return text.startsWith(SEALED_PREFIX);
}

/** The version and KEK id of a sealed value, without opening it. */
export function sealedHeader(sealed: string): SealedHeader {
  const { version, kekId } = parse(sealed);
  return { version, kekId };
}

/**
 * Envelope encryption of small secrets (private keys, API tokens) into one line of text:
 *
 *     airlock-sealed:v1:<kekId>:<purposeTag>:<wrappedDataKey>:<payload>
 *
 * Each value gets a fresh 256-bit data key; the secret is sealed with AES-256-GCM under the
 * data key (`payload` = IV ‖ ciphertext ‖ tag), and the data key is wrapped under the active
 * KEK by the KeyEncryptionKeys provider. The fields after the version are base64url. The
 * purpose (which field of which row, e.g. `signing-key:sk_…`) is authenticated in both layers,
 * so a value copied to another field or row does not open there; `purposeTag`, a short hash of
 * the purpose, only lets that refusal say so rather than "altered". Rewrapping after a KEK
 * rotation replaces the wrapped data key and leaves the payload as it is.
 */
export class SecretSealer {
  constructor(private readonly keys: KeyEncryptionKeys) {}

  /** The KEK new values are sealed under. */
  get activeKekId(): string {
    return this.keys.activeKekId;
  }

  /** Every KEK this sealer opens values under, the active one first. */
  get kekIds(): readonly string[] {
    return this.keys.kekIds;
  }

  /** Seals `plaintext` for `purpose`. */
  async seal(purpose: string, plaintext: string | Buffer): Promise<string> {
    const dataKey = randomBytes(DATA_KEY_BYTES);
    try {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', dataKey, iv);
      cipher.setAAD(payloadAad(purpose));
      const payload = Buffer.concat([iv, cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext), cipher.final(), cipher.getAuthTag()]);
      const wrapped = await this.keys.wrap(dataKey, wrapContext(purpose));
      return format(wrapped.kekId, purpose, wrapped.wrappedKey, payload);
    } finally {
      dataKey.fill(0);
    }
  }

  /** Opens a value sealed for `purpose` under any KEK the provider holds. */
  async unseal(purpose: string, sealed: string): Promise<Buffer> {
    const parts = parse(sealed);
    checkPurpose(parts.purposeTag, purpose);
    const dataKey = await this.keys.unwrap(parts.kekId, parts.wrappedKey, wrapContext(purpose));
    try {
      if (dataKey.length !== DATA_KEY_BYTES) throw new SealedValueTamperedError(`the data key under ${parts.kekId} is not ${DATA_KEY_BYTES} bytes: the sealed value was altered`);
      const { payload } = parts;
      const decipher = createDecipheriv('aes-256-gcm', dataKey, payload.subarray(0, IV_BYTES));
      decipher.setAAD(payloadAad(purpose));
      decipher.setAuthTag(payload.subarray(payload.length - TAG_BYTES));
      try {
        return Buffer.concat([decipher.update(payload.subarray(IV_BYTES, payload.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new SealedValueTamperedError(`the sealed value for "${purpose}" does not authenticate: it was altered`);
      }
    } finally {
      dataKey.fill(0);
    }
  }

  /** unseal, as UTF-8 text. */
  async unsealText(purpose: string, sealed: string): Promise<string> {
    return (await this.unseal(purpose, sealed)).toString('utf8');
  }

  /** Whether a sealed value is under another KEK than the active one. */
  needsRewrap(sealed: string): boolean {
    return parse(sealed).kekId !== this.keys.activeKekId;
  }

  /**
   * The same secret under the active KEK: only the data key is unwrapped and wrapped again,
   * the payload is kept byte for byte. A value already under the active KEK is returned as is.
   */
  async rewrap(purpose: string, sealed: string): Promise<string> {
    const parts = parse(sealed);
    checkPurpose(parts.purposeTag, purpose);
    if (parts.kekId === this.keys.activeKekId) return sealed;
    const dataKey = await this.keys.unwrap(parts.kekId, parts.wrappedKey, wrapContext(purpose));
    try {
      const wrapped = await this.keys.wrap(dataKey, wrapContext(purpose));
      return format(wrapped.kekId, purpose, wrapped.wrappedKey, parts.payload);
    } finally {
      dataKey.fill(0);
    }
  }
}

interface SealedParts {
  readonly version: 'v1';
  readonly kekId: string;
  readonly purposeTag: Buffer;
  readonly wrappedKey: Buffer;
  readonly payload: Buffer;
}

function format(kekId: string, purpose: string, wrappedKey: Buffer, payload: Buffer): string {
  return [SEALED_PREFIX + V1, kekId, purposeTag(purpose).toString('base64url'), wrappedKey.toString('base64url'), payload.toString('base64url')].join(':');
}

function parse(sealed: string): SealedParts {
  if (!isSealedValue(sealed)) throw new SealedValueMalformedError(`expected a sealed value starting with "${SEALED_PREFIX}"`);
  const fields = sealed.slice(SEALED_PREFIX.length).split(':');
  const [version, kekId, tag, wrapped, payload] = fields;
  if (version !== V1) throw new SealedValueMalformedError(`expected a sealed value of version ${V1}; this one says ${JSON.stringify((version ?? '').slice(0, 8))}`);
  if (fields.length !== 5 || kekId === undefined || !KEK_ID_PATTERN.test(kekId) || tag === undefined || wrapped === undefined || payload === undefined) {
    throw new SealedValueMalformedError(`expected ${SEALED_PREFIX}${V1}:<kekId>:<purposeTag>:<wrappedDataKey>:<payload>`);
  }
  const parts = { version: V1, kekId, purposeTag: decode(tag, 'purposeTag'), wrappedKey: decode(wrapped, 'wrappedDataKey'), payload: decode(payload, 'payload') } as const;
  if (parts.purposeTag.length !== PURPOSE_TAG_BYTES) throw new SealedValueMalformedError(`expected a purposeTag of ${PURPOSE_TAG_BYTES} bytes`);
  if (parts.payload.length < IV_BYTES + TAG_BYTES) throw new SealedValueMalformedError(`expected a payload of at least ${IV_BYTES + TAG_BYTES} bytes`);
  return parts;
}

// Strict: base64url has several spellings of the same bytes (the unused bits of the last
// character), and a value that decodes the same after an edit must still count as altered.
function decode(text: string, field: string): Buffer {
  const bytes = BASE64URL.test(text) ? Buffer.from(text, 'base64url') : undefined;
  if (!bytes || bytes.toString('base64url') !== text) throw new SealedValueMalformedError(`expected ${field} in canonical base64url`);
  return bytes;
}

function checkPurpose(tag: Buffer, purpose: string): void {
  if (!purposeTag(purpose).equals(tag)) throw new WrongPurposeError(purpose);
}

function checkedPurpose(purpose: string): string {
  if (purpose === '' || purpose.includes('\0')) throw new SealedValueMalformedError('expected a purpose of at least one character and no NUL');
  return purpose;
}

function purposeTag(purpose: string): Buffer {
  return createHash('sha256').update(`airlock-sealed-purpose:v1\0${checkedPurpose(purpose)}`).digest().subarray(0, PURPOSE_TAG_BYTES);
}

function payloadAad(purpose: string): Buffer {
  return Buffer.from(`airlock-sealed:v1\0payload\0${checkedPurpose(purpose)}`);
}

function wrapContext(purpose: string): Buffer {
  return Buffer.from(`airlock-sealed:v1\0data-key\0${checkedPurpose(purpose)}`);
}
