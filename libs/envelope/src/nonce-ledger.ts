import { DEFAULT_MAX_NONCE_ENTRIES, type NonceStoreOptions } from './nonce-store';

/** Whether a nonce may be recorded now. */
export type NonceAdmission = 'fresh' | 'replayed' | 'full';

const NONCE_HEX = /^(?:[0-9a-f]{2}){1,64}$/;

// A full scan drops expired entries. It runs only when something has expired, and then
// at most once per interval unless the ledger is full, so steady traffic costs O(1) per
// nonce on average instead of a scan per nonce.
const PRUNE_INTERVAL_MS = 10_000;

/** The in-memory, bounded set of live nonces behind both nonce stores. */
export class NonceLedger {
  private readonly expiries = new Map<string, number>();
  private readonly maxEntries: number;
  private earliestExpiryMs = Number.POSITIVE_INFINITY;
  private lastPruneAtMs = Number.NEGATIVE_INFINITY;

  constructor(options: NonceStoreOptions) {
    const maxEntries = options.maxEntries ?? DEFAULT_MAX_NONCE_ENTRIES;
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`maxEntries: expected a positive integer, got ${maxEntries}`);
    }
    this.maxEntries = maxEntries;
  }

  /** Entries held, including expired ones not pruned yet. */
  get size(): number {
    return this.expiries.size;
  }

  /** Decides whether `nonceHex` may be recorded at `nowMs`, pruning if due. */
  admit(nonceHex: string, expiresAtMs: number, nowMs: number): NonceAdmission {
    assertNonceInput(nonceHex, expiresAtMs);
    const knownUntil = this.expiries.get(nonceHex);
    if (knownUntil !== undefined && knownUntil > nowMs) return 'replayed';
    this.pruneIfDue(nowMs);
    if (!this.expiries.has(nonceHex) && this.expiries.size >= this.maxEntries) return 'full';
    return 'fresh';
  }

  /** Records a nonce without any check (after `admit` said fresh, or when loading). */
  record(nonceHex: string, expiresAtMs: number): void {
    this.expiries.set(nonceHex, Math.max(expiresAtMs, this.expiries.get(nonceHex) ?? expiresAtMs));
    this.earliestExpiryMs = Math.min(this.earliestExpiryMs, expiresAtMs);
  }

  /** Drops every entry that has expired at `nowMs`. */
  prune(nowMs: number): void {
    let earliest = Number.POSITIVE_INFINITY;
    for (const [nonceHex, expiresAtMs] of this.expiries) {
      if (expiresAtMs <= nowMs) this.expiries.delete(nonceHex);
      else earliest = Math.min(earliest, expiresAtMs);
    }
    this.earliestExpiryMs = earliest;
    this.lastPruneAtMs = nowMs;
  }

  /** The entries held, oldest first. */
  entries(): IterableIterator<[string, number]> {
    return this.expiries.entries();
  }

  private pruneIfDue(nowMs: number): void {
    if (nowMs < this.earliestExpiryMs) return;
    if (this.expiries.size < this.maxEntries && nowMs - this.lastPruneAtMs < PRUNE_INTERVAL_MS) return;
    this.prune(nowMs);
  }
}

function assertNonceInput(nonceHex: string, expiresAtMs: number): void {
  if (typeof nonceHex !== 'string' || !NONCE_HEX.test(nonceHex)) {
    throw new RangeError('nonceHex: expected 1..64 bytes as lowercase hex');
  }
  if (!Number.isSafeInteger(expiresAtMs)) {
    throw new RangeError('expiresAtMs: expected integer Unix milliseconds');
  }
}
