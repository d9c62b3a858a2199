import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataAccess, type PoolQuota } from '@airlock/data-access';
import { CLOCK, type Clock } from '../common/clock';
import { BatchDispatch, MAX_CLAIM_BATCH, servesPool } from './batch-dispatch';
import type { DispatchableJob, JobDispatcher } from './job-dispatcher';
import { WorkerSessionRegistry, type WorkerSessionHandle } from './worker-session.registry';

// Enough to refill the queue of a busy installation; more is picked up on the next resync.
const REBUILD_LIMIT = 10_000;

/** Per pool (null: untargeted), the ids of a tenant's jobs known to be queued. */
type TenantQueue = Map<string | null, Set<string>>;

/** How a batch went: claimed what it could, or a running-jobs limit held jobs back, or the claim failed. */
type BatchResult = 'DONE' | 'LIMITED' | 'FAILED';

/**
 * The single-process dispatcher. It keeps, per tenant and pool, the ids of the jobs known to
 * be queued (rebuilt from PostgreSQL at start); which of them a worker gets is PostgreSQL's
 * choice at claim time (best priority first, oldest first among equals, within the tenant's
 * running-jobs limits), so the ids here only say where there is work. PostgreSQL stays the
 * record: a dispatch counts once its claim commits, and a stale id is harmless.
 *
 * Tenants are served in rounds: each round gives every tenant with queued jobs and a worker
 * with credits that serves their pool one batch (up to that worker's credits, claimed by one
 * statement), the batches of a round in flight together. So a tenant's burst of thousands of
 * jobs delays another tenant's single job by at most one dispatch.
 */
@Injectable()
export class InProcessJobDispatcher implements JobDispatcher {
  private readonly logger = new Logger(InProcessJobDispatcher.name);
  /** The Map's order is the round-robin order: a served tenant moves to the back. */
  private readonly queues = new Map<string, TenantQueue>();
  /**
   * Tenants a running-jobs limit held back at their last claim, passed over until a capacity
   * event (a job ending gives its worker a credit back; limits changed) or a resync: a new job
   * of theirs, or another tenant's, makes no room.
   */
  private readonly limited = new Set<string>();
  private pumping: Promise<void> | null = null;
  private pumpAgain = false;
  private stopped = false;

  /** Jobs backing off, each entering the queue when its time comes. */
  private readonly delayed = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly data: DataAccess,
    private readonly sessions: WorkerSessionRegistry,
    private readonly batches: BatchDispatch,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async start(): Promise<void> {
    const queued = await this.resync();
    this.logger.log({ event: 'dispatch_queue_rebuilt', queuedJobs: queued });
  }

  async resync(): Promise<number> {
    this.limited.clear();
    const queued = await this.data.jobs.listQueued(REBUILD_LIMIT, this.clock.now());
    for (const job of queued) this.enqueue(job);
    return queued.length;
  }

  enqueue(job: DispatchableJob): void {
    if (this.delayed.has(job.jobId) || this.stopped) return;
    const waitMs = (job.notBefore?.getTime() ?? 0) - this.clock.now().getTime();
    if (waitMs > 0) {
      const timer = setTimeout(() => {
        this.delayed.delete(job.jobId);
        this.enqueue({ ...job, notBefore: null });
      }, waitMs);
      timer.unref();
      this.delayed.set(job.jobId, timer);
      return;
    }
    const queue = this.queues.get(job.tenantId) ?? new Map<string | null, Set<string>>();
    this.queues.set(job.tenantId, queue);
    const ids = queue.get(job.pool) ?? new Set<string>();
    queue.set(job.pool, ids);
    if (ids.has(job.jobId)) return;
    ids.add(job.jobId);
    this.wake();
  }

  capacityAvailable(): void {
    this.limited.clear();
    this.wake();
  }

  private wake(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = this.pump().finally(() => {
      this.pumping = null;
      if (this.pumpAgain) {
        this.pumpAgain = false;
        this.wake();
      }
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    await this.pumping;
  }

  /** Serves rounds until no tenant has both queued jobs and a worker for them with credits, or a claim failed. */
  private async pump(): Promise<void> {
    while (!this.stopped) {
      const batches: Promise<[string, BatchResult]>[] = [];
      for (const [tenantId, queue] of [...this.queues]) {
        if (this.limited.has(tenantId)) continue;
        const session = this.workerFor(tenantId, queue);
        if (!session) continue;
        // The credits are reserved before any await, so concurrent work never overspends them.
        const max = Math.min(session.credits, MAX_CLAIM_BATCH);
        const quotas = [...queue].filter(([pool, ids]) => ids.size > 0 && servesPool(session, pool)).map(([pool, ids]) => ({ pool, max: Math.min(ids.size, max) }));
        const take = Math.min(max, quotas.reduce((sum, quota) => sum + quota.max, 0));
        session.credits -= take;
        this.queues.delete(tenantId);
        this.queues.set(tenantId, queue);
        batches.push(this.dispatchBatch(queue, session, quotas, take).then((result) => [tenantId, result]));
      }
      if (batches.length === 0) return;
      const results = await Promise.all(batches);
      // A failed claim (the database away) stops the pump; the next capacity event or resync restarts it.
      if (results.some(([, result]) => result === 'FAILED')) return;
      for (const [tenantId, result] of results) if (result === 'LIMITED') this.limited.add(tenantId);
    }
  }

  /** The tenant's worker with the most credits among those, not draining, that serve a pool with queued jobs. */
  private workerFor(tenantId: string, queue: TenantQueue): WorkerSessionHandle | undefined {
    let best: WorkerSessionHandle | undefined;
    for (const session of this.sessions.sessionsOfTenant(tenantId)) {
      if (session.draining || session.credits <= 0 || (best && session.credits <= best.credits)) continue;
      if ([...queue].some(([pool, ids]) => ids.size > 0 && servesPool(session, pool))) best = session;
    }
    return best;
  }

  /**
   * Claims for the session's worker and sends the instructions, then forgets the ids the
   * claim settled: those it won, and, when it took fewer than asked with no limit in the
   * way, those of each pool that gave less than its quota known before it began (no longer queued: claimed elsewhere, cancelled).
   * Ids enqueued while the claim was in flight stay: its snapshot may not have seen them.
   */
  private async dispatchBatch(queue: TenantQueue, session: WorkerSessionHandle, quotas: readonly PoolQuota[], max: number): Promise<BatchResult> {
    const known = new Map(quotas.map((quota) => [quota.pool, [...(queue.get(quota.pool) ?? [])]]));
    const outcome = await this.batches.claimAndSend(session, quotas, max);
    if (outcome.kind === 'FAILED') return 'FAILED';
    for (const claim of outcome.claims) queue.get(claim.pool)?.delete(claim.jobId);
    // Fewer than asked, and no limit in the way: each pool that gave less than its quota is empty.
    if (!outcome.limited && outcome.claims.length < max) {
      for (const quota of quotas) {
        const won = outcome.claims.filter((claim) => claim.pool === quota.pool).length;
        if (won < quota.max) for (const jobId of known.get(quota.pool) ?? []) queue.get(quota.pool)?.delete(jobId);
      }
    }
    for (const [pool, ids] of queue) if (ids.size === 0) queue.delete(pool);
    if (queue.size === 0 && this.queues.get(session.tenantId) === queue) this.queues.delete(session.tenantId);
    return outcome.limited ? 'LIMITED' : 'DONE';
  }
}
