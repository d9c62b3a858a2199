import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataAccess, LEASE_EXPIRED_FAILURE_CODE, type AuditActor, type LedgerCheckpoint, type WorkerDetail, type WorkerSummary } from '@airlock/data-access';
import { CLOCK, type Clock } from '../common/clock';
import { JOB_DISPATCHER, type JobDispatcher } from '../dispatch/job-dispatcher';
import { EVENT_BUS, type EventBus } from '../events/event-bus';
import { jobChangedEvent } from '../events/job-changed.event';
import { FLEET_COMMANDS, type FleetCommands } from '../fleet/fleet-commands';
import { ControlPlaneMetrics } from '../metrics/control-plane.metrics';
import { WorkerNotFoundError } from './worker-not-found.error';
import { WorkerRevokedError } from './worker-revoked.error';

/**
 * The fleet as admins steer it: revoke a worker for good, or drain it and end the drain.
 * Each change is audited in its own transaction (libs/data-access), then carried out on the
 * worker's stream by the replica holding it (FleetCommands); a stream the command missed
 * learns it at its next heartbeat, and every Hello reads it.
 */
@Injectable()
export class WorkersService {
  private readonly logger = new Logger(WorkersService.name);

  constructor(
    private readonly data: DataAccess,
    @Inject(FLEET_COMMANDS) private readonly fleet: FleetCommands,
    @Inject(JOB_DISPATCHER) private readonly dispatcher: JobDispatcher,
    @Inject(EVENT_BUS) private readonly events: EventBus,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly metrics: ControlPlaneMetrics,
  ) {}

  list(tenantId: string, limit: number): Promise<WorkerSummary[]> {
    return this.data.workers.listForTenant(tenantId, limit);
  }

  async get(tenantId: string, workerId: string): Promise<WorkerDetail> {
    const worker = await this.data.workers.findForTenant(tenantId, workerId);
    if (!worker) throw new WorkerNotFoundError(workerId);
    return worker;
  }

  /** The heads of the worker's egress audit log that its heartbeats reported: the latest, and the newest `limit` checkpoints. */
  async ledgerHeads(tenantId: string, workerId: string, limit: number): Promise<{ readonly latest: LedgerCheckpoint | null; readonly checkpoints: LedgerCheckpoint[] }> {
    const heads = await this.data.workers.ledgerHeads(tenantId, workerId, limit);
    if (!heads) throw new WorkerNotFoundError(workerId);
    return heads;
  }

  /**
   * Revokes the worker (audited worker.revoked): its stream ends at once with the
   * refusal that tells it so, every later Hello is refused the same way, and the attempts
   * it still held go back to the queue now, as if their leases had run out. Final; revoking
   * again answers the same, and finishes a revocation a crash interrupted.
   */
  async revoke(tenantId: string, actor: AuditActor, workerId: string): Promise<WorkerDetail> {
    const now = this.clock.now();
    const outcome = await this.data.workers.revoke({ tenantId, workerId, actor, now });
    if (!outcome) throw new WorkerNotFoundError(workerId);
    // Its stream first, and what it was processing: after this no heartbeat of it renews a lease.
    const streamEnded = await this.fleet.revoke(workerId);
    const requeued = await this.requeueAttemptsOf(workerId);
    if (outcome.kind === 'REVOKED') {
      this.logger.warn({ event: 'worker_revoked', tenantId, workerId, actorKind: actor.kind, actorId: actor.id, streamEnded, attemptsEnded: requeued });
      this.events.publish({ type: 'worker.changed', tenantId, workerId, change: 'REVOKED', at: now.toISOString() });
    }
    return this.get(tenantId, workerId);
  }

  /** Drains the worker (audited worker.drained): it keeps what it runs and is given nothing new, until undrained. */
  async drain(tenantId: string, actor: AuditActor, workerId: string): Promise<WorkerDetail> {
    return this.setDraining(tenantId, actor, workerId, true);
  }

  /** Ends the drain (audited worker.undrained): the worker is given work again. */
  async undrain(tenantId: string, actor: AuditActor, workerId: string): Promise<WorkerDetail> {
    return this.setDraining(tenantId, actor, workerId, false);
  }

  private async setDraining(tenantId: string, actor: AuditActor, workerId: string, draining: boolean): Promise<WorkerDetail> {
    const now = this.clock.now();
    const outcome = await this.data.workers.setDraining({ tenantId, workerId, draining, actor, now });
    if (!outcome) throw new WorkerNotFoundError(workerId);
    if (outcome.kind === 'REVOKED') throw new WorkerRevokedError(workerId, draining ? 'drained' : 'undrained');
    // Also when UNCHANGED: a stream registered while the database said otherwise is put right.
    // Undrained, the stream's credits count again: the fleet command wakes the dispatcher where the stream is.
    const connected = await this.fleet.setDraining(workerId, draining);
    if (outcome.kind === 'CHANGED') {
      this.logger.log({ event: draining ? 'worker_drained' : 'worker_undrained', tenantId, workerId, actorKind: actor.kind, actorId: actor.id, connected });
      this.events.publish({ type: 'worker.changed', tenantId, workerId, change: draining ? 'DRAINING' : 'UNDRAINED', at: now.toISOString() });
    }
    return this.get(tenantId, workerId);
  }

  /** Ends the leases of the attempts a revoked worker still holds and expires each, requeuing its job; returns how many. */
  private async requeueAttemptsOf(workerId: string): Promise<number> {
    const now = this.clock.now();
    const ended = await this.data.workers.endLeasesOfRevoked(workerId, now);
    for (const ref of ended) {
      const expiry = await this.data.jobs.expireLease(ref, now);
      if (!expiry) continue;
      this.metrics.attemptEnded(expiry, LEASE_EXPIRED_FAILURE_CODE);
      this.logger.warn({ event: 'lease_ended_by_revocation', workerId, jobId: expiry.jobId, attempt: expiry.attempt, requeued: expiry.requeued, cancelled: expiry.cancelled });
      this.events.publish(jobChangedEvent(expiry.tenantId, expiry.jobId, expiry.status, now));
      if (expiry.requeued) this.dispatcher.enqueue({ jobId: expiry.jobId, tenantId: expiry.tenantId, pool: expiry.pool, currentAttempt: expiry.attempt });
    }
    return ended.length;
  }
}
