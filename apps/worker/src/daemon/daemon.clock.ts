/** A pending timer; cancelling one that already ran does nothing. */
export interface ClockTimer {
  cancel(): void;
}

/**
 * Every reading of time and every timer the daemon uses. Injected, so that unit tests drive
 * time (heartbeats, backoff, deadlines, lease waits) instead of waiting for it.
 */
export interface DaemonClock {
  /** Wall-clock milliseconds since the epoch: only for timestamps people read (`/healthz`). */
  now(): number;
  /**
   * Monotonic milliseconds: lease arithmetic, the refusal budget, deadlines. Keeps counting
   * while the process is paused (SIGSTOP), which a lease must see.
   */
  monotonicNow(): number;
  /** Runs `callback` once, `ms` from now. */
  after(ms: number, callback: () => void): ClockTimer;
}

/** The process's own clocks and timers. */
export const systemClock: DaemonClock = {
  now: () => Date.now(),
  monotonicNow: () => performance.now(),
  after: (ms, callback) => {
    const timer = setTimeout(callback, ms);
    return { cancel: () => clearTimeout(timer) };
  },
};

/**
 * Resolves after `ms` on `clock`, or at once when `signal` fires, whichever comes first; so
 * that a stopping daemon is never held up by a sleep.
 */
export function sleep(clock: DaemonClock, ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const wake = () => {
      timer.cancel();
      signal.removeEventListener('abort', wake);
      resolve();
    };
    const timer = clock.after(ms, wake);
    signal.addEventListener('abort', wake, { once: true });
  });
}

/** Resolves true when `work` settles within `ms` on `clock`, false once `ms` passed first. */
export async function settlesWithin(clock: DaemonClock, work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ClockTimer | undefined;
  const timeout = new Promise<false>((resolve) => (timer = clock.after(ms, () => resolve(false))));
  try {
    return await Promise.race([work.then(() => true as const), timeout]);
  } finally {
    timer?.cancel();
  }
}
