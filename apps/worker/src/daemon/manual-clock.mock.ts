import type { ClockTimer, DaemonClock } from './daemon.clock';

interface Pending {
  readonly at: number;
  readonly order: number;
  readonly callback: () => void;
}

/**
 * A DaemonClock that moves only when a test says so. `advance` runs every timer that falls
 * due, in order, letting promise callbacks settle between them, so async code that sleeps,
 * heartbeats or waits for a deadline runs as it would in real time.
 */
export class ManualClock implements DaemonClock {
  private monotonicMs = 0;
  private readonly pending = new Set<Pending>();
  private order = 0;

  constructor(private readonly epochMs = Date.UTC(2030, 0, 1)) {}

  now(): number {
    return this.epochMs + this.monotonicMs;
  }

  monotonicNow(): number {
    return this.monotonicMs;
  }

  after(ms: number, callback: () => void): ClockTimer {
    const entry: Pending = { at: this.monotonicMs + Math.max(0, ms), order: this.order++, callback };
    this.pending.add(entry);
    return { cancel: () => this.pending.delete(entry) };
  }

  /** Timers not yet run or cancelled. */
  get pendingTimers(): number {
    return this.pending.size;
  }

  /** Moves time forward by `ms`, running each timer as its moment comes. */
  async advance(ms: number): Promise<void> {
    const until = this.monotonicMs + ms;
    await settle();
    for (;;) {
      const next = [...this.pending].filter((entry) => entry.at <= until).sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (next === undefined) break;
      this.pending.delete(next);
      this.monotonicMs = next.at;
      next.callback();
      await settle();
    }
    this.monotonicMs = until;
    await settle();
  }
}

/** Lets every promise callback already queued (and those they queue) run. */
export async function settle(): Promise<void> {
  for (let round = 0; round < 5; round += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}
