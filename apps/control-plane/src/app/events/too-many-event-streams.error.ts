import { DomainError } from '../common/domain.error';

/**
 * The tenant already holds as many open event streams on this server as it may
 * (AIRLOCK_EVENTS_MAX_STREAMS). Transient: a slot frees as soon as a stream closes.
 */
export class TooManyEventStreamsError extends DomainError {
  override readonly name = 'TooManyEventStreamsError';
  readonly code = 'TOO_MANY_EVENT_STREAMS';
  override readonly retryAfterSeconds = 30;

  constructor(limit: number) {
    super(`this tenant already has ${limit} open event streams on this server; close one (another tab of the dashboard, say) and try again`);
  }
}
