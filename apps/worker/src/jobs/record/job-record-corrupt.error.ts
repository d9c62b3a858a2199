/**
 * Raised when a job record's `record.json` or `transcript.jsonl` cannot be read as the
 * worker writes it: not JSON, a field missing or of the wrong kind, or a damaged line before
 * the last one (a crash can only leave the last one torn). Names the file and what is wrong.
 */
export class JobRecordCorruptError extends Error {
  override readonly name = 'JobRecordCorruptError';
  readonly code = 'JOB_RECORD_CORRUPT';

  constructor(
    readonly filePath: string,
    readonly problem: string,
  ) {
    super(`job record ${filePath} is corrupt: ${problem}`);
  }
}
