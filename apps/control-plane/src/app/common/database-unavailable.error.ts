import { DomainError } from './domain.error';

/** How long clients are asked to wait after a database outage; long enough for a failover. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * PostgreSQL is down, unreachable or out of connections. Transient: the request may be
 * repeated later. Says nothing about where the database is.
 */
export class DatabaseUnavailableError extends DomainError {
  override readonly name = 'DatabaseUnavailableError';
  readonly code = 'DATABASE_UNAVAILABLE';
  override readonly retryAfterSeconds = DATABASE_RETRY_AFTER_SECONDS;

  constructor() {
    super('the database is unavailable; try again later');
  }
}
