import { type ArgumentsHost, BadRequestException, Catch, type ExceptionFilter, HttpStatus, Logger, NotFoundException } from '@nestjs/common';
import { isDatabaseUnavailableError } from '@airlock/data-access';
import { DatabaseUnavailableError } from './database-unavailable.error';
import { DomainError, type DomainErrorCode } from './domain.error';
import { InvalidRequestError } from './invalid-request.error';
import { RouteNotFoundError } from './route-not-found.error';

const HTTP_STATUS_BY_CODE: Record<DomainErrorCode, HttpStatus> = {
  UNAUTHENTICATED: HttpStatus.UNAUTHORIZED,
  FORBIDDEN: HttpStatus.FORBIDDEN,
  INVALID_CREDENTIALS: HttpStatus.UNAUTHORIZED,
  ACCOUNT_LOCKED: HttpStatus.LOCKED,
  ACCOUNT_DISABLED: HttpStatus.UNAUTHORIZED,
  RATE_LIMITED: HttpStatus.TOO_MANY_REQUESTS,
  CSRF_REJECTED: HttpStatus.FORBIDDEN,
  ALREADY_BOOTSTRAPPED: HttpStatus.CONFLICT,
  INVALID_BOOTSTRAP_TOKEN: HttpStatus.UNAUTHORIZED,
  INVALID_CURRENT_PASSWORD: HttpStatus.BAD_REQUEST,
  OIDC_NOT_CONFIGURED: HttpStatus.NOT_FOUND,
  OIDC_UNAVAILABLE: HttpStatus.SERVICE_UNAVAILABLE,
  OIDC_STATE_MISMATCH: HttpStatus.BAD_REQUEST,
  OIDC_FAILED: HttpStatus.UNAUTHORIZED,
  OIDC_NO_VERIFIED_EMAIL: HttpStatus.FORBIDDEN,
  OIDC_UNKNOWN_USER: HttpStatus.FORBIDDEN,
  OIDC_ACCOUNT_LINKED_ELSEWHERE: HttpStatus.CONFLICT,
  USER_NOT_FOUND: HttpStatus.NOT_FOUND,
  EMAIL_TAKEN: HttpStatus.CONFLICT,
  LAST_ADMIN: HttpStatus.CONFLICT,
  API_TOKEN_NOT_FOUND: HttpStatus.NOT_FOUND,
  SCOPE_NOT_HELD: HttpStatus.FORBIDDEN,
  JOB_NOT_FOUND: HttpStatus.NOT_FOUND,
  JOB_ALREADY_FINISHED: HttpStatus.CONFLICT,
  JOB_NOT_RETRYABLE: HttpStatus.CONFLICT,
  TOO_MANY_EVENT_STREAMS: HttpStatus.TOO_MANY_REQUESTS,
  EVENT_LISTENER_LIMIT_REACHED: HttpStatus.TOO_MANY_REQUESTS,
  INVALID_JOB_REQUEST: HttpStatus.BAD_REQUEST,
  INVALID_REQUEST: HttpStatus.BAD_REQUEST,
  MALFORMED_JSON: HttpStatus.BAD_REQUEST,
  REQUEST_BODY_TOO_LARGE: HttpStatus.PAYLOAD_TOO_LARGE,
  UNSUPPORTED_MEDIA_TYPE: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  ROUTE_NOT_FOUND: HttpStatus.NOT_FOUND,
  DATABASE_UNAVAILABLE: HttpStatus.SERVICE_UNAVAILABLE,
  POLICY_NOT_FOUND: HttpStatus.NOT_FOUND,
  POLICY_VERSION_NOT_FOUND: HttpStatus.NOT_FOUND,
  POLICY_NAME_TAKEN: HttpStatus.CONFLICT,
  POLICY_LAYER_NOT_FOUND: HttpStatus.NOT_FOUND,
  POLICY_REVISION_NOT_FOUND: HttpStatus.NOT_FOUND,
  POLICY_BUNDLE_TOO_LARGE: HttpStatus.UNPROCESSABLE_ENTITY,
  WORKER_NOT_FOUND: HttpStatus.NOT_FOUND,
  WORKER_REVOKED: HttpStatus.CONFLICT,
  ENROLLMENT_TOKEN_NOT_FOUND: HttpStatus.NOT_FOUND,
  ENROLLMENT_TOKEN_ALREADY_USED: HttpStatus.CONFLICT,
  SIGNING_KEY_NOT_FOUND: HttpStatus.NOT_FOUND,
  SIGNING_KEY_ALREADY_STAGED: HttpStatus.CONFLICT,
  SIGNING_KEY_NOT_STAGED: HttpStatus.CONFLICT,
  PLATFORM_TENANT_ONLY: HttpStatus.FORBIDDEN,
};

/** Every error response of the REST API has this shape. */
export interface ErrorResponseBody {
  readonly statusCode: number;
  readonly code: DomainErrorCode | 'INTERNAL';
  readonly message: string;
}

/** The slice of the platform response this filter uses (no express types installed). */
interface JsonResponse {
  status(code: number): { json(body: unknown): void };
  setHeader(name: string, value: string): void;
}

/**
 * The one place errors become HTTP responses, `{statusCode, code, message}`. Domain errors
 * carry their code; the few framework and database errors a request can meet are first
 * translated into one. Anything else is a bug: 500 with a fixed message, logged by name
 * only, because messages of database errors may hold the database's address or ticket text.
 */
@Catch()
export class DomainErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<JsonResponse>();
    const error = toDomainError(exception);
    if (!error) {
      this.logger.error({ event: 'request_failed', error: exception instanceof Error ? exception.name : typeof exception });
      const body: ErrorResponseBody = { statusCode: HttpStatus.INTERNAL_SERVER_ERROR, code: 'INTERNAL', message: 'internal error' };
      response.status(body.statusCode).json(body);
      return;
    }
    if (error instanceof DatabaseUnavailableError) this.logger.warn({ event: 'database_unavailable' });
    if (error.retryAfterSeconds !== undefined) response.setHeader('Retry-After', String(error.retryAfterSeconds));
    const body: ErrorResponseBody = { statusCode: HTTP_STATUS_BY_CODE[error.code], code: error.code, message: error.message };
    response.status(body.statusCode).json(body);
  }
}

function toDomainError(exception: unknown): DomainError | null {
  if (exception instanceof DomainError) return exception;
  if (isDatabaseUnavailableError(exception)) return new DatabaseUnavailableError();
  // Nest's answer to an unmatched route.
  if (exception instanceof NotFoundException) return new RouteNotFoundError();
  // Express refusing a path it cannot decode (a bad %-escape) reaches us as this.
  if (exception instanceof BadRequestException) return new InvalidRequestError(['path: expected valid percent-encoding']);
  return null;
}
