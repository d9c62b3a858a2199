/**
 * Raised when opening the egress audit log finds damage that an interrupted append cannot
 * explain: a broken line that is followed by a newline (so not a torn tail), a chain that
 * does not continue from the previous segment, or a line longer than any the worker writes.
 * The worker does not start on such a log: appending to it would bury evidence of tampering.
 */
export class EgressAuditLogCorruptError extends Error {
  override readonly name = 'EgressAuditLogCorruptError';
  readonly code = 'EGRESS_AUDIT_LOG_CORRUPT';

  constructor(
    readonly file: string,
    /** `line 5`, or `its last line` when only the end of the file was read. */
    readonly location: string,
    readonly reason: string,
  ) {
    super(
      `egress audit log ${file} is corrupt at ${location} (${reason}). This is not an append cut short by a crash ` +
        '(those are moved aside automatically), so the worker will not add to this log. Keep the files for investigation ' +
        '(`airlock-worker audit verify` reports the break), move every egress-audit* file out of the state directory, ' +
        'and start the worker again to begin a new chain.',
    );
  }
}
