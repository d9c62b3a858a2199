/**
 * Raised by `EgressAuditLog.append` when a line could not be recorded. The log is left as
 * it was before the call (a partly written line is cut off again), so the chain stays intact
 * and the frame must not be sent.
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
