import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { WIRE_LIMITS } from '@airlock/protocol';
import { InvalidSigningKeyError } from './invalid-signing-key.error';

/** An Ed25519 key pair for signing instructions, with the id workers pin it under. */
export interface SigningKeyPair {
  /** `sk_` followed by the first 16 hex characters of SHA-256 of the raw public key. */
  keyId: string;
  /** Raw 32-byte Ed25519 public key, as it travels in `SigningPublicKey.public_key`. */
  publicKey: Buffer;
  /** The private key as PKCS#8 PEM. */
  privateKeyPem: string;
}

/** Generates a fresh Ed25519 signing key pair. */
export function generateSigningKeyPair(): SigningKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const rawPublicKey = rawPublicKeyOf(publicKey);
  return {
    keyId: signingKeyIdOf(rawPublicKey),
    publicKey: rawPublicKey,
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}

/**
 * The id of a signing key, derived from the key itself so that a worker's pinned id and
 * key cannot silently disagree.
 */
export function signingKeyIdOf(rawPublicKey: Buffer): string {
  assertRawPublicKey(rawPublicKey);
  return `sk_${createHash('sha256').update(rawPublicKey).digest('hex').slice(0, 16)}`;
}

/**
 * The raw 32-byte public key of an Ed25519 key given as SPKI public-key PEM or as PKCS#8
 * private-key PEM (the public half is derived).
 *
 * @throws InvalidSigningKeyError when the PEM does not hold an unencrypted Ed25519 key.
 */
export function rawPublicKeyFromPem(pem: string): Buffer {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new InvalidSigningKeyError('expected an Ed25519 key as SPKI public-key PEM or unencrypted PKCS#8 private-key PEM');
  }
  assertEd25519(key);
  return rawPublicKeyOf(key);
}

/** The raw 32 bytes of an Ed25519 public key object. */
export function rawPublicKeyOf(publicKey: KeyObject): Buffer {
  const { x } = publicKey.export({ format: 'jwk' });
  if (x === undefined) throw new InvalidSigningKeyError('expected an Ed25519 public key');
  return Buffer.from(x, 'base64url');
}

/**
 * Imports a raw Ed25519 public key.
 *
 * @throws InvalidSigningKeyError when the bytes are not a usable 32-byte Ed25519 key.
 */
export function publicKeyFromRaw(rawPublicKey: Buffer): KeyObject {
  assertRawPublicKey(rawPublicKey);
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: rawPublicKey.toString('base64url') }, format: 'jwk' });
  } catch {
    throw new InvalidSigningKeyError('expected a valid raw Ed25519 public key');
  }
}

/** @throws InvalidSigningKeyError when the key is not an Ed25519 key. */
export function assertEd25519(key: KeyObject): void {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new InvalidSigningKeyError(`expected an Ed25519 key, got ${key.asymmetricKeyType ?? 'a symmetric key'}`);
  }
}

function assertRawPublicKey(rawPublicKey: Buffer): void {
  if (!Buffer.isBuffer(rawPublicKey) || rawPublicKey.length !== WIRE_LIMITS.ed25519PublicKeyBytes) {
    throw new InvalidSigningKeyError(`expected a raw Ed25519 public key of ${WIRE_LIMITS.ed25519PublicKeyBytes} bytes`);
  }
}
