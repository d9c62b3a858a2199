/** Remembers instruction nonces until the instructions carrying them can no longer verify. */
export interface NonceStore {
  /**
   * Records the nonce; returns false if it was already recorded (a replay).
   *
   * @param nonceHex the nonce as lowercase hex.
   * @param expiresAtMs Unix milliseconds after which an instruction carrying this nonce can
   *   no longer pass verification, so the store may forget it.
   */
  remember(nonceHex: string, expiresAtMs: number): boolean;
}

/** Options shared by the nonce stores. */
export interface NonceStoreOptions {
  /**
   * Most nonces held at once. When the store is full of nonces that have not expired it
   * refuses new ones (see `MemoryNonceStore`).
   * @default 100_000
   */
  maxEntries?: number;
}

/** Default bound on remembered nonces: far above what a worker with ≤ 64 slots receives in one validity window. */
export const DEFAULT_MAX_NONCE_ENTRIES = 100_000;
