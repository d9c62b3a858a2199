import { ReconnectBackoff } from '../gateway/reconnect.backoff';
import type { Logger } from '../logging/json-logger';
import { sleep, type DaemonClock } from './daemon.clock';
import type { CheckResult } from './readiness.checks';

/** Delays between rounds of readiness checks: exponential from 1 s to 30 s, with full jitter. */
export const READINESS_RETRY = { baseMs: 1_000, capMs: 30_000 };

/** Everything the readiness loop is built from. */
export interface ReadinessLoopDependencies {
  /** One round of checks (git, workspace, test sandbox, inference; see readiness.checks.ts). */
  readonly checks: () => Promise<CheckResult[]>;
  readonly clock: DaemonClock;
  readonly logger: Logger;
  readonly random?: () => number;
}

/**
 * Runs the readiness checks until they all pass, retrying with backoff and logging what
 * failed each round (`not-ready`). The daemon starts paused and takes work only after
 * this; the time of the last round is published on `/healthz`.
 */
export class ReadinessLoop {
  private lastRoundAt: number | undefined;

  constructor(private readonly deps: ReadinessLoopDependencies) {}

  /** Wall-clock time the checks last ran. */
  get lastCheckAt(): number | undefined {
    return this.lastRoundAt;
  }

  /**
   * Resolves true once a round passes while `waiting()` still holds, false as soon as it
   * does not (the daemon is draining or stopped) or `signal` fires.
   */
  async untilReady(waiting: () => boolean, signal: AbortSignal): Promise<boolean> {
    const retry = new ReconnectBackoff(READINESS_RETRY.baseMs, READINESS_RETRY.capMs, this.deps.random);
    while (waiting() && !signal.aborted) {
      const checks = await this.deps.checks();
      this.lastRoundAt = this.deps.clock.now();
      const failed = checks.filter((check) => !check.ok);
      if (failed.length === 0) return waiting();
      this.deps.logger.warn('not-ready', { failed: failed.map((check) => ({ name: check.name, detail: check.detail })) });
      await sleep(this.deps.clock, retry.nextDelayMs(), signal);
    }
    return false;
  }
}
