/** Stable codes of the ways opening or sealing a secret can fail. */
export type SealedSecretErrorCode =
  | 'SEALED_VALUE_MALFORMED'
  | 'UNKNOWN_KEK'
  | 'WRONG_PURPOSE'
  | 'SEALED_VALUE_TAMPERED'
  | 'INVALID_KEK';

/**
 * Base of every sealed-secret failure. Messages name what is wrong (the KEK id, the purpose,
 * the file or variable) and never carry secret material: no plaintext, no key, no data key.
 */
export abstract class SealedSecretError extends Error {
  abstract readonly code: SealedSecretErrorCode;
}

/** The text is not a sealed value this library can read (prefix, version, or shape). */
export class SealedValueMalformedError extends SealedSecretError {
  override readonly name = 'SealedValueMalformedError';
  readonly code = 'SEALED_VALUE_MALFORMED' as const;
}

/** The value was sealed under a key-encryption key the provider does not hold. */
export class UnknownKekError extends SealedSecretError {
  override readonly name = 'UnknownKekError';
  readonly code = 'UNKNOWN_KEK' as const;

  constructor(
    readonly kekId: string,
    known: readonly string[],
  ) {
    super(`the sealed value was sealed under the key-encryption key ${kekId}, which is not configured (configured: ${known.join(', ') || 'none'}); add it as a previous key`);
  }
}

/** The value was sealed for another field or row than the one it is being opened for. */
export class WrongPurposeError extends SealedSecretError {
  override readonly name = 'WrongPurposeError';
  readonly code = 'WRONG_PURPOSE' as const;

  constructor(readonly expectedPurpose: string) {
    super(`the sealed value was not sealed for "${expectedPurpose}": it belongs to another field or row and is refused here`);
  }
}

/** Authentication failed: the value, its wrapped data key or its header was altered. */
export class SealedValueTamperedError extends SealedSecretError {
  override readonly name = 'SealedValueTamperedError';
  readonly code = 'SEALED_VALUE_TAMPERED' as const;
}

/** A key-encryption key could not be read or is not 32 bytes. */
export class InvalidKekError extends SealedSecretError {
  override readonly name = 'InvalidKekError';
  readonly code = 'INVALID_KEK' as const;
}
