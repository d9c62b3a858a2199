/** The reconnect backoff's first ceiling, doubled after each failure. */
export const RECONNECT_BASE_MS = 250;
/** The reconnect backoff's largest ceiling. */
export const RECONNECT_CAP_MS = 15_000;

/**
 * How far past a busy control plane's retry-after hint a worker's next try is spread, as a
 * fraction of the hint: the hints already spread the refused workers over time, and this
 * keeps those told the same wait from coming back in the same instant.
 */
export const RETRY_AFTER_JITTER = 0.2;

/**
 * Exponential backoff with full jitter (a uniformly random delay between 0 and the capped
 * exponential): many workers that lost the same control plane then come back spread out
 * instead of in one thundering herd. Reset after a healthy connection.
 */
export class ReconnectBackoff {
  private failures = 0;

  constructor(
    private readonly baseMs = RECONNECT_BASE_MS,
    private readonly capMs = RECONNECT_CAP_MS,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * The delay before the next attempt; each call counts one more failure. `retryAfterMs`, a
   * busy control plane's hint (GATEWAY_BUSY_REFUSAL), is a floor: the delay is the hint
   * spread by up to RETRY_AFTER_JITTER of it, or the backoff's own delay when that is longer
   * (the backoff keeps growing while the refusals go on).
   */
  nextDelayMs(retryAfterMs?: number): number {
    const ceiling = Math.min(this.capMs, this.baseMs * 2 ** Math.min(this.failures, 30));
    this.failures += 1;
    const backoffMs = Math.floor(this.random() * ceiling);
    if (retryAfterMs === undefined) return backoffMs;
    return Math.max(backoffMs, retryAfterMs + Math.floor(this.random() * retryAfterMs * RETRY_AFTER_JITTER));
  }

  reset(): void {
    this.failures = 0;
  }
}

/** Adds ±`fraction` random spread to a period, so heartbeats of many workers do not align. */
export function jittered(periodMs: number, fraction = 0.1, random: () => number = Math.random): number {
  return Math.max(1, Math.round(periodMs * (1 - fraction + 2 * fraction * random())));
}
