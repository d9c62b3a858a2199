/**
 * Exponential backoff with full jitter (a uniformly random delay between 0 and the capped
 * exponential): many workers that lost the same control plane then come back spread out
 * instead of in one thundering herd. Reset after a healthy connection.
 */
export class ReconnectBackoff {
  private failures = 0;

  constructor(
    private readonly baseMs = 250,
    private readonly capMs = 15_000,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt; each call counts one more failure. */
  nextDelayMs(): number {
    const ceiling = Math.min(this.capMs, this.baseMs * 2 ** Math.min(this.failures, 30));
    this.failures += 1;
    return Math.floor(this.random() * ceiling);
  }

  reset(): void {
    this.failures = 0;
  }
}

/** Adds ±`fraction` random spread to a period, so heartbeats of many workers do not align. */
export function jittered(periodMs: number, fraction = 0.1, random: () => number = Math.random): number {
  return Math.max(1, Math.round(periodMs * (1 - fraction + 2 * fraction * random())));
}
