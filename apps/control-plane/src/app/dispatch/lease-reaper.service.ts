import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataAccess } from '@airlock/data-access';
import { CLOCK, type Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { EVENT_BUS, type EventBus } from '../events/event-bus';
import { jobChangedEvent } from '../events/job-changed.event';
import { FLEET_COMMANDS, type FleetCommands } from '../fleet/fleet-commands';
import { ControlPlaneMetrics } from '../metrics/control-plane.metrics';
import { JOB_DISPATCHER, type JobDispatcher } from './job-dispatcher';
import { attemptNotBefore, nextReaperDelayMs } from './lease';

/** Timer functions, injected so tests can drive the reaper without waiting. */
export interface Scheduler {
  setTimeout(callback: () => void, delayMs: number): { unref?(): unknown };
  clearTimeout(handle: { unref?(): unknown }): void;
  random(): number;
}

/** Nest injection token for Scheduler. */
export const SCHEDULER = Symbol('SCHEDULER');

export const systemScheduler: Scheduler = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  random: () => Math.random(),
};

const SWEEP_BATCH = 100;

/**
 * Fences attempts whose lease ran out and requeues their jobs (or fails them after the
 * last attempt, or ends them CANCELLED when a cancel was requested). Each expiry is a
 * conditional transaction, so sweeping on several replicas or racing a late result is safe.
 */
@Injectable()
export class LeaseReaperService {
  private readonly logger = new Logger(LeaseReaperService.name);
  private timer: { unref?(): unknown } | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;

  constructor(
    private readonly data: DataAccess,
    @Inject(JOB_DISPATCHER) private readonly dispatcher: JobDispatcher,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(SCHEDULER) private readonly scheduler: Scheduler,
    @Inject(FLEET_COMMANDS) private readonly fleet: FleetCommands,
    @Inject(EVENT_BUS) private readonly events: EventBus,
    private readonly metrics: ControlPlaneMetrics,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.scheduler.clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One sweep: expires every lease that ran out before now, then resyncs the queue. Returns how many expired. */
  async sweep(): Promise<number> {
    const now = this.clock.now();
    let expiredCount = 0;
    for (;;) {
      const expired = await this.data.jobs.findExpiredLeases(now, SWEEP_BATCH);
      for (const ref of expired) {
        const expiry = await this.data.jobs.expireLease(ref, now, (attempt, at) => attemptNotBefore(attempt, at, this.config.attemptBackoff, this.scheduler.random()));
        if (!expiry) continue;
        expiredCount += 1;
        this.metrics.leaseExpired(expiry);
        this.logger.warn({ event: 'lease_expired', jobId: expiry.jobId, attempt: expiry.attempt, requeued: expiry.requeued, cancelled: expiry.cancelled });
        this.events.publish(jobChangedEvent(expiry.tenantId, expiry.jobId, expiry.status, now));
        // The fenced attempt may still be running on a worker that only missed heartbeats:
        // tell it to stop, so it does not go on to push over the next attempt's branch.
        // Not awaited: with NATS away each command waits out its timeout, and the sweep must not.
        void this.fleet.cancelAttempt(ref.workerId, { jobId: expiry.jobId, attempt: expiry.attempt });
        if (expiry.requeued) {
          this.dispatcher.enqueue({ jobId: expiry.jobId, tenantId: expiry.tenantId, pool: expiry.pool, currentAttempt: expiry.attempt, notBefore: expiry.notBefore });
        }
      }
      if (expired.length < SWEEP_BATCH) break;
    }
    // The same periodic sweep re-reads the queue from the database, so a queued job that
    // the in-memory queue lost waits at most one sweep.
    await this.dispatcher.resync();
    // A worker whose stream was on a replica that died stays marked online until here.
    const stale = await this.data.workers.markStaleOffline(new Date(now.getTime() - this.config.leaseTtlMs - this.config.heartbeatIntervalMs));
    if (stale > 0) this.logger.warn({ event: 'stale_workers_marked_offline', workers: stale });
    return expiredCount;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.scheduler.setTimeout(() => {
      this.running = this.sweep()
        .then(() => undefined)
        .catch((error: unknown) => this.logger.error({ event: 'lease_sweep_failed', error: (error as Error).name }))
        .finally(() => {
          this.running = null;
          this.schedule();
        });
    }, nextReaperDelayMs(this.config.leaseTtlMs, this.scheduler.random()));
    // The reaper alone must not keep the process alive.
    this.timer.unref?.();
  }
}
