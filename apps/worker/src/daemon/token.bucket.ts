/**
 * A token bucket: up to `capacity` takes at once, refilled at `refillPerSecond`. The daemon
 * uses one to bound how many refusals a control plane can make it write (each costs an
 * audit-log line and a credit grant), however many bad instructions it sends.
 */
export class TokenBucket {
  private tokens: number;
  private lastRefillMs: number;

  constructor(
    private readonly capacity: number,
    private readonly refillPerSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(capacity >= 1) || !(refillPerSecond > 0)) throw new RangeError('TokenBucket: expected capacity ≥ 1 and refillPerSecond > 0');
    this.tokens = capacity;
    this.lastRefillMs = now();
  }

  /** Takes one token if there is one. */
  tryTake(): boolean {
    const nowMs = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((nowMs - this.lastRefillMs) / 1000) * this.refillPerSecond);
    this.lastRefillMs = nowMs;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
