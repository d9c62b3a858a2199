import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
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
    const line = Buffer.from(`${JSON.stringify({ jobId, attempt })}\n`, 'utf8');
    const sizeBefore = fstatSync(this.fd).size;
    try {
      let written = 0;
      while (written < line.length) written += writeSync(this.fd, line, written);
      fsyncSync(this.fd);
    } catch (error) {
      // Cut off whatever part of the line reached the file, so the next append starts clean.
      try {
        ftruncateSync(this.fd, sizeBefore);
      } catch {
        // If even that fails, the partial line stays last and the next open ignores it.
      }
      throw error;
    }
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
    const temporaryPath = `${this.filePath}.tmp`;
    const temporaryFd = openSync(temporaryPath, 'w', 0o600);
    try {
      let text = '';
      for (const key of this.attempts) {
        const [jobId, attempt] = key.split('#') as [string, string];
        text += `${JSON.stringify({ jobId, attempt: Number(attempt) })}\n`;
      }
      const bytes = Buffer.from(text, 'utf8');
      let written = 0;
      while (written < bytes.length) written += writeSync(temporaryFd, bytes, written);
      fsyncSync(temporaryFd);
    } finally {
      closeSync(temporaryFd);
    }
    renameSync(temporaryPath, this.filePath);
    this.close();
    const directoryFd = openSync(dirname(this.filePath), 'r');
    try {
      fsyncSync(directoryFd);
    } finally {
      closeSync(directoryFd);
    }
    this.fd = openSync(this.filePath, 'a', 0o600);
    this.linesInFile = this.attempts.size;
  }
}

function keyOf(jobId: string, attempt: number): string {
  return `${jobId}#${attempt}`;
}

function readKeys(filePath: string): string[] {
  let text: string;
  try {
    text = readFileSync(filePath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const keys: string[] = [];
  lines.forEach((line, index) => {
    const key = parseLine(line);
    if (key !== undefined) keys.push(key);
    else if (index !== lines.length - 1) throw new AttemptLedgerCorruptError(filePath, index + 1);
  });
  return keys;
}

function parseLine(line: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { jobId, attempt } = value as Record<string, unknown>;
  if (typeof jobId !== 'string' || !UUID.test(jobId) || typeof attempt !== 'number' || !Number.isSafeInteger(attempt) || attempt < 1) return undefined;
  return keyOf(jobId, attempt);
}
