import { ABORT_REASON } from '../jobs/pipeline/phase-runner';
import type { Logger } from '../logging/json-logger';
import type { ResultOutbox } from '../outbox/result-outbox';
import { settlesWithin, sleep, type DaemonClock } from './daemon.clock';
import { DAEMON_EXIT_CODES, type DaemonExit } from './daemon.exit';
import type { JobSlots } from './job.slots';
import type { WorkerLifecycle } from './worker-lifecycle';
import { WorkerIdentityRefusedError } from './worker-identity-refused.error';
import { WorkerVersionRefusedError } from './worker-version-refused.error';

/** How often a drain looks whether the last results were acknowledged. */
const RESULT_ACK_POLL_MS = 100;

/** The shutdown timings from the config's `limits`, in milliseconds. */
export interface ShutdownLimits {
  /** How long a drain waits for running jobs before it aborts them. */
  readonly shutdownGrace: number;
  /** How long a drain then waits for the last results to be acknowledged. */
  readonly resultAckWait: number;
  /** How long aborted jobs get to put their WORKER_SHUTDOWN result in the outbox. */
  readonly abortGrace: number;
}

/** Everything the shutdown ladder is built from. */
export interface ShutdownLadderDependencies {
  readonly lifecycle: WorkerLifecycle;
  readonly slots: Pick<JobSlots, 'abortAll' | 'settled' | 'size'>;
  readonly outbox: Pick<ResultOutbox, 'pending'>;
  /** Whether the stream is up, so that a result ack can still arrive. */
  readonly connected: () => boolean;
  readonly limits: ShutdownLimits;
  readonly clock: DaemonClock;
  readonly logger: Logger;
  /** The daemon has ended (its lifecycle is STOPPED or FAILED): close the stream and exit. Called once. */
  readonly ended: (exit: DaemonExit) => void;
}

/**
 * Every way the daemon ends, as rungs of one ladder (buildkite's handlePoolSignals,
 * temporal's shutdown and forceShutdown):
 *
 * 1. the first SIGTERM/SIGINT, or a Drain frame: stop taking work (DRAINING), let running
 *    jobs finish within `shutdownGrace`, wait up to `resultAckWait` for their results to be
 *    acknowledged, exit 0;
 * 2. a second signal, or the drain deadline passing: abort every job (each reports
 *    WORKER_SHUTDOWN through the outbox) within `abortGrace`, exit 130;
 * 3. an unrecoverable error (`fail`): FAILED, abort every job within `abortGrace`, exit
 *    non-zero naming what happened. This is the one fatal path for anything that throws
 *    where nothing else catches it.
 *
 * A later rung overrides an earlier one in progress; a finished shutdown is never redone.
 */
export class ShutdownLadder {
  private requests = 0;
  private forcing = false;
  private finished = false;
  private readonly ending = new AbortController();

  constructor(private readonly deps: ShutdownLadderDependencies) {}

  /** A signal: the first drains, any later one forces. */
  request(signal: string): void {
    this.requests += 1;
    this.deps.logger.info('shutdown-requested', { signal, count: this.requests });
    this.climb(this.requests === 1 ? this.drain() : this.force());
  }

  /** The control plane asked for a drain: the same as a first signal, unless one came already. */
  drainRequested(): void {
    this.deps.logger.info('drain-requested');
    if (this.requests === 0) this.request('drain');
  }

  /**
   * The fatal path: logs the error, fails the lifecycle, aborts every job and ends the
   * daemon once they reported (or `abortGrace` passed). Never throws.
   */
  fail(error: unknown): void {
    const { lifecycle, logger, slots } = this.deps;
    if (lifecycle.ended) {
      // Failing already, or stopped: the first outcome stands; this one is only logged.
      logger.error('error-after-stop', { error: asError(error) });
      return;
    }
    const exit = exitFor(error);
    logger.error('fatal', { error: asError(error), exitCode: exit.exitCode, running: slots.size });
    lifecycle.transition('FAILED');
    slots.abortAll(ABORT_REASON.shutdown);
    void settlesWithin(this.deps.clock, slots.settled(), this.deps.limits.abortGrace).then(() => this.finish(exit));
  }

  private climb(rung: Promise<void>): void {
    rung.catch((error: unknown) => this.fail(error));
  }

  private async drain(): Promise<void> {
    const { lifecycle, slots, limits, clock, logger } = this.deps;
    if (lifecycle.ended || lifecycle.state === 'DRAINING') return;
    lifecycle.transition('DRAINING');
    const finished = await settlesWithin(clock, slots.settled(), limits.shutdownGrace);
    if (this.overtaken) return;
    if (!finished) {
      logger.warn('drain-deadline-passed', { running: slots.size });
      await this.force();
      return;
    }
    await this.waitForResultAcks();
    if (this.overtaken) return;
    this.finish({ exitCode: DAEMON_EXIT_CODES.drained });
  }

  private async force(): Promise<void> {
    const { lifecycle, slots, limits, clock } = this.deps;
    if (lifecycle.ended || this.forcing) return;
    this.forcing = true;
    if (lifecycle.state !== 'DRAINING') lifecycle.transition('DRAINING');
    slots.abortAll(ABORT_REASON.shutdown);
    // Aborted jobs write their WORKER_SHUTDOWN result to the outbox quickly; it is re-sent next start.
    await settlesWithin(clock, slots.settled(), limits.abortGrace);
    if (lifecycle.state !== 'DRAINING') return;
    this.finish({ exitCode: DAEMON_EXIT_CODES.forced });
  }

  /** A drain that a later rung (force, or the fatal path) took over must not end the daemon as drained. */
  private get overtaken(): boolean {
    return this.forcing || this.deps.lifecycle.state !== 'DRAINING';
  }

  private async waitForResultAcks(): Promise<void> {
    const { clock, outbox, limits } = this.deps;
    const until = clock.monotonicNow() + limits.resultAckWait;
    while (!this.overtaken && this.deps.connected() && outbox.pending().length > 0 && clock.monotonicNow() < until) {
      await sleep(clock, RESULT_ACK_POLL_MS, this.ending.signal);
    }
  }

  private finish(exit: DaemonExit): void {
    if (this.finished) return;
    this.finished = true;
    this.ending.abort();
    if (this.deps.lifecycle.state !== 'FAILED') this.deps.lifecycle.transition('STOPPED');
    this.deps.ended(exit);
  }
}

function exitFor(error: unknown): DaemonExit {
  if (error instanceof WorkerIdentityRefusedError) return { exitCode: DAEMON_EXIT_CODES.identityRefused, failure: error.message };
  if (error instanceof WorkerVersionRefusedError) return { exitCode: DAEMON_EXIT_CODES.versionRefused, failure: error.message };
  const cause = asError(error);
  return { exitCode: DAEMON_EXIT_CODES.failed, failure: `the worker daemon failed unexpectedly, a bug: ${cause.stack ?? `${cause.name}: ${cause.message}`}` };
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
