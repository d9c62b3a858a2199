/**
 * Raised by `EgressAuditLog.write`, `commit` and `append` when lines could not be recorded.
 * The file is left ending with a whole line (a partly written line is cut off again; a
 * failed commit cuts off the lines it could not make durable), so the chain stays intact,
 * and the frames concerned must not be sent.
 */
export class EgressAuditAppendFailedError extends Error {
  override readonly name = 'EgressAuditAppendFailedError';
  readonly code = 'EGRESS_AUDIT_APPEND_FAILED';

  /**
   * @param reason the errno code of the failing file call (`ENOSPC`, `EIO`, …), or
   *   `LINE_TOO_LONG` / `CLOSED` / `UNKNOWN`. Never file content.
   */
  constructor(
    readonly reason: string,
    options?: { readonly cause?: unknown },
  ) {
    super(`egress audit append failed: ${reason}`, options);
  }
}
