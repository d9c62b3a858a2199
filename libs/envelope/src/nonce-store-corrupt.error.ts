/**
 * Raised when a nonce file is damaged in a way a crash cannot explain (a bad line before
 * the last one). Opening such a file fails closed: guessing which nonces were lost could
 * let an instruction be replayed.
 */
export class NonceStoreCorruptError extends Error {
  override readonly name = 'NonceStoreCorruptError';
  readonly code = 'NONCE_STORE_CORRUPT';

  constructor(
    readonly filePath: string,
    readonly lineNumber: number,
  ) {
    super(`nonce file ${filePath} is corrupt at line ${lineNumber}: expected {"nonce": lowercase hex, "expiresAtMs": integer}`);
  }
}
