import { performance } from 'node:perf_hooks';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataAccess, type ClaimOutcome, type DispatchClaim, type PoolQuota } from '@airlock/data-access';
import { signInstruction } from '@airlock/envelope';
import { FailureCode, FrameValidationError, InstructionPayloadDecodeError, type SignedInstruction__Output } from '@airlock/protocol';
import { CLOCK, type Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { EVENT_BUS, type EventBus } from '../events/event-bus';
import { jobChangedEvent } from '../events/job-changed.event';
import { ControlPlaneMetrics } from '../metrics/control-plane.metrics';
import { SigningKeyService } from '../signing/signing-key.service';
import { buildInstructionPayload } from './instruction-payload.factory';
import { leaseExpiresAt } from './lease';
import type { WorkerSessionHandle } from './worker-session.registry';

/** The most jobs one claim statement takes for one worker. */
export const MAX_CLAIM_BATCH = 64;

/**
 * What a batch dispatch did: `claims` were won for the worker (fewer than asked when fewer
 * were queued, or `limited`: a running-jobs limit of the tenant or of a pool held some back),
 * `sent` of them went out; `FAILED` when the claim itself failed (the database away) and
 * nothing changed.
 */
export type BatchDispatchOutcome =
  | { readonly kind: 'DONE'; readonly claims: readonly DispatchClaim[]; readonly sent: number; readonly limited: boolean }
  | { readonly kind: 'FAILED' };

/** The pools a worker serves: the one its enrollment named and those its Hello listed. */
export function poolsServedBy(session: Pick<WorkerSessionHandle, 'pool' | 'labels'>): string[] {
  return [...new Set(session.pool === null ? session.labels : [session.pool, ...session.labels])];
}

/** Whether the worker may run a job targeted at the pool; an untargeted job (null) goes to every worker. */
export function servesPool(session: Pick<WorkerSessionHandle, 'pool' | 'labels'>, pool: string | null): boolean {
  return pool === null || session.pool === pool || session.labels.includes(pool);
}

/**
 * The step every dispatcher shares: claim the best queued jobs of one tenant for one worker
 * with one statement (per pool up to its quota, best priority first), then sign and send each
 * won attempt's instruction on its stream. The session's credits are the caller's to reserve
 * before (`max` of them); what the batch did not use is given back here.
 */
@Injectable()
export class BatchDispatch {
  private readonly logger = new Logger('Dispatch');

  constructor(
    private readonly data: DataAccess,
    private readonly signingKeys: SigningKeyService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(EVENT_BUS) private readonly events: EventBus,
    private readonly metrics: ControlPlaneMetrics,
  ) {}

  /** Claims for the session's worker from the pools it serves and sends the instructions; of the `max` credits reserved, those not used go back to the session. */
  async claimAndSend(session: WorkerSessionHandle, quotas: readonly PoolQuota[], max: number): Promise<BatchDispatchOutcome> {
    const now = this.clock.now();
    let claimed: ClaimOutcome;
    const claimStarted = performance.now();
    try {
      claimed = await this.data.jobs.claimNext({
        tenantId: session.tenantId,
        workerId: session.workerId,
        quotas: quotas.filter((quota) => servesPool(session, quota.pool)),
        max,
        leaseExpiresAt: leaseExpiresAt(now, this.config.leaseTtlMs),
        now,
      });
    } catch (error) {
      this.logger.error({ event: 'dispatch_failed', tenantId: session.tenantId, error: (error as Error).name });
      session.credits += max;
      return { kind: 'FAILED' };
    } finally {
      this.metrics.claimed((performance.now() - claimStarted) / 1000);
    }
    let sent = 0;
    for (const claim of claimed.claims) {
      this.events.publish(jobChangedEvent(claim.tenantId, claim.jobId, 'DISPATCHED', now));
      try {
        if (await this.sendInstruction(claim, session, now)) sent += 1;
      } catch (error) {
        // The attempt stays DISPATCHED unsent: its lease expires and the reaper queues the job again.
        this.logger.error({ event: 'dispatch_failed', jobId: claim.jobId, attempt: claim.attempt, error: (error as Error).name });
      }
    }
    session.credits += max - sent;
    return { kind: 'DONE', claims: claimed.claims, sent, limited: claimed.limited };
  }

  /** Signs and sends one claimed attempt; false when it could never be sent and was failed instead. */
  private async sendInstruction(claim: DispatchClaim, session: WorkerSessionHandle, now: Date): Promise<boolean> {
    let instruction: SignedInstruction__Output;
    try {
      instruction = signInstruction(buildInstructionPayload(claim, session.workerId, now, this.config.instructionTtlMs), this.signingKeys.currentSigner());
    } catch (error) {
      if (!(error instanceof FrameValidationError || error instanceof InstructionPayloadDecodeError)) throw error;
      // A job stored before creation checked its instruction (one with no ticket title,
      // say) can never be sent: fail it now, as a worker refusing it would, instead of
      // leaving the claimed attempt to expire and be retried to no end.
      const failed = await this.data.jobs.recordRejection({ workerId: session.workerId, jobId: claim.jobId, attempt: claim.attempt }, FailureCode.INSTRUCTION_MALFORMED, now);
      if (failed) {
        this.events.publish(jobChangedEvent(claim.tenantId, claim.jobId, 'FAILED', now));
        this.metrics.jobFinished('FAILED', FailureCode.INSTRUCTION_MALFORMED);
      }
      this.logger.error({ event: 'job_undispatchable', jobId: claim.jobId, attempt: claim.attempt, field: error instanceof FrameValidationError ? error.violation.field : null });
      return false;
    }
    // If the stream closed meanwhile the attempt stays DISPATCHED; its lease expires and
    // the reaper queues the job again. Nothing is lost, it is only late.
    const delivered = session.send({ instruction });
    if (delivered) this.metrics.instructionSent(claim.attempt, claim.createdAt, this.clock.now());
    this.logger.log({ event: 'job_dispatched', jobId: claim.jobId, attempt: claim.attempt, workerId: session.workerId, delivered });
    return true;
  }
}
