/**
 * Raised when the attempt ledger is damaged in a way a crash cannot explain (a bad line
 * before the last one). Opening it fails closed: guessing which attempts were lost could
 * let a finished attempt run again.
 */
export class AttemptLedgerCorruptError extends Error {
  override readonly name = 'AttemptLedgerCorruptError';
  readonly code = 'ATTEMPT_LEDGER_CORRUPT';

  constructor(
    readonly filePath: string,
    readonly lineNumber: number,
  ) {
    super(`attempt ledger ${filePath} is corrupt at line ${lineNumber}: expected {"jobId": a UUID, "attempt": a positive integer}`);
  }
}
