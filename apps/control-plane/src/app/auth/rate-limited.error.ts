import { DomainError } from '../common/domain.error';

/** Too many login or bootstrap attempts from one address, or too many password checks at once. */
export class RateLimitedError extends DomainError {
  override readonly name = 'RateLimitedError';
  readonly code = 'RATE_LIMITED';
  override readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number, what: string) {
    super(`${what}; try again in ${retryAfterSeconds} second${retryAfterSeconds === 1 ? '' : 's'}`);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
