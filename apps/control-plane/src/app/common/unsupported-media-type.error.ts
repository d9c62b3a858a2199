import { DomainError } from './domain.error';

/** A request body in a form the API does not read (not JSON, or compressed). */
export class UnsupportedMediaTypeError extends DomainError {
  override readonly name = 'UnsupportedMediaTypeError';
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';

  constructor(header: 'content-type' | 'content-encoding', expected: string) {
    super(`${header}: expected ${expected}`);
  }
}
