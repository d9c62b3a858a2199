import { DomainError } from '../common/domain.error';

/**
 * The tenant already holds the most event listeners this process keeps for one tenant.
 * Transient: listeners go away as their streams close.
 */
export class EventListenerLimitError extends DomainError {
  override readonly name = 'EventListenerLimitError';
  readonly code = 'EVENT_LISTENER_LIMIT_REACHED';
  override readonly retryAfterSeconds = 30;

  constructor(limit: number) {
    super(`this tenant already holds ${limit} live event listeners on this server; close some and try again`);
  }
}
