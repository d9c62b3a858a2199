import { NonceLedger } from './nonce-ledger';
import type { NonceStore, NonceStoreOptions } from './nonce-store';

/**
 * A nonce store held in memory only: replays are caught until the process restarts. Use
 * `FileNonceStore` in a worker; this one suits tests and short-lived tools.
 *
 * Expired entries are pruned as time passes. The store is bounded (`maxEntries`, default
 * 100 000); when it is full of nonces that have not expired yet it refuses new ones
 * (`remember` returns false, which the verifier reports as a replay). It fails closed on
 * purpose: evicting a live nonce to make room would let that instruction be replayed,
 * whereas refusing only delays work that an honest control plane, bounded by the
 * worker's credits, never sends at that rate.
 */
export class MemoryNonceStore implements NonceStore {
  private readonly ledger: NonceLedger;

  constructor(
    private readonly clock: () => number,
    options: NonceStoreOptions = {},
  ) {
    this.ledger = new NonceLedger(options);
  }

  /** {@inheritDoc NonceStore.remember} */
  remember(nonceHex: string, expiresAtMs: number): boolean {
    if (this.ledger.admit(nonceHex, expiresAtMs, this.clock()) !== 'fresh') return false;
    this.ledger.record(nonceHex, expiresAtMs);
    return true;
  }
}
