import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataAccess } from '@airlock/data-access';
import { signInstruction } from '@airlock/envelope';
import { FailureCode, FrameValidationError, InstructionPayloadDecodeError, type SignedInstruction__Output } from '@airlock/protocol';
import { CLOCK, type Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { EVENT_BUS, type EventBus } from '../events/event-bus';
import { jobChangedEvent } from '../events/job-changed.event';
import { SigningKeyService } from '../signing/signing-key.service';
import { buildInstructionPayload } from './instruction-payload.factory';
import type { DispatchableJob, JobDispatcher } from './job-dispatcher';
import { leaseExpiresAt } from './lease';
import { WorkerSessionRegistry, type WorkerSessionHandle } from './worker-session.registry';

// Enough to refill the queue of a busy installation; more is picked up on the next start.
const REBUILD_LIMIT = 10_000;

/**
 * The single-process dispatcher: per-tenant queues in memory (oldest job first), rebuilt
 * from PostgreSQL at start. PostgreSQL stays the record: a dispatch only counts once its
 * conditional claim of the job commits, so a stale queue entry is harmless.
 */
@Injectable()
export class InProcessJobDispatcher implements JobDispatcher {
  private readonly logger = new Logger(InProcessJobDispatcher.name);
  private readonly queues = new Map<string, DispatchableJob[]>();
  private readonly queuedIds = new Set<string>();
  private pumping: Promise<void> | null = null;
  private pumpAgain = false;
  private stopped = false;

  constructor(
    private readonly data: DataAccess,
    private readonly sessions: WorkerSessionRegistry,
    private readonly signingKeys: SigningKeyService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(EVENT_BUS) private readonly events: EventBus,
  ) {}

  async start(): Promise<void> {
    const queued = await this.resync();
    this.logger.log({ event: 'dispatch_queue_rebuilt', queuedJobs: queued });
  }

  async resync(): Promise<number> {
    const queued = await this.data.jobs.listQueued(REBUILD_LIMIT);
    for (const job of queued) this.enqueue(job);
    return queued.length;
  }

  enqueue(job: DispatchableJob): void {
    if (this.queuedIds.has(job.jobId)) return;
    const queue = this.queues.get(job.tenantId) ?? [];
    // Keep creation order, so a requeued job goes before younger ones.
    const index = queue.findIndex((other) => other.createdAt.getTime() > job.createdAt.getTime());
    queue.splice(index === -1 ? queue.length : index, 0, job);
    this.queues.set(job.tenantId, queue);
    this.queuedIds.add(job.jobId);
    this.capacityAvailable();
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
    await this.pumping;
  }

  /** Hands queued jobs to sessions with credits until one side runs out. */
  private async pump(): Promise<void> {
    for (const [tenantId, queue] of this.queues) {
      let session = this.sessions.withCredit(tenantId);
      while (session && queue.length > 0 && !this.stopped) {
        const job = queue[0]!;
        // Reserve the credit before any await, so concurrent work never overspends it.
        session.credits -= 1;
        let outcome: 'sent' | 'gone' | 'retry';
        try {
          outcome = await this.dispatch(job, session);
        } catch (error) {
          this.logger.error({ event: 'dispatch_failed', jobId: job.jobId, error: (error as Error).name });
          outcome = 'retry';
        }
        if (outcome !== 'sent') session.credits += 1;
        if (outcome === 'retry') break;
        // By identity, not position: an older job enqueued during the await above sorts in
        // front of this one, and shifting the head would drop it from the queue.
        queue.splice(queue.indexOf(job), 1);
        this.queuedIds.delete(job.jobId);
        session = this.sessions.withCredit(tenantId);
      }
      if (queue.length === 0) this.queues.delete(tenantId);
    }
  }

  private async dispatch(job: DispatchableJob, session: WorkerSessionHandle): Promise<'sent' | 'gone'> {
    const now = this.clock.now();
    const claim = await this.data.jobs.claimForDispatch({
      jobId: job.jobId,
      tenantId: job.tenantId,
      workerId: session.workerId,
      expectedCurrentAttempt: job.currentAttempt,
      leaseExpiresAt: leaseExpiresAt(now, this.config.leaseTtlMs),
      now,
    });
    // Another dispatcher (or a cancel) moved the job on: this queue entry was stale.
    if (!claim) return 'gone';
    this.events.publish(jobChangedEvent(claim.tenantId, claim.jobId, 'DISPATCHED', now));
    let instruction: SignedInstruction__Output;
    try {
      instruction = signInstruction(buildInstructionPayload(claim, session.workerId, now, this.config.instructionTtlMs), this.signingKeys.currentSigner());
    } catch (error) {
      if (!(error instanceof FrameValidationError || error instanceof InstructionPayloadDecodeError)) throw error;
      // A job stored before creation checked its instruction (one with no ticket title,
      // say) can never be sent: fail it now, as a worker refusing it would, instead of
      // leaving the claimed attempt to expire and be retried to no end.
      const failed = await this.data.jobs.recordRejection({ workerId: session.workerId, jobId: claim.jobId, attempt: claim.attempt }, FailureCode.INSTRUCTION_MALFORMED, now);
      if (failed) this.events.publish(jobChangedEvent(claim.tenantId, claim.jobId, 'FAILED', now));
      this.logger.error({ event: 'job_undispatchable', jobId: claim.jobId, attempt: claim.attempt, field: error instanceof FrameValidationError ? error.violation.field : null });
      return 'gone';
    }
    // If the stream closed meanwhile the attempt stays DISPATCHED; its lease expires and
    // the reaper queues the job again. Nothing is lost, it is only late.
    const delivered = session.send({ instruction });
    this.logger.log({ event: 'job_dispatched', jobId: claim.jobId, attempt: claim.attempt, workerId: session.workerId, delivered });
    return 'sent';
  }
}
