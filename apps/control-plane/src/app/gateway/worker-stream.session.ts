import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '@nestjs/common';
import { terminalStatusFor, type DataAccess, type ResultDispositionName, type ResultToRecord, type WorkerAttemptRef } from '@airlock/data-access';
import { signControlFrame, verifyHelloSignature, type InstructionSigningKey } from '@airlock/envelope';
import { ruleIdOfWire } from '@airlock/policy';
import {
  FailureCode,
  FrameValidationError,
  PhaseState,
  PolicyAckStatus,
  ResultDisposition,
  WIRE_LIMITS,
  WORKER_REVOKED_REFUSAL,
  validateWorkerFrame,
  type AttemptRef__Output,
  type ControlFrame,
  type DeliveryOutcome__Output,
  type Heartbeat__Output,
  type Hello__Output,
  type JobResult__Output,
  type PolicyAck__Output,
  type PolicyRule,
  type WorkerFrame__Output,
} from '@airlock/protocol';
import type { Clock } from '../common/clock';
import type { GroupCommit } from '../common/group-commit';
import type { AppConfig } from '../config/app-config';
import type { JobDispatcher } from '../dispatch/job-dispatcher';
import { leaseExpiresAt } from '../dispatch/lease';
import type { WorkerSessionHandle, WorkerSessionRegistry } from '../dispatch/worker-session.registry';
import type { EventBus } from '../events/event-bus';
import { jobChangedEvent } from '../events/job-changed.event';
import type { ControlPlaneMetrics, HandshakeRefusalReason } from '../metrics/control-plane.metrics';
import type { PolicyDistributor } from '../policies/policy-distributor';
import type { CentralJobLimits } from './central-job-limits';
import type { HandshakeSlot } from './handshake-admission';
import { toDeliveryOutcomeReport } from './delivery-outcome.mapper';
import { toJobResultMetadata } from './job-result.mapper';
import { judgeResult } from './result-plausibility';
import type { ClientCertificateAuthority } from './client-certificate-authority';
import { ABANDONED, type WorkerBatches } from './worker-batches';
import { judgeHelloVersion, versionRefusal, type WorkerVersionRefusalVerdict } from './worker-version.gate';

/** Everything a stream session needs from the rest of the control plane. */
export interface WorkerStreamDependencies {
  readonly data: DataAccess;
  /** The Hello's and heartbeats' reads and writes of every stream, batched. */
  readonly batches: Pick<WorkerBatches, 'findIdentity' | 'markOnline' | 'standing' | 'policyRevision' | 'touch' | 'heartbeat' | 'ledgerHead'>;
  /** Records acks of every stream group-committed (DataAccess.jobs.recordAcks): true for each ack recorded. */
  readonly acks: Pick<GroupCommit<WorkerAttemptRef, boolean>, 'submit'>;
  /** Records results of every stream group-committed (DataAccess.jobs.recordResults). */
  readonly results: Pick<GroupCommit<ResultToRecord, ResultDispositionName>, 'submit'>;
  readonly registry: WorkerSessionRegistry;
  readonly dispatcher: JobDispatcher;
  readonly policy: Pick<PolicyDistributor, 'sendOnConnect'>;
  /** The limits of the central policy revision a result names, which its figures are judged by. */
  readonly jobLimits: Pick<CentralJobLimits, 'forWorker'>;
  /** Where job status changes this stream records are announced to the dashboard. */
  readonly events: EventBus;
  readonly config: AppConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How long after the Challenge the Hello may come. */
  readonly helloTimeoutMs: number;
  /** The key that signs Cancel, ResultAck, Drain and LeaseRenewal for this stream (the instruction-signing key in force). */
  readonly frameSigner: () => InstructionSigningKey;
  /** The client CA of mutual TLS, when the gateway has one: a Connect's certificate must name the worker saying Hello. */
  readonly clientCa?: Promise<ClientCertificateAuthority> | undefined;
  /** Where frames, refusals, results and handshake refusals are counted. */
  readonly metrics: Pick<ControlPlaneMetrics, 'frameReceived' | 'frameInvalid' | 'handshakeRefused' | 'instructionRefused' | 'jobFinished' | 'attemptEnded'>;
}

type WorkerStreamCall = grpc.ServerDuplexStream<WorkerFrame__Output, ControlFrame>;

/** The longest a Node.js timer waits; an end of support further away is waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Frames of different jobs one stream handles at once, at most (a worker's slots are far fewer). */
const MAX_FRAMES_IN_FLIGHT = 256;

/** Frames a welcomed stream may have waiting to be handled: a worker's slots wait for answers, so far fewer. */
const MAX_FRAMES_WAITING = 1_024;
/** Frames a stream may have waiting before its Welcome: a worker sends its Hello and waits for the answer. */
const MAX_FRAMES_WAITING_BEFORE_WELCOME = 8;

/** AWAITING_HELLO → READY → CLOSED; a frame that does not fit the state ends the stream. */
type StreamState = 'AWAITING_HELLO' | 'READY' | 'CLOSED';

const PHASE_EVENT_BY_STATE = {
  [PhaseState.PHASE_STATE_STARTED]: 'PHASE_STARTED',
  [PhaseState.PHASE_STATE_COMPLETED]: 'PHASE_COMPLETED',
  [PhaseState.PHASE_STATE_FAILED]: 'PHASE_FAILED',
} as const;

/**
 * One worker's Connect stream, per docs/worker-protocol.md: Challenge, signed Hello,
 * Welcome, then credits, instructions and reports. Frames are handled one at a time in
 * arrival order, so an ack is always recorded before the result that follows it.
 */
export class WorkerStreamSession implements WorkerSessionHandle {
  workerId = '';
  tenantId = '';
  credits = 0;
  labels: readonly string[] = [];
  pool: string | null = null;
  draining = false;
  policyRevision = 0;
  private capacity = 0;
  private state: StreamState = 'AWAITING_HELLO';
  private readonly challengeNonce = randomBytes(WIRE_LIMITS.challengeNonceBytes);
  private readonly helloTimer: NodeJS.Timeout;
  /** A deprecated worker's stream ends when its support does. */
  private endOfSupportTimer: NodeJS.Timeout | undefined;
  /** Every frame being handled or waiting its turn. */
  private readonly inFlight = new Set<Promise<void>>();
  /** The last frame that names no job: later frames wait for it. */
  private barrier: Promise<void> = Promise.resolve();
  /** Per job, the last of its frames received, so the next one waits for it. */
  private readonly lastFrameOfJob = new Map<string, Promise<void>>();
  /** A touch of the worker's row in flight, shared by the results that need one meanwhile. */
  private standingCheck: Promise<boolean> | null = null;
  /** True once the stream has ended: a handshake step still waiting for its batch is then dropped. */
  private readonly handshakeAbandoned = (): boolean => this.state === 'CLOSED' || this.call.cancelled || this.call.destroyed;

  constructor(
    private readonly call: WorkerStreamCall,
    private readonly deps: WorkerStreamDependencies,
    /** Its place among the gateway's handshakes in progress, given back when the handshake ends either way. */
    private readonly handshakeSlot: HandshakeSlot,
  ) {
    this.helloTimer = setTimeout(() => this.fail(grpc.status.DEADLINE_EXCEEDED, 'no hello before the challenge timed out'), deps.helloTimeoutMs);
    call.on('data', (frame: WorkerFrame__Output) => this.receive(frame));
    call.on('end', () => this.close('stream ended by the worker'));
    call.on('error', () => this.cleanUp());
    call.on('cancelled', () => this.cleanUp());
    this.send({ challenge: { nonce: this.challengeNonce } });
  }

  /**
   * Writes a frame to the worker. A Cancel, ResultAck, Drain or LeaseRenewal is signed first,
   * for this worker and this stream's challenge, so that the worker obeys it only if it came
   * from a holder of a signing key it pinned (FrameSignature in the proto).
   */
  send(frame: ControlFrame): boolean {
    if (this.state === 'CLOSED' || this.call.writableEnded || this.call.destroyed) return false;
    const signed = this.workerId === '' ? frame : signControlFrame(frame, this.deps.frameSigner(), { workerId: this.workerId, streamNonce: this.challengeNonce });
    return this.call.write(signed) || true;
  }

  close(reason: string): void {
    if (this.state === 'CLOSED') return;
    this.deps.logger.log({ event: 'worker_stream_closed', workerId: this.workerId || null, reason });
    this.cleanUp();
    this.call.end();
  }

  async revoke(): Promise<void> {
    this.refuseRevoked();
    // Frames still waiting see the stream closed and do nothing; wait for those in flight.
    await Promise.all([...this.inFlight]);
  }

  /** Ends the stream with the refusal that tells the worker it was revoked, so it stops instead of reconnecting. */
  private refuseRevoked(): void {
    const trailers = new grpc.Metadata();
    trailers.set(WORKER_REVOKED_REFUSAL.metadataKey, WORKER_REVOKED_REFUSAL.metadataValue);
    this.fail(WORKER_REVOKED_REFUSAL.status, 'worker revoked: an admin revoked this worker; enroll it anew to bring it back', trailers);
  }

  private fail(code: grpc.status, details: string, trailers = new grpc.Metadata()): void {
    if (this.state === 'CLOSED') return;
    this.deps.logger.warn({ event: 'worker_stream_refused', workerId: this.workerId || null, grpcStatus: grpc.status[code], details });
    if (this.state === 'AWAITING_HELLO') this.deps.metrics.handshakeRefused(handshakeRefusalReason(code));
    this.cleanUp();
    // grpc-js turns an 'error' on a server stream into the call's final status.
    this.call.emit('error', { code, details, metadata: trailers });
  }

  private cleanUp(): void {
    if (this.state === 'CLOSED') return;
    const wasReady = this.state === 'READY';
    this.state = 'CLOSED';
    this.handshakeSlot.release(false);
    clearTimeout(this.helloTimer);
    clearTimeout(this.endOfSupportTimer);
    this.credits = 0;
    if (wasReady && this.deps.registry.unregister(this)) {
      // Leases, not disconnects, decide when a job goes back to the queue.
      const now = this.deps.clock.now();
      this.deps.registry.track(
        this.deps.data.workers
          .markOffline(this.workerId, now)
          .then(() => this.publishWorkerChange('DISCONNECTED', now))
          .catch((error: unknown) => this.deps.logger.error({ event: 'mark_offline_failed', workerId: this.workerId, error: (error as Error).name })),
      );
    }
  }

  private publishWorkerChange(change: 'CONNECTED' | 'DISCONNECTED', at: Date): void {
    this.deps.events.publish({ type: 'worker.changed', tenantId: this.tenantId, workerId: this.workerId, change, at: at.toISOString() });
  }

  /**
   * Where the worker stands, as a heartbeat or result finds it: a revoked worker's stream is
   * ended (false: the frame is not to be processed); a drain or its end decided elsewhere is
   * taken up. A heartbeat's touch lingers to share its batch with other streams' heartbeats.
   */
  private async stillAccepted(frame: 'heartbeat' | 'report' = 'report'): Promise<boolean> {
    const standing = await (frame === 'heartbeat' ? this.deps.batches.heartbeat(this.workerId) : this.deps.batches.touch(this.workerId));
    if (standing === 'REVOKED') {
      this.refuseRevoked();
      return false;
    }
    this.takeUpDraining(standing === 'DRAINING');
    return true;
  }

  private takeUpDraining(draining: boolean): void {
    const undrained = this.draining && !draining;
    this.draining = draining;
    if (undrained) this.deps.dispatcher.capacityAvailable();
  }

  private async handle(frame: WorkerFrame__Output): Promise<void> {
    if (this.state === 'CLOSED' || !this.admit(frame)) return;
    try {
      await this.dispatchFrame(frame);
    } catch (error) {
      this.deps.logger.error({ event: 'worker_frame_failed', workerId: this.workerId || null, frame: frame.frame ?? null, error: (error as Error).name });
      this.fail(grpc.status.INTERNAL, 'the control plane could not process the frame');
    }
  }

  /**
   * Queues a frame for handling. Frames of one job are handled in arrival order (an ack is
   * recorded before the result that follows it); frames of different jobs are handled
   * concurrently, so the acks and results of a worker's slots are group-committed together
   * instead of one transaction after another. Credits are taken at once. Any other frame that
   * names no job (Hello, heartbeat, policy ack, delivery outcome), and any frame before the
   * stream is ready, waits for every frame before it, and every frame after it waits for it.
   */
  private receive(frame: WorkerFrame__Output): void {
    // Frames arrive as fast as the worker sends them and wait here for the database: unbounded,
    // a worker that never waits for answers would grow this queue until memory runs out.
    const maxWaiting = this.state === 'READY' ? MAX_FRAMES_WAITING : MAX_FRAMES_WAITING_BEFORE_WELCOME;
    if (this.inFlight.size >= maxWaiting) {
      this.fail(grpc.status.RESOURCE_EXHAUSTED, `${maxWaiting} frames already waiting to be handled on this stream: wait for answers before sending more`);
      return;
    }
    if (this.state === 'READY' && frame.frame === 'credit') {
      // Credits touch no record, so nothing before them need finish first: handled at once,
      // they let the dispatcher refill the worker's slots while its results are committed.
      void this.handle(frame);
      return;
    }
    // Past the bound, frames are handled one after another again: a worker naming thousands of jobs cannot fan out without limit.
    const jobId = this.state === 'READY' && this.inFlight.size < MAX_FRAMES_IN_FLIGHT ? jobOfFrame(frame) : null;
    let task: Promise<void>;
    if (jobId === null) {
      const before = [...this.inFlight];
      task = Promise.all(before).then(() => this.handle(frame));
      this.barrier = task;
    } else {
      const previous = this.lastFrameOfJob.get(jobId);
      task = (previous ? Promise.all([previous, this.barrier]) : this.barrier).then(() => this.handle(frame));
      this.lastFrameOfJob.set(jobId, task);
      void task.then(() => {
        if (this.lastFrameOfJob.get(jobId) === task) this.lastFrameOfJob.delete(jobId);
      });
    }
    this.inFlight.add(task);
    void task.then(() => this.inFlight.delete(task));
  }

  private async recordAck(ref: AttemptRef__Output): Promise<void> {
    const recorded = await this.deps.acks.submit({ workerId: this.workerId, jobId: ref.jobId, attempt: ref.attempt });
    this.deps.logger.log({ event: 'instruction_acked', workerId: this.workerId, jobId: ref.jobId, attempt: ref.attempt, recorded });
    if (recorded) this.deps.events.publish(jobChangedEvent(this.tenantId, ref.jobId, 'RUNNING', this.deps.clock.now()));
  }

  /**
   * Records a result and answers it with a ResultAck. Refused, unacknowledged, when the
   * worker was revoked meanwhile (on another replica, say): it keeps the result and sends it
   * again.
   */
  private async recordResult(result: JobResult__Output, now: Date): Promise<void> {
    if (!(await this.stillAcceptedShared())) return;
    const ref = { workerId: this.workerId, jobId: result.attempt!.jobId, attempt: result.attempt!.attempt };
    const metadata = toJobResultMetadata(result);
    const jobLimits = await this.deps.jobLimits.forWorker(this.tenantId, metadata.policy?.revision ?? 0, this);
    const judgeFigures = judgeResult(metadata, now, jobLimits);
    let implausible: readonly string[] = [];
    const disposition = await this.deps.results.submit({ ref, result: metadata, judge: (attempt) => (implausible = judgeFigures(attempt)) });
    this.deps.logger.log({ event: 'job_result', workerId: this.workerId, jobId: ref.jobId, attempt: ref.attempt, outcome: result.outcome, disposition });
    if (implausible.length > 0) this.deps.logger.warn({ event: 'implausible_result', workerId: this.workerId, jobId: ref.jobId, attempt: ref.attempt, reasons: implausible.join(',') });
    if (disposition === 'RECORDED') {
      this.deps.metrics.jobFinished(terminalStatusFor(metadata.outcome), metadata.failureCode);
      this.deps.events.publish(jobChangedEvent(this.tenantId, ref.jobId, terminalStatusFor(metadata.outcome), now));
      // The job ended: under a running-jobs limit that makes room for another, on any of the tenant's workers.
      this.deps.dispatcher.capacityAvailable();
    }
    this.send({ resultAck: { attempt: { jobId: ref.jobId, attempt: ref.attempt }, disposition: ResultDisposition[`RESULT_DISPOSITION_${disposition}`] } });
  }

  /**
   * `stillAccepted` for results handled concurrently: they share the worker's touch in
   * flight instead of each updating its row (which they would do one after another).
   */
  private stillAcceptedShared(): Promise<boolean> {
    if (!this.standingCheck) {
      const check = this.stillAccepted().finally(() => {
        if (this.standingCheck === check) this.standingCheck = null;
      });
      this.standingCheck = check;
    }
    return this.standingCheck;
  }

  /** Checks a frame against the closed schema; a frame that fails ends the stream (false). */
  private admit(frame: WorkerFrame__Output): boolean {
    try {
      validateWorkerFrame(frame);
      this.deps.metrics.frameReceived(frame.frame);
      return true;
    } catch (error) {
      if (!(error instanceof FrameValidationError)) throw error;
      this.deps.metrics.frameInvalid();
      // The field name and expectation only: the value may be anything the worker sent.
      this.deps.logger.warn({ event: 'invalid_worker_frame', workerId: this.workerId || null, field: error.violation.field });
      this.fail(grpc.status.INVALID_ARGUMENT, error.message);
      return false;
    }
  }

  private async dispatchFrame(frame: WorkerFrame__Output): Promise<void> {
    if (this.state === 'AWAITING_HELLO') {
      if (frame.frame !== 'hello' || !frame.hello) {
        this.fail(grpc.status.UNAUTHENTICATED, 'hello expected as the first frame');
        return;
      }
      // The worker answered in time: what is left of the handshake is the control plane's work.
      clearTimeout(this.helloTimer);
      try {
        await this.acceptHello(frame.hello);
      } finally {
        // Welcomed or not: acceptHello moved the state on (TypeScript's narrowing cannot see past the await).
        this.handshakeSlot.release((this.state as StreamState) === 'READY');
      }
      return;
    }
    const { data, clock } = this.deps;
    const now = clock.now();
    switch (frame.frame) {
      case 'hello':
        this.fail(grpc.status.FAILED_PRECONDITION, 'hello already received on this stream');
        return;
      case 'credit':
        // Never hold more credits than the slots the worker announced.
        this.credits = Math.min(this.capacity, this.credits + frame.credit!.credits);
        this.deps.dispatcher.capacityAvailable();
        return;
      case 'ack':
        await this.recordAck(frame.ack!.attempt!);
        return;
      case 'result':
        await this.recordResult(frame.result!, now);
        return;
      case 'rejected': {
        const { attempt: ref, failureCode, rules } = frame.rejected!;
        this.deps.metrics.instructionRefused(failureCode);
        if (!ref) {
          this.deps.logger.warn({ event: 'unreadable_instruction_rejected', workerId: this.workerId, failureCode });
          return;
        }
        const attemptRef = { workerId: this.workerId, jobId: ref.jobId, attempt: ref.attempt };
        if (failureCode === FailureCode.ATTEMPT_ALREADY_SEEN) {
          // The worker runs (or ran) this very attempt: its lease and its result decide the job.
          this.deps.logger.warn({ event: 'instruction_duplicate_refused', workerId: this.workerId, jobId: ref.jobId, attempt: ref.attempt });
          return;
        }
        if (failureCode === FailureCode.WORKER_AT_CAPACITY) {
          // Nothing against the job: it goes back to the queue as the next attempt.
          const outcome = await data.jobs.requeueTurnedAway(attemptRef, failureCode, now);
          this.deps.logger.warn({ event: 'instruction_turned_away', workerId: this.workerId, jobId: ref.jobId, attempt: ref.attempt, requeued: outcome?.requeued ?? false });
          if (outcome) {
            this.deps.metrics.attemptEnded(outcome, failureCode);
            this.deps.events.publish(jobChangedEvent(outcome.tenantId, outcome.jobId, outcome.status, now));
          }
          if (outcome?.requeued) this.deps.dispatcher.enqueue({ jobId: outcome.jobId, tenantId: outcome.tenantId, pool: outcome.pool, currentAttempt: outcome.attempt });
          return;
        }
        const recorded = await data.jobs.recordRejection(attemptRef, failureCode, now, ruleIds(rules));
        this.deps.logger.warn({ event: 'instruction_rejected', workerId: this.workerId, jobId: ref.jobId, attempt: ref.attempt, failureCode, recorded, rules: ruleIds(rules) });
        if (recorded) {
          this.deps.metrics.jobFinished('FAILED', failureCode);
          this.deps.events.publish(jobChangedEvent(this.tenantId, ref.jobId, 'FAILED', now));
        }
        return;
      }
      case 'progress': {
        const { attempt: ref, phase, state } = frame.progress!;
        const type = PHASE_EVENT_BY_STATE[state as keyof typeof PHASE_EVENT_BY_STATE];
        const recorded = await data.jobs.recordProgress({ workerId: this.workerId, jobId: ref!.jobId, attempt: ref!.attempt }, { type, phase }, now);
        // The status stays RUNNING, but a job page draws its phase timeline live from this.
        if (recorded) this.deps.events.publish(jobChangedEvent(this.tenantId, ref!.jobId, 'RUNNING', now));
        return;
      }
      case 'heartbeat':
        // First: a revoked worker's heartbeat must not renew its leases.
        if (!(await this.stillAccepted('heartbeat'))) return;
        await Promise.all([this.renewLeases(frame.heartbeat!.seq, frame.heartbeat!.running, now), this.recordLedgerHead(frame.heartbeat!)]);
        return;
      case 'policyAck':
        await this.recordPolicyAck(frame.policyAck!, now);
        return;
      case 'deliveryOutcome':
        // Like a result: refused when the worker was revoked meanwhile.
        if (!(await this.stillAccepted())) return;
        await this.recordDeliveryOutcome(frame.deliveryOutcome!, now);
        return;
    }
  }

  /**
   * Keeps the head of the worker's egress audit log that the heartbeat reported. One that
   * goes back, or names a line already reported with another hash, is not kept: the worker's
   * log was cut back or rewritten after it reported it, which only its customer can look into
   * (`airlock-worker audit verify --against`), so it is logged for the operator.
   */
  private async recordLedgerHead(heartbeat: Heartbeat__Output): Promise<void> {
    if (heartbeat.ledgerSeq === 0) return;
    const verdict = await this.deps.batches.ledgerHead({ workerId: this.workerId, seq: heartbeat.ledgerSeq, head: heartbeat.ledgerHead });
    if (verdict === 'REGRESSED' || verdict === 'FORKED') {
      this.deps.logger.warn({ event: 'worker_ledger_inconsistent', workerId: this.workerId, verdict, reportedSeq: heartbeat.ledgerSeq });
    }
  }

  /**
   * Stores what the worker saw of a merge request it delivered to, unless the chain is not of
   * its tenant or never ran on it (the frame has no answer, so a refusal is only logged), or a
   * final outcome is stored already. A stored one is announced as a change of the chain's first job.
   */
  private async recordDeliveryOutcome(outcome: DeliveryOutcome__Output, now: Date): Promise<void> {
    const { data, logger } = this.deps;
    const recording = await data.deliveryOutcomes.record({ workerId: this.workerId, tenantId: this.tenantId }, toDeliveryOutcomeReport(outcome), now);
    const fields = { workerId: this.workerId, deliveryJobId: outcome.deliveryJobId, state: outcome.state, final: outcome.final };
    switch (recording.kind) {
      case 'RECORDED':
        logger.log({ event: 'delivery_outcome_recorded', ...fields });
        this.deps.events.publish(jobChangedEvent(this.tenantId, outcome.deliveryJobId, recording.jobStatus, now));
        return;
      case 'ALREADY_FINAL':
        logger.log({ event: 'delivery_outcome_after_final_ignored', ...fields });
        return;
      case 'UNKNOWN_CHAIN':
      case 'NOT_RUN_BY_WORKER':
      case 'OUT_OF_RANGE':
        logger.warn({ event: 'delivery_outcome_dropped', reason: recording.kind, ...fields });
    }
  }

  /**
   * APPLIED: the revision is in force on the worker, with the rules its local policy keeps
   * stricter. REFUSED: kept as the worker's last refusal; the revision in force stays.
   */
  private async recordPolicyAck(ack: PolicyAck__Output, now: Date): Promise<void> {
    const { data, logger } = this.deps;
    if (ack.status === PolicyAckStatus.POLICY_ACK_STATUS_APPLIED) {
      const narrowedRules = ruleIds(ack.narrowed);
      const recorded = await data.workers.recordPolicyApplied(this.workerId, { revision: ack.revision, narrowedRules, now });
      logger.log({ event: 'policy_applied', workerId: this.workerId, revision: ack.revision, narrowedRules, recorded });
      return;
    }
    await data.workers.recordPolicyRefused(this.workerId, { revision: ack.revision, failureCode: ack.failureCode, now });
    logger.warn({ event: 'policy_refused', workerId: this.workerId, revision: ack.revision, failureCode: ack.failureCode });
  }

  /**
   * Renews the leases of the attempts a Hello or Heartbeat lists, tells the worker which
   * (LeaseRenewal, echoing the heartbeat's number), and sends Cancel for every listed attempt
   * that is not its job's current, live attempt on this worker — a fenced attempt on a worker
   * that was paused or cut off past its lease — or whose job a user cancelled.
   */
  private async renewLeases(heartbeatSeq: number, running: readonly AttemptRef__Output[], now: Date): Promise<void> {
    const { renewed, cancel } = await this.deps.data.jobs.renewLeases(this.workerId, running, leaseExpiresAt(now, this.deps.config.leaseTtlMs));
    this.send({ leaseRenewal: { heartbeatSeq, renewed } });
    for (const attempt of cancel) {
      this.deps.logger.warn({ event: 'reported_attempt_cancelled', workerId: this.workerId, jobId: attempt.jobId, attempt: attempt.attempt });
      this.send({ cancel: { attempt } });
    }
  }

  /** Ends the stream refusing the worker's version (WORKER_VERSION_REFUSAL), logged with the window. */
  private refuseVersion(refusal: WorkerVersionRefusalVerdict): void {
    this.deps.logger.warn({ event: 'worker_version_refused', workerId: this.workerId, tenantId: this.tenantId, ...refusal.logFields });
    this.fail(refusal.status, refusal.details, refusal.trailers);
  }

  /**
   * Ends a deprecated worker's stream when its support ends, refused as too old: a stream
   * opened before the date would otherwise keep taking work past it (its next Hello is refused).
   */
  private refuseAtEndOfSupport(version: string, endOfSupport: Date): void {
    if (this.state === 'CLOSED') return;
    const remainingMs = endOfSupport.getTime() - this.deps.clock.now().getTime();
    this.endOfSupportTimer = setTimeout(
      () => {
        if (remainingMs > MAX_TIMER_MS) return this.refuseAtEndOfSupport(version, endOfSupport);
        this.refuseVersion(versionRefusal(version, 'TOO_OLD', this.deps.config.workerVersions, endOfSupport));
      },
      Math.min(Math.max(remainingMs, 0), MAX_TIMER_MS),
    );
    this.endOfSupportTimer.unref();
  }

  /**
   * With mutual TLS, why this Connect's client certificate does not let `workerId` in: none was
   * presented (when certificates are required), or it names another worker or is not the
   * client CA's. Null when it is fine, or when the gateway has no client CA.
   */
  private async clientCertificateProblem(workerId: string, now: Date): Promise<string | null> {
    const clientCa = await this.deps.clientCa;
    if (!clientCa) return null;
    const peer = this.call.getAuthContext().sslPeerCertificate;
    if (peer === undefined) return clientCa.mode === 'require' ? 'this control plane requires a client certificate (enroll the worker again to get one)' : null;
    const named = clientCa.workerOf(peer, now);
    if ('problem' in named) return named.problem;
    return named.workerId === workerId ? null : 'the client certificate is for another worker';
  }

  private async acceptHello(hello: Hello__Output): Promise<void> {
    const { batches, clock, config } = this.deps;
    const worker = await batches.findIdentity({ workerId: hello.workerId, abandoned: this.handshakeAbandoned });
    // Abandoned: the worker gave up while its Hello waited; its stream is closed already.
    if (worker === ABANDONED || this.state !== 'AWAITING_HELLO') return;
    if (!worker || !verifyHelloSignature(worker.publicKey, hello.workerId, this.challengeNonce, hello.challengeSignature)) {
      this.fail(grpc.status.UNAUTHENTICATED, 'hello not accepted');
      return;
    }
    const now = clock.now();
    const certificateProblem = await this.clientCertificateProblem(worker.id, now);
    if (certificateProblem !== null) {
      this.deps.logger.warn({ event: 'worker_client_certificate_refused', workerId: worker.id, problem: certificateProblem });
      this.fail(grpc.status.UNAUTHENTICATED, `hello not accepted: ${certificateProblem}`);
      return;
    }
    this.workerId = worker.id;
    this.tenantId = worker.tenantId;
    if (worker.revoked) {
      this.refuseRevoked();
      return;
    }
    // Only now, the signature checked: a caller that cannot sign learns nothing of the window.
    const versionVerdict = judgeHelloVersion(hello.workerVersion, config.workerVersions, now);
    if (versionVerdict.refusal) {
      this.refuseVersion(versionVerdict.refusal);
      return;
    }
    this.capacity = hello.capacity;
    this.labels = hello.labels;
    this.policyRevision = hello.policyRevision;
    const connection = await batches.markOnline({
      workerId: worker.id,
      version: hello.workerVersion,
      capacity: hello.capacity,
      localPolicyDigest: hello.localPolicyDigest,
      labels: hello.labels,
      policyRevision: hello.policyRevision,
      now,
      abandoned: this.handshakeAbandoned,
    });
    if (connection === ABANDONED) return;
    if (connection.kind === 'REVOKED') {
      this.refuseRevoked();
      return;
    }
    this.pool = connection.pool;
    this.draining = connection.draining;
    if (this.handshakeAbandoned()) {
      this.cleanUp();
      return;
    }
    this.state = 'READY';
    this.deps.registry.register(this);
    // A revocation or drain that committed after markOnline looked for this stream before it
    // was registered, and did not find it: read the worker's standing once more.
    const standing = await batches.standing(worker.id);
    if (standing === 'REVOKED') {
      this.refuseRevoked();
      return;
    }
    this.draining = standing === 'DRAINING';
    this.publishWorkerChange('CONNECTED', now);
    this.send({ welcome: { heartbeatIntervalMs: config.heartbeatIntervalMs, leaseTtlMs: config.leaseTtlMs, versionNotice: versionVerdict.notice } });
    if (versionVerdict.judgement.status === 'DEPRECATED') this.refuseAtEndOfSupport(hello.workerVersion, versionVerdict.judgement.endOfSupport);
    // Attempts still running from before a reconnect keep their leases (the Hello counts as
    // heartbeat 0); the ones fenced meanwhile are cancelled before they can deliver.
    await this.renewLeases(0, hello.running, now);
    // A worker behind its tenant's policy (offline during a publish, or new) gets the current
    // bundle now; one that holds the current revision (most, after a restart) costs one
    // batched read of the revision, not a read of the layers.
    if ((await batches.policyRevision(worker.tenantId)) > this.policyRevision) await this.deps.policy.sendOnConnect(this);
    this.deps.logger.log({
      event: 'worker_connected',
      workerId: worker.id,
      tenantId: worker.tenantId,
      capacity: hello.capacity,
      running: hello.running.length,
      labels: hello.labels,
      pool: this.pool,
      draining: this.draining,
      policyRevision: hello.policyRevision,
      version: hello.workerVersion,
      versionStatus: versionVerdict.judgement.status,
    });
  }
}

/** What a refusal before the Welcome is counted as, by the status the stream ends with (each status has one cause there). */
function handshakeRefusalReason(code: grpc.status): HandshakeRefusalReason {
  switch (code) {
    case grpc.status.DEADLINE_EXCEEDED:
      return 'hello_timeout';
    case grpc.status.UNAUTHENTICATED:
      return 'unauthenticated';
    case WORKER_REVOKED_REFUSAL.status:
      return 'revoked';
    case grpc.status.FAILED_PRECONDITION:
      return 'version';
    case grpc.status.INVALID_ARGUMENT:
      return 'invalid_frame';
    case grpc.status.RESOURCE_EXHAUSTED:
      return 'too_many_frames';
    default:
      return 'internal';
  }
}

/** Rule ids of validated wire rules (validateWorkerFrame admits known rules only). */
function ruleIds(rules: readonly PolicyRule[]): string[] {
  return rules.flatMap((rule) => ruleIdOfWire(rule) ?? []);
}

/** The job a frame reports on (ack, progress, rejection, result), or null for a frame of the stream as a whole. */
function jobOfFrame(frame: WorkerFrame__Output): string | null {
  const attempt = frame.ack?.attempt ?? frame.progress?.attempt ?? frame.rejected?.attempt ?? frame.result?.attempt;
  return typeof attempt?.jobId === 'string' ? attempt.jobId : null;
}
