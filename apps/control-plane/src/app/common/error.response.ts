import { ApiProperty } from '@nestjs/swagger';
import type { DomainErrorCode } from './domain.error';
import type { ErrorResponseBody } from './domain-error.filter';

/** The body of every error response, for the OpenAPI document. */
export class ErrorResponse implements ErrorResponseBody {
  @ApiProperty({ example: 400 }) statusCode!: number;
  @ApiProperty({ description: 'A stable code, e.g. INVALID_REQUEST, JOB_NOT_FOUND, JOB_ALREADY_FINISHED, DATABASE_UNAVAILABLE, INTERNAL' })
  code!: DomainErrorCode | 'INTERNAL';
  @ApiProperty({ example: 'ticket: expected an object' }) message!: string;
}
