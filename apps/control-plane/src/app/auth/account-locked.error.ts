import { DomainError } from '../common/domain.error';

/** Too many wrong passwords in a row: the account takes no password until the lock ends. */
export class AccountLockedError extends DomainError {
  override readonly name = 'AccountLockedError';
  readonly code = 'ACCOUNT_LOCKED';
  override readonly retryAfterSeconds: number;

  constructor(lockedUntil: Date, now: Date) {
    const secondsLeft = Math.max(1, Math.ceil((lockedUntil.getTime() - now.getTime()) / 1_000));
    const minutesLeft = Math.ceil(secondsLeft / 60);
    super(`this account is locked after too many wrong passwords; try again in ${minutesLeft} minute${minutesLeft === 1 ? '' : 's'}`);
    this.retryAfterSeconds = secondsLeft;
  }
}
