import { type ArgumentsHost, Catch, type ExceptionFilter, Injectable, Logger } from '@nestjs/common';
import { DomainErrorFilter } from '../../common/domain-error.filter';
import { DomainError, type DomainErrorCode } from '../../common/domain.error';
import { OidcLoginService } from './oidc-login.service';
import { OidcFailedError } from './oidc-failed.error';

/**
 * Refusals a browser meets in the middle of a single sign-on, a top-level navigation with no
 * script to read a JSON answer: they send it back to the login page, which says what happened.
 */
export const OIDC_REDIRECTED_CODES: ReadonlySet<DomainErrorCode> = new Set<DomainErrorCode>([
  'OIDC_STATE_MISMATCH',
  'OIDC_FAILED',
  'OIDC_NO_VERIFIED_EMAIL',
  'OIDC_UNKNOWN_USER',
  'OIDC_UNAVAILABLE',
  'OIDC_ACCOUNT_LINKED_ELSEWHERE',
  'ACCOUNT_DISABLED',
  'RATE_LIMITED',
]);

/** The slice of the platform response this filter uses. */
interface RedirectResponse {
  setHeader(name: string, value: string | string[]): unknown;
  status(code: number): { end(): void };
}

/** The login page, told why the sign-in did not work. */
export function loginPageWithError(code: string): string {
  return `/login?error=${encodeURIComponent(code)}`;
}

/**
 * The single sign-on routes' errors: a refusal in OIDC_REDIRECTED_CODES is a 302 to
 * `/login?error=<CODE>` that also drops the attempt cookie, logged with its code (and, for
 * OIDC_FAILED, why: never a code, a token or the provider's whole answer). A malformed `next`
 * or a control plane without single sign-on answers JSON like every route (400, 404); any other
 * error is a bug, logged by name, and the browser still lands on the login page (OIDC_FAILED).
 */
@Catch()
@Injectable()
export class OidcRedirectFilter implements ExceptionFilter {
  private readonly logger = new Logger('Oidc');
  private readonly jsonErrors = new DomainErrorFilter();

  constructor(private readonly logins: OidcLoginService) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (exception instanceof DomainError && !OIDC_REDIRECTED_CODES.has(exception.code)) {
      this.jsonErrors.catch(exception, host);
      return;
    }
    let code: DomainErrorCode = 'OIDC_FAILED';
    if (exception instanceof DomainError) {
      code = exception.code;
      this.logger.warn({ event: 'oidc_login_failed', code, ...(exception instanceof OidcFailedError ? { reason: exception.reason } : {}) });
    } else {
      this.logger.error({ event: 'oidc_login_failed', code, error: exception instanceof Error ? exception.name : typeof exception });
    }
    const response = host.switchToHttp().getResponse<RedirectResponse>();
    const clearAttempt = this.logins.clearAttempt();
    if (clearAttempt) response.setHeader('Set-Cookie', clearAttempt);
    response.setHeader('Cache-Control', 'no-store');
    response.setHeader('Location', loginPageWithError(code));
    response.status(302).end();
  }
}
