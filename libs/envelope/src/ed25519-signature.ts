import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { WIRE_LIMITS } from '@airlock/protocol';
import { InvalidSigningKeyError } from './invalid-signing-key.error';
import { assertEd25519, publicKeyFromRaw, rawPublicKeyOf, signingKeyIdOf } from './signing-key-pair';

/** A parsed private key with the id of its public half. */
export interface LoadedSigningKey {
  readonly privateKey: KeyObject;
  readonly keyId: string;
}

// Parsing a PKCS#8 PEM costs about ten times as much as the signature itself, and the
// control plane signs every instruction with the same few keys, so parsed keys are kept.
// The bound only guards against a caller cycling through many keys; it is never reached
// in normal use, so evicting the oldest entry is good enough.
const MAX_LOADED_KEYS = 16;
const loadedKeys = new Map<string, LoadedSigningKey>();

/**
 * Parses (once) a PKCS#8 PEM Ed25519 private key.
 *
 * @throws InvalidSigningKeyError when the PEM does not hold an unencrypted Ed25519 private key.
 */
export function loadSigningKey(privateKeyPem: string): LoadedSigningKey {
  const cached = loadedKeys.get(privateKeyPem);
  if (cached) return cached;
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(privateKeyPem);
  } catch {
    throw new InvalidSigningKeyError('expected an Ed25519 private key as unencrypted PKCS#8 PEM');
  }
  assertEd25519(privateKey);
  const loaded = { privateKey, keyId: signingKeyIdOf(rawPublicKeyOf(createPublicKey(privateKey))) };
  if (loadedKeys.size >= MAX_LOADED_KEYS) {
    const oldest = loadedKeys.keys().next();
    if (!oldest.done) loadedKeys.delete(oldest.value);
  }
  loadedKeys.set(privateKeyPem, loaded);
  return loaded;
}

/**
 * Signs a message with an Ed25519 private key given as PKCS#8 PEM.
 *
 * @returns the 64-byte signature.
 * @throws InvalidSigningKeyError when the PEM does not hold an Ed25519 private key.
 */
export function signBytes(privateKeyPem: string, message: Buffer): Buffer {
  return sign(null, message, loadSigningKey(privateKeyPem).privateKey);
}

/**
 * Checks an Ed25519 signature against a raw 32-byte public key. Every input may come from
 * the network, so anything malformed (wrong lengths, a key that does not import, a
 * non-buffer) is a failed verification, never an exception.
 */
export function verifyBytes(rawPublicKey: Buffer, message: Buffer, signature: Buffer): boolean {
  let publicKey: KeyObject;
  try {
    publicKey = publicKeyFromRaw(rawPublicKey);
  } catch {
    return false;
  }
  return verifyWithKey(publicKey, message, signature);
}

/** Like `verifyBytes`, with a public key already imported. Never throws. */
export function verifyWithKey(publicKey: KeyObject, message: Buffer, signature: Buffer): boolean {
  if (!Buffer.isBuffer(message) || !Buffer.isBuffer(signature) || signature.length !== WIRE_LIMITS.ed25519SignatureBytes) {
    return false;
  }
  try {
    return verify(null, message, publicKey, signature);
  } catch {
    return false;
  }
}
