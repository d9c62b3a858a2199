/** Raised when `jobs show` is asked for a job or attempt the records folder does not hold (never kept, or removed by retention). */
export class JobRecordNotFoundError extends Error {
  override readonly name = 'JobRecordNotFoundError';
  readonly code = 'JOB_RECORD_NOT_FOUND';

  constructor(
    readonly id: string,
    readonly recordsDirectory: string,
  ) {
    super(`no job record for ${JSON.stringify(id)} in ${recordsDirectory}: records are kept per attempt as <jobId>-<attempt>, and removed after records.maxAge or past records.maxBytes (see \`jobs list\`)`);
  }
}
