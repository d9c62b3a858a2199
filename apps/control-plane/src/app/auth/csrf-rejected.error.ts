import { DomainError } from '../common/domain.error';

/**
 * A cookie-authenticated write without the session's CSRF token, or from another origin:
 * the browser may have been made to send it by another site.
 */
export class CsrfRejectedError extends DomainError {
  override readonly name = 'CsrfRejectedError';
  readonly code = 'CSRF_REJECTED';

  constructor(reason: string) {
    super(`${reason}: a request authenticated by the session cookie that changes something must send the session's CSRF token (X-CSRF-Token, from GET /api/v1/auth/session) from the dashboard's own origin`);
  }
}
