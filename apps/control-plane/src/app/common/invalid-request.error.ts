import { DomainError } from './domain.error';

/**
 * A request whose body, query or path does not have the expected shape. Each problem
 * names the field and what was expected (`ticket: expected an object`); the message
 * lists them all, so a client can fix everything in one go.
 */
export class InvalidRequestError extends DomainError {
  override readonly name = 'InvalidRequestError';
  readonly code = 'INVALID_REQUEST';

  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
  }
}
