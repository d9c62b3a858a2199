import { systemClock, type DaemonClock } from './daemon.clock';

/** A monotonic clock in milliseconds: it keeps counting while the process is paused (SIGSTOP). */
export type MonotonicClock = () => number;

/** Heartbeats whose renewal has not come back yet; older ones are forgotten. */
const MAX_UNANSWERED_HEARTBEATS = 64;

interface Waiter {
  readonly satisfied: () => boolean;
  readonly wake: () => void;
}

/**
 * What the worker can *show* about each attempt's lease. The control plane renews a lease
 * for `leaseTtlMs` from when it received a heartbeat; the worker cannot know that moment,
 * but it was after the worker sent the heartbeat, so `sentAt + leaseTtlMs` is a bound the
 * lease is valid until at least — on the worker's own monotonic clock, which a pause does
 * not stop. An attempt with no renewal is not known to hold a lease at all.
 *
 * Heartbeats are numbered per stream (`0` is the Hello); a renewal names the number it
 * answers. A new stream starts the numbering again, so `streamStarted` forgets the old
 * stream's unanswered heartbeats.
 */
export class LeaseTracker {
  private readonly sentAt = new Map<number, number>();
  /** Tracked attempts (the ones running here), with the time their lease is known to last until. */
  private readonly validUntil = new Map<string, number | null>();
  private waiters: Waiter[] = [];
  private leaseTtlMs: number | undefined;

  constructor(
    private readonly now: MonotonicClock = () => performance.now(),
    private readonly after: DaemonClock['after'] = systemClock.after,
  ) {}

  /** A new stream: its Hello (heartbeat 0) is being sent now. */
  streamStarted(): void {
    this.sentAt.clear();
    this.leaseTtlMs = undefined;
    this.sentAt.set(0, this.now());
  }

  /** The Welcome's lease length, which every later renewal on the stream grants. */
  welcomed(leaseTtlMs: number): void {
    this.leaseTtlMs = leaseTtlMs;
  }

  /** Heartbeat `seq` is being sent now. */
  heartbeatSent(seq: number): void {
    this.sentAt.set(seq, this.now());
    if (this.sentAt.size > MAX_UNANSWERED_HEARTBEATS) {
      const oldest = Math.min(...this.sentAt.keys());
      this.sentAt.delete(oldest);
    }
  }

  /** An attempt started running here; until a renewal names it, it shows no lease. */
  track(jobId: string, attempt: number): void {
    this.validUntil.set(attemptKey(jobId, attempt), null);
  }

  /**
   * The control plane renewed these attempts in answer to heartbeat `seq`. A renewal for a
   * heartbeat this stream did not send (or already answered) proves nothing and is ignored,
   * and so are attempts not tracked here, so the control plane cannot grow this map.
   */
  renewed(seq: number, attempts: readonly { jobId: string; attempt: number }[]): boolean {
    const sentAt = this.sentAt.get(seq);
    if (sentAt === undefined || this.leaseTtlMs === undefined) return false;
    // Every heartbeat up to this one has been answered or never will be: frames are in order.
    for (const known of [...this.sentAt.keys()]) if (known <= seq) this.sentAt.delete(known);
    const until = sentAt + this.leaseTtlMs;
    for (const ref of attempts) {
      const key = attemptKey(ref.jobId, ref.attempt);
      if (!this.validUntil.has(key)) continue;
      this.validUntil.set(key, Math.max(until, this.validUntil.get(key) ?? until));
    }
    this.wakeSatisfied();
    return true;
  }

  /** Milliseconds the attempt's lease is known to last from now; 0 when nothing shows it holds one. */
  remainingMs(jobId: string, attempt: number): number {
    const until = this.validUntil.get(attemptKey(jobId, attempt));
    return until === undefined || until === null ? 0 : Math.max(0, until - this.now());
  }

  /** The attempt ended here: its lease no longer matters. */
  forget(jobId: string, attempt: number): void {
    this.validUntil.delete(attemptKey(jobId, attempt));
  }

  /**
   * Resolves true as soon as the attempt's lease is known to last at least `minRemainingMs`,
   * or false once `timeoutMs` passed (or `signal` fired) without that.
   */
  async waitForLease(jobId: string, attempt: number, minRemainingMs: number, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    const enough = () => this.remainingMs(jobId, attempt) >= minRemainingMs;
    if (enough()) return true;
    if (signal.aborted) return false;
    await new Promise<void>((resolve) => {
      const done = () => {
        timer.cancel();
        signal.removeEventListener('abort', done);
        this.waiters = this.waiters.filter((waiter) => waiter !== entry);
        resolve();
      };
      const entry: Waiter = { satisfied: enough, wake: done };
      const timer = this.after(timeoutMs, done);
      signal.addEventListener('abort', done, { once: true });
      this.waiters.push(entry);
    });
    return enough();
  }

  private wakeSatisfied(): void {
    for (const waiter of [...this.waiters]) if (waiter.satisfied()) waiter.wake();
  }
}

function attemptKey(jobId: string, attempt: number): string {
  return `${jobId}#${attempt}`;
}
