import { closeSync, openSync } from 'node:fs';
import { appendDurably, readJsonLines, rewriteDurably } from '@airlock/durable-file';
import { AttemptLedgerCorruptError } from './attempt-ledger-corrupt.error';

/** Options of an `AttemptLedger`. */
export interface AttemptLedgerOptions {
  /**
   * Most attempts remembered; past it the oldest are forgotten. A re-sent instruction
   * needs a fresh signature from the control plane's key, so this guards against a buggy
   * or compromised control plane re-running recent work, not against forgery.
   * @default 20_000
   */
  readonly maxEntries?: number;
}

const DEFAULT_MAX_ENTRIES = 20_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Every job attempt this worker accepted, so that the same job and attempt is never run
 * twice — not while it runs, not after it finished, not after a restart — even when the
 * control plane signs it again with a fresh nonce.
 *
 * The file is JSON lines, `{"jobId","attempt"}` each. `record` appends and fsyncs before it
 * returns, so an attempt that started is on disk; a failed append is cut back off, so the
 * file never holds a partial line that a later append would run into. A partial last line
 * (a crash mid-append) is ignored at open; an unreadable line elsewhere is an error. The
 * file is rewritten with the newest `maxEntries` once it holds twice that many lines.
 */
export class AttemptLedger {
  private linesInFile: number;

  private constructor(
    private readonly filePath: string,
    private fd: number | undefined,
    private readonly attempts: Set<string>,
    private readonly maxEntries: number,
  ) {
    this.linesInFile = attempts.size;
  }

  /**
   * Opens (creating if absent) the ledger at `filePath`; its directory must exist.
   * @throws AttemptLedgerCorruptError when a line other than the last is unreadable.
   */
  static open(filePath: string, options: AttemptLedgerOptions = {}): AttemptLedger {
    const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries: expected a positive integer, got ${maxEntries}`);
    const attempts = new Set<string>();
    for (const key of readKeys(filePath)) {
      attempts.delete(key); // re-insert: the Set's order is the order of recency
      attempts.add(key);
    }
    const ledger = new AttemptLedger(filePath, undefined, attempts, maxEntries);
    ledger.compact();
    return ledger;
  }

  /** Whether this attempt was accepted here before. */
  has(jobId: string, attempt: number): boolean {
    return this.attempts.has(keyOf(jobId, attempt));
  }

  /**
   * Records an attempt durably before it starts.
   * @throws when the disk refuses: the attempt must not start then, since a repeat of it
   *   could not be recognised after a restart.
   */
  record(jobId: string, attempt: number): void {
    if (this.fd === undefined) throw new Error(`attempt ledger ${this.filePath} is closed`);
    const key = keyOf(jobId, attempt);
    // If a failed append cannot even be cut back off, stop appending: the partial line then
    // stays last, which the next open ignores.
    appendDurably(this.fd, Buffer.from(`${JSON.stringify({ jobId, attempt })}\n`, 'utf8'), () => this.close());
    this.attempts.add(key);
    this.linesInFile += 1;
    if (this.attempts.size > this.maxEntries) this.attempts.delete(this.attempts.values().next().value as string);
    if (this.linesInFile >= 2 * this.maxEntries) this.compact();
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }

  private compact(): void {
    while (this.attempts.size > this.maxEntries) this.attempts.delete(this.attempts.values().next().value as string);
    let text = '';
    for (const key of this.attempts) {
      const [jobId, attempt] = key.split('#') as [string, string];
      text += `${JSON.stringify({ jobId, attempt: Number(attempt) })}\n`;
    }
    try {
      rewriteDurably(this.filePath, Buffer.from(text, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      // No room for the rewrite: keep appending to the old file and try again later.
      this.fd ??= openSync(this.filePath, 'a', 0o600);
      this.linesInFile = this.maxEntries;
      return;
    }
    // The old descriptor points at the replaced file; appends through it would be lost.
    this.close();
    this.fd = openSync(this.filePath, 'a', 0o600);
    this.linesInFile = this.attempts.size;
  }
}

function keyOf(jobId: string, attempt: number): string {
  return `${jobId}#${attempt}`;
}

function readKeys(filePath: string): string[] {
  return readJsonLines(filePath, parseEntry, (lineNumber) => {
    throw new AttemptLedgerCorruptError(filePath, lineNumber);
  });
}

function parseEntry(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { jobId, attempt } = value as Record<string, unknown>;
  if (typeof jobId !== 'string' || !UUID.test(jobId) || typeof attempt !== 'number' || !Number.isSafeInteger(attempt) || attempt < 1) return undefined;
  return keyOf(jobId, attempt);
}
