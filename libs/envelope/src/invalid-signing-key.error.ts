/**
 * Raised when key material handed to the envelope library is not what it must be: not an
 * Ed25519 key, not 32 raw bytes, or labelled with a key id that does not match the key.
 * The message names the problem, never the key material.
 */
export class InvalidSigningKeyError extends Error {
  override readonly name = 'InvalidSigningKeyError';
  readonly code = 'INVALID_SIGNING_KEY';
}
