import { type ArgumentsHost, Catch, type ExceptionFilter, HttpStatus } from '@nestjs/common';
import { DomainError, type DomainErrorCode } from './domain.error';

const HTTP_STATUS_BY_CODE: Record<DomainErrorCode, HttpStatus> = {
  UNAUTHENTICATED: HttpStatus.UNAUTHORIZED,
  JOB_NOT_FOUND: HttpStatus.NOT_FOUND,
  INVALID_JOB_REQUEST: HttpStatus.BAD_REQUEST,
};

/** The slice of the platform response this filter uses (no express types installed). */
interface JsonResponse {
  status(code: number): { json(body: unknown): void };
}

/** The one place domain errors become HTTP responses: `{statusCode, code, message}`. */
@Catch(DomainError)
export class DomainErrorFilter implements ExceptionFilter<DomainError> {
  catch(error: DomainError, host: ArgumentsHost): void {
    const status = HTTP_STATUS_BY_CODE[error.code];
    host.switchToHttp().getResponse<JsonResponse>().status(status).json({ statusCode: status, code: error.code, message: error.message });
  }
}
