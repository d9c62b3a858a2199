import { closeSync, openSync } from 'node:fs';
import { appendDurably, readJsonLines, rewriteDurably } from '@airlock/durable-file';
import { NonceLedger } from './nonce-ledger';
import type { NonceStore, NonceStoreOptions } from './nonce-store';
import { NonceStoreCorruptError } from './nonce-store-corrupt.error';

interface NonceLine {
  nonce: string;
  expiresAtMs: number;
}

/** Options of a `FileNonceStore`. */
export interface FileNonceStoreOptions extends NonceStoreOptions {
  /**
   * The file is rewritten without expired entries once it holds at least this many lines
   * and twice as many as there are live nonces: it stays small on a worker that runs for
   * months, and each rewrite is paid for by at least as many appends as it keeps.
   * @default 10_000
   */
  minLinesBeforeCompaction?: number;
}

/**
 * A nonce store that survives restarts, so an instruction captured before a worker
 * restart cannot be replayed after it.
 *
 * The file is JSON lines, one `{"nonce","expiresAtMs"}` per remembered nonce. Each
 * `remember` appends its line and fsyncs before returning true, so a nonce the worker
 * acted on is on disk. `open` loads the file, drops expired entries and rewrites it
 * atomically (temporary file, fsync, rename, fsync of the directory); the same
 * compaction runs while the store is open once the file has grown. A corrupt last line is
 * the trace of a crash in the middle of an append whose `remember` never returned, so it
 * is ignored; a corrupt line anywhere else makes `open` throw `NonceStoreCorruptError`.
 *
 * A full disk is survived: a failed append is cut back off the file (so the next append
 * starts on a fresh line) and `remember` throws, refusing that instruction; a compaction
 * that cannot write its new file keeps the old one. Once space returns the store works
 * again without a restart.
 *
 * Bounded like `MemoryNonceStore` (refuses new nonces when full of live ones). Only one
 * process may use a file at a time: two would not see each other's nonces.
 */
export class FileNonceStore implements NonceStore {
  private fd: number | undefined;
  private linesInFile = 0;
  private compactAtLines: number;

  private constructor(
    private readonly filePath: string,
    private readonly clock: () => number,
    private readonly ledger: NonceLedger,
    private readonly minLinesBeforeCompaction: number,
  ) {
    this.compactAtLines = minLinesBeforeCompaction;
  }

  /**
   * Opens (creating if absent) the nonce file at `filePath` and compacts it. The
   * directory must exist.
   *
   * @throws NonceStoreCorruptError when a line other than the last is unreadable.
   */
  static open(filePath: string, clock: () => number, options: FileNonceStoreOptions = {}): FileNonceStore {
    const minLinesBeforeCompaction = options.minLinesBeforeCompaction ?? 10_000;
    if (!Number.isSafeInteger(minLinesBeforeCompaction) || minLinesBeforeCompaction < 1) {
      throw new RangeError(`minLinesBeforeCompaction: expected a positive integer, got ${minLinesBeforeCompaction}`);
    }
    const ledger = new NonceLedger(options);
    for (const line of readNonceLines(filePath)) ledger.record(line.nonce, line.expiresAtMs);
    const store = new FileNonceStore(filePath, clock, ledger, minLinesBeforeCompaction);
    store.compact(clock());
    return store;
  }

  /**
   * {@inheritDoc NonceStore.remember}
   *
   * @throws when the nonce cannot be written to disk: the instruction must not run then,
   *   since its nonce would not survive a restart.
   */
  remember(nonceHex: string, expiresAtMs: number): boolean {
    if (this.fd === undefined) throw new Error(`FileNonceStore ${this.filePath} is closed (or failed to write)`);
    const nowMs = this.clock();
    if (this.ledger.admit(nonceHex, expiresAtMs, nowMs) !== 'fresh') return false;
    // If a failed append cannot even be cut back off, close: appending after a partial line
    // would corrupt the file mid-way, while a partial last line is ignored by the next open.
    appendDurably(this.fd, serialize([[nonceHex, expiresAtMs]]), () => this.close());
    this.ledger.record(nonceHex, expiresAtMs);
    this.linesInFile += 1;
    if (this.linesInFile >= this.compactAtLines) this.compact(nowMs);
    return true;
  }

  /** Closes the file. `remember` throws afterwards. */
  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }

  private compact(nowMs: number): void {
    this.ledger.prune(nowMs);
    try {
      rewriteDurably(this.filePath, serialize(this.ledger.entries()));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      // No room for the rewrite: keep appending to the old file (it only holds more
      // expired lines than needed) and try again at the next threshold.
      this.fd ??= openSync(this.filePath, 'a', 0o600);
      this.compactAtLines = this.linesInFile + this.minLinesBeforeCompaction;
      return;
    }
    // The old descriptor points at the replaced file; appends through it would be lost.
    this.close();
    this.fd = openSync(this.filePath, 'a', 0o600);
    this.linesInFile = this.ledger.size;
    this.compactAtLines = Math.max(this.minLinesBeforeCompaction, 2 * this.ledger.size);
  }
}

function readNonceLines(filePath: string): NonceLine[] {
  return readJsonLines(filePath, parseNonceLine, (lineNumber) => {
    throw new NonceStoreCorruptError(filePath, lineNumber);
  });
}

function parseNonceLine(value: unknown): NonceLine | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { nonce, expiresAtMs } = value as Record<string, unknown>;
  if (typeof nonce !== 'string' || !/^[0-9a-f]+$/.test(nonce) || typeof expiresAtMs !== 'number' || !Number.isSafeInteger(expiresAtMs)) {
    return undefined;
  }
  return { nonce, expiresAtMs };
}

function serialize(entries: Iterable<[string, number]>): Buffer {
  let text = '';
  for (const [nonce, expiresAtMs] of entries) text += `${JSON.stringify({ nonce, expiresAtMs })}\n`;
  return Buffer.from(text, 'utf8');
}
