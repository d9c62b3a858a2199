import { helloChallengeMessage } from '@airlock/protocol';
import { signBytes, verifyBytes } from './ed25519-signature';

/**
 * The worker's answer to a stream's `Challenge`: its Ed25519 signature over
 * `helloChallengeMessage(workerId, nonce)`.
 *
 * @throws InvalidSigningKeyError when the PEM does not hold an Ed25519 private key.
 */
export function helloSignature(privateKeyPem: string, workerId: string, nonce: Uint8Array): Buffer {
  return signBytes(privateKeyPem, helloChallengeMessage(workerId, nonce));
}

/**
 * Checks a `Hello.challenge_signature` against the worker's enrolled raw public key.
 * Never throws: any malformed input is a failed check.
 */
export function verifyHelloSignature(rawPublicKey: Buffer, workerId: string, nonce: Uint8Array, signature: Buffer): boolean {
  let message: Buffer;
  try {
    message = helloChallengeMessage(workerId, nonce);
  } catch {
    return false;
  }
  return verifyBytes(rawPublicKey, message, signature);
}
