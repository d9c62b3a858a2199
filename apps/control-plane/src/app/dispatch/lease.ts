/** When a lease granted (or renewed) at `now` runs out. */
export function leaseExpiresAt(now: Date, leaseTtlMs: number): Date {
  return new Date(now.getTime() + leaseTtlMs);
}

const MIN_REAPER_DELAY_MS = 50;
const MAX_REAPER_DELAY_MS = 5_000;

/**
 * How long the lease reaper sleeps before its next sweep: a quarter of the lease TTL (so an
 * expired lease is noticed within ~1.25 TTL), bounded, with ±20 % jitter so replicas that
 * started together do not sweep in lockstep.
 *
 * @param random a number in [0, 1), injected so tests are deterministic.
 */
export function nextReaperDelayMs(leaseTtlMs: number, random: number): number {
  const base = Math.min(MAX_REAPER_DELAY_MS, Math.max(MIN_REAPER_DELAY_MS, leaseTtlMs / 4));
  return Math.round(base * (0.8 + 0.4 * random));
}

/**
 * When a job whose attempt number `attempt` lost its lease at `now` may be dispatched again:
 * the base doubled for each attempt used, at most `maxMs`, with ±20 % jitter so that jobs
 * that lost their leases together (a worker gone) do not all return at once. Null (at once)
 * when the base is 0.
 *
 * @param random a number in [0, 1), injected so tests are deterministic.
 */
export function attemptNotBefore(attempt: number, now: Date, backoff: { readonly baseMs: number; readonly maxMs: number }, random: number): Date | null {
  if (backoff.baseMs <= 0) return null;
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const delayMs = Math.min(backoff.maxMs, backoff.baseMs * 2 ** exponent) * (0.8 + 0.4 * random);
  return new Date(now.getTime() + Math.round(delayMs));
}
