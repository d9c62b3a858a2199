import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { isIPv4, isIPv6 } from 'node:net';
import { CLOCK, type Clock } from '../common/clock';
import { sourceIpOf, type AuthenticatedRequest } from './principal';
import { RateLimitedError } from './rate-limited.error';

/** Login and bootstrap attempts one source may make per window. */
export const LOGIN_ATTEMPTS_PER_WINDOW = 10;
export const LOGIN_WINDOW_MS = 60_000;
/**
 * Sources remembered at once. Beyond it the source seen longest ago is forgotten first: the
 * map stays bounded whatever the number of addresses, and forgetting lets a source at most
 * start afresh, which the per-account lock still bounds.
 */
const MAX_TRACKED_SOURCES = 10_000;

/**
 * The key a source is counted under: an IPv4 address as itself (also when it arrives
 * IPv4-mapped, `::ffff:a.b.c.d`), an IPv6 address by its /64, since one host usually holds a
 * whole /64 and could otherwise change address for every attempt.
 */
export function rateLimitKey(address: string | null): string {
  if (address === null) return 'unknown';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  if (isIPv4(address)) return address;
  const withoutZone = address.split('%')[0] ?? address;
  if (!isIPv6(withoutZone)) return address;
  const [head = '', tail] = withoutZone.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...headGroups, ...Array<string>(Math.max(0, 8 - headGroups.length - tailGroups.length)).fill('0'), ...tailGroups];
  return `${groups
    .slice(0, 4)
    .map((group) => parseInt(group, 16).toString(16))
    .join(':')}::/64`;
}

/**
 * Counts login and bootstrap attempts per source address in memory: at most
 * LOGIN_ATTEMPTS_PER_WINDOW in any LOGIN_WINDOW_MS. Each replica counts on its own, so
 * behind a load balancer a source gets that many per replica; the per-account lock, kept in
 * the database, holds across replicas.
 */
@Injectable()
export class LoginRateLimiter {
  /** Attempt times per source, oldest first; a Map keeps the sources in the order last seen. */
  private readonly attempts = new Map<string, number[]>();

  constructor(@Inject(CLOCK) private readonly clock: Clock) {}

  /** Counts an attempt, or refuses it with how many seconds until the source may try again. */
  admit(address: string | null): void {
    const key = rateLimitKey(address);
    const now = this.clock.now().getTime();
    const recent = (this.attempts.get(key) ?? []).filter((at) => at > now - LOGIN_WINDOW_MS);
    this.attempts.delete(key);
    if (recent.length >= LOGIN_ATTEMPTS_PER_WINDOW) {
      this.attempts.set(key, recent);
      const oldest = recent[0] ?? now;
      const retryAfterSeconds = Math.max(1, Math.ceil((oldest + LOGIN_WINDOW_MS - now) / 1_000));
      throw new RateLimitedError(retryAfterSeconds, `too many login attempts from this address (at most ${LOGIN_ATTEMPTS_PER_WINDOW} a minute)`);
    }
    recent.push(now);
    this.attempts.set(key, recent);
    if (this.attempts.size > MAX_TRACKED_SOURCES) this.evict(now);
  }

  private evict(now: number): void {
    for (const [key, times] of this.attempts) {
      if ((times[times.length - 1] ?? 0) <= now - LOGIN_WINDOW_MS) this.attempts.delete(key);
    }
    while (this.attempts.size > MAX_TRACKED_SOURCES) {
      const seenLongestAgo = this.attempts.keys().next().value;
      if (seenLongestAgo === undefined) break;
      this.attempts.delete(seenLongestAgo);
    }
  }
}

/**
 * Applies the LoginRateLimiter to a route. A guard, so that it counts every attempt, also
 * those whose body is then refused as invalid.
 */
@Injectable()
export class LoginRateLimitGuard implements CanActivate {
  constructor(private readonly limiter: LoginRateLimiter) {}

  canActivate(context: ExecutionContext): boolean {
    this.limiter.admit(sourceIpOf(context.switchToHttp().getRequest<AuthenticatedRequest>()));
    return true;
  }
}
