import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataAccess } from '@airlock/data-access';
import { CLOCK, type Clock } from '../common/clock';
import { BatchDispatch, MAX_CLAIM_BATCH } from './batch-dispatch';
import type { DispatchableJob, JobDispatcher } from './job-dispatcher';
import { WorkerSessionRegistry, type WorkerSessionHandle } from './worker-session.registry';

// Enough to refill the queue of a busy installation; more is picked up on the next resync.
const REBUILD_LIMIT = 10_000;

/**
 * The single-process dispatcher: per-tenant queues in memory (oldest job first), rebuilt
 * from PostgreSQL at start. PostgreSQL stays the record: a dispatch only counts once its
 * conditional claim of the job commits, so a stale queue entry is harmless.
 *
 * Tenants are served in rounds: each round gives every tenant with queued jobs and a worker
 * with credits one batch (up to that worker's credits, claimed by one statement), the
 * batches of a round in flight together. So a tenant's burst of thousands of jobs delays
 * another tenant's single job by at most one dispatch, and one statement commits a batch.
 */
@Injectable()
export class InProcessJobDispatcher implements JobDispatcher {
  private readonly logger = new Logger(InProcessJobDispatcher.name);
  /** Per tenant, oldest first; the Map's order is the round-robin order (a served tenant moves to the back). */
  private readonly queues = new Map<string, DispatchableJob[]>();
  /** Jobs queued here or in a claim in flight, so a repeated enqueue of either is ignored. */
  private readonly queuedIds = new Set<string>();
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
    const queued = await this.data.jobs.listQueued(REBUILD_LIMIT, this.clock.now());
    for (const job of queued) this.enqueue(job);
    return queued.length;
  }

  enqueue(job: DispatchableJob): void {
    if (this.queuedIds.has(job.jobId) || this.delayed.has(job.jobId) || this.stopped) return;
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
    this.insert(job);
    this.capacityAvailable();
  }

  private insert(job: DispatchableJob): void {
    const queue = this.queues.get(job.tenantId) ?? [];
    // Keep creation order, so a requeued job goes before younger ones.
    queue.splice(insertionIndex(queue, job), 0, job);
    this.queues.set(job.tenantId, queue);
    this.queuedIds.add(job.jobId);
  }

  capacityAvailable(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = this.pump().finally(() => {
      this.pumping = null;
      if (this.pumpAgain) {
        this.pumpAgain = false;
        this.capacityAvailable();
      }
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    await this.pumping;
  }

  /** Serves rounds until no tenant has both queued jobs and a worker with credits, or a claim failed. */
  private async pump(): Promise<void> {
    while (!this.stopped) {
      const batches: Promise<boolean>[] = [];
      for (const [tenantId, queue] of [...this.queues]) {
        const session = this.sessions.withCredit(tenantId);
        if (!session) continue;
        // Taken off the queue and the credits reserved before any await, so concurrent work never overspends either.
        const batch = queue.splice(0, Math.min(session.credits, MAX_CLAIM_BATCH));
        session.credits -= batch.length;
        this.queues.delete(tenantId);
        if (queue.length > 0) this.queues.set(tenantId, queue);
        batches.push(this.dispatchBatch(batch, session));
      }
      if (batches.length === 0) return;
      // A failed claim (the database away) stops the pump; the next capacity event or resync restarts it.
      if ((await Promise.all(batches)).includes(false)) return;
    }
  }

  /** Claims the batch for the session's worker and sends the instructions; false when the claim failed and the batch went back to the queue. */
  private async dispatchBatch(batch: readonly DispatchableJob[], session: WorkerSessionHandle): Promise<boolean> {
    const outcome = await this.batches.claimAndSend(batch, session);
    if (outcome.kind === 'FAILED') {
      // Back in line without waking the pump: it stops, and a later event retries.
      for (const job of batch) this.insert(job);
      return false;
    }
    // Candidates not claimed were stale (claimed elsewhere, cancelled): PostgreSQL no longer holds them as queued.
    for (const job of batch) this.queuedIds.delete(job.jobId);
    return true;
  }
}

/** Where a job goes in a queue kept oldest first (by creation, then id): after every job not younger. */
function insertionIndex(queue: readonly DispatchableJob[], job: DispatchableJob): number {
  let low = 0;
  let high = queue.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const other = queue[middle]!;
    const older = other.createdAt.getTime() < job.createdAt.getTime() || (other.createdAt.getTime() === job.createdAt.getTime() && other.jobId <= job.jobId);
    if (older) low = middle + 1;
    else high = middle;
  }
  return low;
}
