/**
 * The daemon's lifecycle.
 *
 * - `STARTING`: connected or connecting, but readiness checks (inference, git, workspace,
 *   test sandbox) have not passed yet, so no credits are granted.
 * - `READY`: checks passed; credits granted for every free slot; nothing running.
 * - `RUNNING`: at least one job running.
 * - `DRAINING`: a first signal or a Drain frame: no new credits, running jobs finish.
 * - `STOPPED`: the stream is closed; the process is about to exit (0 after a drain, 130
 *   after a forced stop).
 * - `FAILED`: an unrecoverable error (the control plane keeps refusing this worker's
 *   identity, or a bug threw): running jobs are aborted, no new work is taken, and the
 *   process exits non-zero. Terminal, like `STOPPED`; a drain in progress ends here too.
 */
export type WorkerState = 'STARTING' | 'READY' | 'RUNNING' | 'DRAINING' | 'STOPPED' | 'FAILED';

const ALLOWED: Readonly<Record<WorkerState, readonly WorkerState[]>> = {
  STARTING: ['READY', 'DRAINING', 'STOPPED', 'FAILED'],
  READY: ['RUNNING', 'DRAINING', 'STOPPED', 'FAILED'],
  RUNNING: ['READY', 'DRAINING', 'STOPPED', 'FAILED'],
  DRAINING: ['STOPPED', 'FAILED'],
  STOPPED: [],
  FAILED: [],
};

/** Raised on a lifecycle transition the state union does not allow: a bug, never a runtime condition. */
export class IllegalLifecycleTransitionError extends Error {
  override readonly name = 'IllegalLifecycleTransitionError';
  readonly code = 'ILLEGAL_LIFECYCLE_TRANSITION';

  constructor(
    readonly from: WorkerState,
    readonly to: WorkerState,
  ) {
    super(`illegal worker lifecycle transition ${from} → ${to}`);
  }
}

/** Holds the current state and refuses transitions outside the union's allowed edges. */
export class WorkerLifecycle {
  private current: WorkerState = 'STARTING';

  constructor(private readonly onChange: (from: WorkerState, to: WorkerState) => void = () => undefined) {}

  get state(): WorkerState {
    return this.current;
  }

  /** Whether the daemon may take new work in its current state. */
  get acceptsWork(): boolean {
    return this.current === 'READY' || this.current === 'RUNNING';
  }

  /** Whether the daemon has stopped or failed: nothing happens any more but the exit. */
  get ended(): boolean {
    return this.current === 'STOPPED' || this.current === 'FAILED';
  }

  transition(to: WorkerState): void {
    const from = this.current;
    if (!ALLOWED[from].includes(to)) throw new IllegalLifecycleTransitionError(from, to);
    this.current = to;
    this.onChange(from, to);
  }
}
