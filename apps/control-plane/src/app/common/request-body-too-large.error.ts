import { DomainError } from './domain.error';

/** The request body is larger than any valid request of this API can be. */
export class RequestBodyTooLargeError extends DomainError {
  override readonly name = 'RequestBodyTooLargeError';
  readonly code = 'REQUEST_BODY_TOO_LARGE';

  constructor(maxBytes: number) {
    super(`body: expected at most ${maxBytes} bytes`);
  }
}
