/**
 * Watches one streamed answer: fires once when the stream has been silent for `idleMs`
 * (the clock restarts at every chunk) or when `deadlineMs` has passed since the request
 * started, whichever comes first. The OpenAI SDK bounds a request only until its response
 * headers arrive, so without this a server that stalls mid-stream would hold the job until
 * the agent's own time limit.
 */
export class StreamWatchdog {
  private idleTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private expiredFor: 'idle' | 'deadline' | undefined;

  constructor(
    private readonly idleMs: number,
    private readonly onExpired: (reason: 'idle' | 'deadline') => void,
  ) {}

  /** Starts both clocks; the deadline counts from `requestStartedAt` (performance.now()). */
  start(deadlineMs: number, requestStartedAt: number): void {
    const remainingMs = Math.max(0, deadlineMs - (performance.now() - requestStartedAt));
    this.deadlineTimer = setTimeout(() => this.expire('deadline'), remainingMs);
    this.chunkArrived();
  }

  /** A chunk arrived: the silence starts again from now. */
  chunkArrived(): void {
    if (this.expiredFor !== undefined) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.expire('idle'), this.idleMs);
  }

  /** Why it fired, or undefined while it has not. */
  get expired(): 'idle' | 'deadline' | undefined {
    return this.expiredFor;
  }

  stop(): void {
    clearTimeout(this.idleTimer);
    clearTimeout(this.deadlineTimer);
  }

  private expire(reason: 'idle' | 'deadline'): void {
    if (this.expiredFor !== undefined) return;
    this.expiredFor = reason;
    this.stop();
    this.onExpired(reason);
  }
}
