import { DomainError } from './domain.error';

/** The request body is not UTF-8 JSON. The parser's own message is not passed on: it quotes the body. */
export class MalformedJsonError extends DomainError {
  override readonly name = 'MalformedJsonError';
  readonly code = 'MALFORMED_JSON';

  constructor(expected: string) {
    super(`body: expected ${expected}`);
  }
}
