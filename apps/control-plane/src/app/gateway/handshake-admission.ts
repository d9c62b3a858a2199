import { performance } from 'node:perf_hooks';
import { GATEWAY_BUSY_REFUSAL } from '@airlock/protocol';

/** The shortest wait a refused worker is told: less would bring it back before anything changed. */
export const MIN_RETRY_AFTER_MS = 250;
/** The longest wait a refused worker is told, whatever the queue of those refused before it. */
export const MAX_RETRY_AFTER_MS = 30_000;
/**
 * What a handshake is assumed to take before any was measured. Short on purpose: a guess too
 * short only brings refused workers back early (a refusal is cheap, and the measured time
 * corrects the next hints), while one too long would keep them away from an idle gateway.
 */
const ASSUMED_HANDSHAKE_MS = 250;
/** Weight of each welcomed handshake in the moving average of their durations. */
const DURATION_SMOOTHING = 0.05;

/** A handshake's place among those in progress; given back once, when it ends either way. */
export interface HandshakeSlot {
  /** `welcomed`: the handshake ended with a Welcome, and its duration tells how fast they go. */
  release(welcomed: boolean): void;
}

/** What the gateway's admission counted since it started. */
export interface HandshakeCounts {
  readonly inProgress: number;
  readonly limit: number;
  /** Connects refused at once (GATEWAY_BUSY_REFUSAL). */
  readonly refused: number;
  /** Handshake steps skipped because their worker had already gone (its call cancelled or ended). */
  readonly abandoned: number;
}

/**
 * Admission control for the worker gateway's handshakes (Connect → Welcome). At most `limit`
 * are in progress; a Connect past that is refused at once, and told when to try again. A
 * control plane restarted under thousands of workers then works on as many handshakes as it
 * can finish while their workers still wait, instead of on all of them until every worker
 * gives up and retries.
 *
 * The hints spread the refused workers over time at the rate handshakes complete here: each
 * refusal takes the next place in a virtual queue, one handshake's share of the time (the
 * moving average of a welcomed handshake's duration over the limit) after the place before
 * it. A worker that comes back at its place finds a slot free if the estimate held, and is
 * refused again with a later place if not.
 */
export class HandshakeAdmission {
  private inProgressCount = 0;
  private refusedCount = 0;
  private abandonedCount = 0;
  private averageDurationMs = ASSUMED_HANDSHAKE_MS;
  /** The place the next refused worker is given, on the `now` clock. */
  private nextPlaceAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly limit: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError('limit: expected a positive integer');
  }

  counts(): HandshakeCounts {
    return { inProgress: this.inProgressCount, limit: this.limit, refused: this.refusedCount, abandoned: this.abandonedCount };
  }

  /** A slot for a new handshake, or null when `limit` are in progress: refuse it, with `retryAfterMs()`. */
  tryAdmit(): HandshakeSlot | null {
    if (this.inProgressCount >= this.limit) {
      this.refusedCount += 1;
      return null;
    }
    this.inProgressCount += 1;
    const admittedAt = this.now();
    let released = false;
    return {
      release: (welcomed) => {
        if (released) return;
        released = true;
        this.inProgressCount -= 1;
        if (welcomed) this.averageDurationMs += DURATION_SMOOTHING * (this.now() - admittedAt - this.averageDurationMs);
      },
    };
  }

  /**
   * The wait to tell a refused worker: its place in the queue of those refused, a whole
   * number of milliseconds from MIN_RETRY_AFTER_MS to MAX_RETRY_AFTER_MS.
   */
  retryAfterMs(): number {
    const now = this.now();
    const perHandshakeMs = Math.max(this.averageDurationMs, 1) / this.limit;
    this.nextPlaceAt = Math.min(Math.max(this.nextPlaceAt, now + MIN_RETRY_AFTER_MS) + perHandshakeMs, now + MAX_RETRY_AFTER_MS);
    return Math.min(Math.ceil(this.nextPlaceAt - now), MAX_RETRY_AFTER_MS, GATEWAY_BUSY_REFUSAL.maxRetryAfterMs);
  }

  /** Counts a handshake step skipped because its worker had already gone. */
  recordAbandoned(steps = 1): void {
    this.abandonedCount += steps;
  }
}
