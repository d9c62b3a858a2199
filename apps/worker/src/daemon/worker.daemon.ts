import { helloSignature } from '@airlock/envelope';
import {
  FailureCode,
  type ControlFrame__Output,
  type Hello__Output,
  type InstructionPayload__Output,
  type WorkerFrame__Output,
} from '@airlock/protocol';
import type { WorkerConfig } from '../config/worker-config.loader';
import { GatewaySession, type ConnectStreamOpener } from '../gateway/gateway.session';
import type { OutboundGate } from '../gateway/outbound.gate';
import { ReconnectBackoff, jittered } from '../gateway/reconnect.backoff';
import type { HealthSnapshot } from '../health/health.server';
import type { WorkerIdentity } from '../identity/worker-identity.store';
import type { AttemptLedger } from '../instructions/attempt-ledger';
import type { InstructionGatekeeper } from '../instructions/instruction.gatekeeper';
import { ABORT_REASON, type ProgressListener } from '../jobs/fix-job.pipeline';
import { JobPhaseFailedError } from '../jobs/job-phase-failed.error';
import type { JobRunner } from '../jobs/job.runner';
import type { FailureCodeName } from '../jobs/job-result.builder';
import type { Logger } from '../logging/json-logger';
import type { ResultOutbox } from '../outbox/result-outbox';
import { LeaseTracker, type MonotonicClock } from './lease.tracker';
import type { CheckResult } from './readiness.checks';
import { CreditLedger } from './credit.ledger';
import { systemClock } from './daemon.clock';
import { TokenBucket } from './token.bucket';
import { WorkerLifecycle } from './worker-lifecycle';

/** Everything the daemon is assembled from (see `run.command.ts`). */
export interface WorkerDaemonDependencies {
  readonly config: WorkerConfig;
  readonly identity: WorkerIdentity;
  readonly version: string;
  readonly policyDigest: Buffer;
  /** Opens the `Connect` stream to the control plane. */
  readonly connect: ConnectStreamOpener;
  readonly gate: OutboundGate;
  readonly outbox: ResultOutbox;
  readonly gatekeeper: InstructionGatekeeper;
  /** Every attempt accepted here, so none runs twice (see AttemptLedger). */
  readonly attempts: Pick<AttemptLedger, 'has' | 'record'>;
  readonly jobs: JobRunner;
  readonly readiness: () => Promise<CheckResult[]>;
  readonly logger: Logger;
  readonly now?: () => number;
  /** For lease arithmetic; must keep counting while the process is paused. */
  readonly monotonicNow?: MonotonicClock;
}

interface RunningJob {
  readonly jobId: string;
  readonly attempt: number;
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

/** Exit code after a forced (second-signal) shutdown. */
export const FORCED_EXIT_CODE = 130;
const READINESS_RETRY = { baseMs: 1_000, capMs: 30_000 };
/**
 * The control plane picks the heartbeat interval, but each heartbeat is an audit-log line
 * here: never more often than this, whatever the Welcome says.
 */
export const MIN_HEARTBEAT_INTERVAL_MS = 500;
/**
 * Refusals (each an audit-log line and a credit grant) a control plane can cause: a burst,
 * then one every few seconds. Past that the worker drops the stream and backs off.
 */
export const REFUSAL_BUDGET = { burst: 20, perSecond: 1 / 3 };
/** How long delivery waits for a lease renewal it asked for before giving up with LEASE_UNCONFIRMED. */
export const LEASE_CONFIRM_WAIT_MS = 10_000;

/**
 * The worker daemon: lifecycle, the reconnecting gRPC session, credits, heartbeats,
 * instruction handling, the job slots and the outbox. Flow control follows
 * docs/worker-protocol.md: credits outstanding + jobs running never exceed capacity.
 */
export class WorkerDaemon {
  readonly lifecycle: WorkerLifecycle;
  private readonly running = new Map<string, RunningJob>();
  private readonly backoff = new ReconnectBackoff();
  private readonly now: () => number;
  private readonly leases: LeaseTracker;
  private readonly refusals: TokenBucket;
  private leaseTtlMs: number | undefined;
  private heartbeatSeq = 0;
  /** The current session was dropped for causing too many refusals: do not reset the backoff. */
  private sessionThrottled = false;
  private session: GatewaySession | undefined;
  private welcomed = false;
  private announced = false;
  private readonly credits: CreditLedger;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  private lastConnectedAt: number | undefined;
  private lastHeartbeatAt: number | undefined;
  private lastReadinessCheckAt: number | undefined;
  private shutdownRequests = 0;
  private exitCode = 0;
  private stopped!: () => void;
  private readonly stoppedPromise = new Promise<void>((resolve) => (this.stopped = resolve));

  constructor(private readonly deps: WorkerDaemonDependencies) {
    this.now = deps.now ?? Date.now;
    this.leases = new LeaseTracker(deps.monotonicNow);
    this.refusals = new TokenBucket(REFUSAL_BUDGET.burst, REFUSAL_BUDGET.perSecond, deps.monotonicNow);
    this.credits = new CreditLedger(deps.config.concurrency, () => this.running.size);
    this.lifecycle = new WorkerLifecycle((from, to) => deps.logger.info('lifecycle', { from, to }));
  }

  private get capacity(): number {
    return this.deps.config.concurrency;
  }

  /** Runs until stopped; resolves with the process exit code. */
  async run(): Promise<number> {
    void this.becomeReady();
    void this.connectionLoop();
    await this.stoppedPromise;
    return this.exitCode;
  }

  /** First call: drain (no new work, let jobs finish, exit 0). Second call: cancel everything and exit non-zero. */
  requestShutdown(signal: string): void {
    this.shutdownRequests += 1;
    this.deps.logger.info('shutdown-requested', { signal, count: this.shutdownRequests });
    if (this.shutdownRequests === 1) void this.drain();
    else void this.forceStop();
  }

  /** The state `/healthz` shows. */
  health(): HealthSnapshot {
    const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
    return {
      state: this.lifecycle.state,
      connected: this.welcomed,
      lastConnectedAt: iso(this.lastConnectedAt),
      lastHeartbeatAt: iso(this.lastHeartbeatAt),
      lastReadinessCheckAt: iso(this.lastReadinessCheckAt),
      running: this.running.size,
      capacity: this.capacity,
      refusedFrames: this.deps.gate.refusedCount,
      egressAuditHealthy: this.deps.gate.auditHealthy,
    };
  }

  // ─── readiness ───

  private async becomeReady(): Promise<void> {
    const retry = new ReconnectBackoff(READINESS_RETRY.baseMs, READINESS_RETRY.capMs);
    while (this.lifecycle.state === 'STARTING') {
      const checks = await this.deps.readiness();
      this.lastReadinessCheckAt = this.now();
      const failed = checks.filter((check) => !check.ok);
      if (failed.length === 0) {
        if (this.lifecycle.state !== 'STARTING') return;
        this.lifecycle.transition('READY');
        this.topUpCredits();
        this.announceIfReady();
        return;
      }
      this.deps.logger.warn('not-ready', { failed: failed.map((check) => ({ name: check.name, detail: check.detail })) });
      await this.sleep(retry.nextDelayMs());
    }
  }

  // ─── connection ───

  private async connectionLoop(): Promise<void> {
    while (!this.isStopped) {
      this.sessionThrottled = false;
      const session = new GatewaySession(this.deps.connect, this.deps.gate, this.sessionHandlers(), this.deps.logger, systemClock);
      this.session = session;
      const end = await session.done;
      this.session = undefined;
      this.welcomed = false;
      this.credits.resetForStream();
      clearTimeout(this.heartbeatTimer);
      if (this.isStopped) return;
      // A session that got to Welcome was healthy: the next failure starts from a short delay
      // again — unless it was dropped for flooding us with refusals, which must cost time.
      if (end.welcomed && !this.sessionThrottled) this.backoff.reset();
      const delay = this.backoff.nextDelayMs();
      this.deps.logger.warn('disconnected', { reason: end.reason, reconnectInMs: delay });
      await this.sleep(delay);
    }
  }

  private sessionHandlers() {
    return {
      hello: (nonce: Buffer): Hello__Output => {
        // The Hello is heartbeat 0 of the stream: its running list renews leases too.
        this.heartbeatSeq = 0;
        this.leases.streamStarted();
        return this.helloFor(nonce);
      },
      welcomed: (heartbeatIntervalMs: number, leaseTtlMs: number) => this.onWelcome(heartbeatIntervalMs, leaseTtlMs),
      frame: (frame: ControlFrame__Output) => this.onFrame(frame),
      malformedInstruction: () => {
        // It came on a credit like any instruction, so it gives the credit back like any refusal.
        this.credits.spend();
        this.refuse(FailureCode.INSTRUCTION_MALFORMED, undefined);
      },
    };
  }

  private helloFor(nonce: Buffer): Hello__Output {
    return {
      workerId: this.deps.identity.workerId,
      challengeSignature: helloSignature(this.deps.identity.privateKeyPem, this.deps.identity.workerId, nonce),
      workerVersion: this.deps.version,
      capacity: this.capacity,
      running: this.runningRefs(),
      localPolicyDigest: this.deps.policyDigest,
    };
  }

  private onWelcome(requestedHeartbeatMs: number, leaseTtlMs: number): void {
    this.welcomed = true;
    this.lastConnectedAt = this.now();
    this.credits.resetForStream();
    this.leaseTtlMs = leaseTtlMs;
    this.leases.welcomed(leaseTtlMs);
    // Often enough to keep leases (half a lease), never so often that the audit log floods.
    const heartbeatIntervalMs = Math.max(MIN_HEARTBEAT_INTERVAL_MS, Math.min(requestedHeartbeatMs, Math.floor(leaseTtlMs / 2)));
    this.deps.logger.info('welcomed', { heartbeatIntervalMs, requestedHeartbeatMs, leaseTtlMs, running: this.running.size });
    this.topUpCredits();
    for (const result of this.deps.outbox.pending()) {
      this.deps.logger.info('result-resent', { jobId: result.attempt?.jobId, attempt: result.attempt?.attempt });
      this.send({ frame: 'result', result });
    }
    this.scheduleHeartbeat(heartbeatIntervalMs);
    this.announceIfReady();
  }

  private announceIfReady(): void {
    if (this.announced || !this.welcomed || !this.lifecycle.acceptsWork) return;
    this.announced = true;
    this.deps.logger.info('worker-ready', { workerId: this.deps.identity.workerId, capacity: this.capacity, version: this.deps.version });
  }

  private scheduleHeartbeat(intervalMs: number): void {
    clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = setTimeout(() => {
      if (!this.welcomed) return;
      this.sendHeartbeat();
      this.scheduleHeartbeat(intervalMs);
    }, jittered(intervalMs));
  }

  private sendHeartbeat(): void {
    const seq = ++this.heartbeatSeq;
    const freeSlots = this.lifecycle.acceptsWork ? this.credits.freeSlots : 0;
    this.leases.heartbeatSent(seq);
    if (!this.send({ frame: 'heartbeat', heartbeat: { running: this.runningRefs(), freeSlots, seq } })) return;
    this.lastHeartbeatAt = this.now();
    // Credits that could not be granted while the audit log refused writes are granted now.
    this.topUpCredits();
  }

  /**
   * Sends through the outbound gate. When the egress audit log refuses a frame (a full
   * disk), nothing more can be sent either, so the worker hangs up rather than stay on a
   * stream where it cannot answer: the control plane then sees it gone and dispatches
   * nothing to it, and the worker reconnects once the log takes writes again.
   */
  private send(frame: WorkerFrame__Output): boolean {
    if (this.deps.gate.send(frame)) return true;
    if (!this.deps.gate.auditHealthy && this.welcomed && this.session) {
      this.deps.logger.error('egress-audit-unavailable', { frame: frame.frame ?? null });
      this.welcomed = false;
      this.session.hangUp('egress-audit-unavailable');
    }
    return false;
  }

  /** Grants every slot that is neither running nor already promised. */
  private topUpCredits(): void {
    if (!this.welcomed || !this.lifecycle.acceptsWork) return;
    this.credits.topUp((credits) => this.send({ frame: 'credit', credit: { credits } }));
  }

  // ─── frames ───

  private onFrame(frame: ControlFrame__Output): void {
    switch (frame.frame) {
      case 'instruction':
        this.onInstruction(frame.instruction!);
        return;
      case 'cancel': {
        const job = this.running.get(attemptKey(frame.cancel!.attempt!.jobId, frame.cancel!.attempt!.attempt));
        this.deps.logger.info('cancel-received', { jobId: frame.cancel!.attempt!.jobId, attempt: frame.cancel!.attempt!.attempt, running: job !== undefined });
        job?.controller.abort(ABORT_REASON.cancelled);
        return;
      }
      case 'resultAck': {
        const { jobId, attempt } = frame.resultAck!.attempt!;
        this.deps.outbox.remove(jobId, attempt);
        this.deps.logger.info('result-acknowledged', { jobId, attempt, disposition: frame.resultAck!.disposition });
        return;
      }
      case 'drain':
        this.deps.logger.info('drain-requested');
        if (this.shutdownRequests === 0) this.requestShutdown('drain');
        return;
      case 'leaseRenewal': {
        const { heartbeatSeq, renewed } = frame.leaseRenewal!;
        if (!this.leases.renewed(heartbeatSeq, renewed)) this.deps.logger.warn('lease-renewal-unmatched', { heartbeatSeq });
        return;
      }
      default:
        return;
    }
  }

  private onInstruction(instruction: NonNullable<ControlFrame__Output['instruction']>): void {
    this.credits.spend();
    let decision;
    try {
      decision = this.deps.gatekeeper.check(instruction);
    } catch (error) {
      // The nonce store could not record the nonce: running it could allow a replay later.
      this.deps.logger.error('instruction-check-failed', { error: error as Error });
      this.topUpCredits();
      return;
    }
    if (!decision.ok) {
      this.refuse(decision.failureCode, decision.attempt);
      return;
    }
    const { jobId, attempt } = decision.payload;
    const ref = { jobId, attempt };
    // Running or finished here already: a duplicate, or a re-run of work that was delivered.
    if (this.running.has(attemptKey(jobId, attempt)) || this.deps.attempts.has(jobId, attempt)) {
      this.refuse(FailureCode.ATTEMPT_ALREADY_SEEN, ref);
      return;
    }
    if (this.running.size >= this.capacity || !this.lifecycle.acceptsWork) {
      // Sent without a credit (or while draining): running it would overcommit the host.
      this.refuse(FailureCode.WORKER_AT_CAPACITY, ref);
      return;
    }
    try {
      this.deps.attempts.record(jobId, attempt);
    } catch (error) {
      // Unrecorded, a repeat of it could run after a restart; its lease will hand it on.
      this.deps.logger.error('attempt-ledger-write-failed', { jobId, attempt, error: error as Error });
      this.topUpCredits();
      return;
    }
    if (!this.send({ frame: 'ack', ack: { attempt: ref } }) && !this.deps.gate.auditHealthy) {
      // Nothing about this attempt could be reported, so it does not start; its lease expires
      // and the control plane queues it again.
      this.deps.logger.error('instruction-dropped', { jobId, attempt, failureCode: FailureCode.AUDIT_LOG_UNAVAILABLE });
      this.topUpCredits();
      return;
    }
    this.startJob(decision.payload);
  }

  /** Refuses an instruction with a code and gives its credit back, within the refusal budget. */
  private refuse(failureCode: FailureCodeName, attempt: { jobId: string; attempt: number } | undefined): void {
    // Hanging up already: what the control plane still sends until the stream ends is dropped unlogged.
    if (this.sessionThrottled) return;
    this.deps.logger.warn('instruction-rejected', { failureCode, jobId: attempt?.jobId, attempt: attempt?.attempt });
    if (!this.refusals.tryTake()) {
      // A control plane sending bad instructions faster than the budget would fill the audit
      // log: stop listening to it for a while instead of writing without bound.
      this.deps.logger.error('refusal-budget-exceeded', { burst: REFUSAL_BUDGET.burst, perSecond: REFUSAL_BUDGET.perSecond });
      this.sessionThrottled = true;
      this.session?.hangUp('refusal-budget-exceeded');
      return;
    }
    this.send({ frame: 'rejected', rejected: { attempt: attempt ?? null, failureCode } });
    this.topUpCredits();
  }

  // ─── jobs ───

  private startJob(payload: InstructionPayload__Output): void {
    const key = attemptKey(payload.jobId, payload.attempt);
    const controller = new AbortController();
    const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(this.deps.config.limits.jobTimeout)]);
    const logger = this.deps.logger.child({ jobId: payload.jobId, attempt: payload.attempt });
    logger.info('job-started', { task: payload.task });
    if (this.lifecycle.state === 'READY') this.lifecycle.transition('RUNNING');
    this.leases.track(payload.jobId, payload.attempt);
    const done = (async () => {
      const progress: ProgressListener = (phase, state) => {
        this.send({ frame: 'progress', progress: { attempt: { jobId: payload.jobId, attempt: payload.attempt }, phase, state } });
      };
      const result = await this.deps.jobs.run(payload, signal, progress, (jobSignal) => this.confirmLease(payload.jobId, payload.attempt, jobSignal));
      logger.info('job-finished', { outcome: result.outcome, failureCode: result.failureCode, failedPhase: result.failedPhase });
      try {
        this.deps.outbox.put(result);
      } catch (error) {
        // A full disk: the result is still sent once if it can be; otherwise the attempt's
        // lease runs out and the control plane queues the job again.
        logger.error('result-not-stored', { error: error as Error });
      }
      this.send({ frame: 'result', result });
    })()
      .catch((error: unknown) => logger.error('job-crashed', { error: error as Error }))
      .finally(() => {
        this.running.delete(key);
        this.leases.forget(payload.jobId, payload.attempt);
        if (this.lifecycle.state === 'RUNNING' && this.running.size === 0) this.lifecycle.transition('READY');
        this.topUpCredits();
      });
    this.running.set(key, { jobId: payload.jobId, attempt: payload.attempt, controller, done });
  }

  /**
   * Resolves when the attempt is shown to hold its lease for at least half a lease more —
   * asking for a renewal at once if the last one is too old — or throws LEASE_UNCONFIRMED
   * (AUDIT_LOG_UNAVAILABLE when the audit log is what kept the heartbeat from leaving). A
   * worker paused past its lease finds out here, before it delivers over the next attempt.
   */
  private async confirmLease(jobId: string, attempt: number, signal: AbortSignal): Promise<void> {
    const leaseTtlMs = this.leaseTtlMs;
    if (leaseTtlMs !== undefined && this.leases.remainingMs(jobId, attempt) >= leaseTtlMs / 2) return;
    if (this.welcomed) this.sendHeartbeat();
    const confirmed = leaseTtlMs !== undefined && (await this.leases.waitForLease(jobId, attempt, leaseTtlMs / 2, LEASE_CONFIRM_WAIT_MS, signal));
    if (confirmed) return;
    signal.throwIfAborted();
    const failureCode = this.deps.gate.auditHealthy ? FailureCode.LEASE_UNCONFIRMED : FailureCode.AUDIT_LOG_UNAVAILABLE;
    this.deps.logger.warn('lease-unconfirmed', { jobId, attempt, failureCode, remainingMs: Math.round(this.leases.remainingMs(jobId, attempt)) });
    throw new JobPhaseFailedError(failureCode, 'no lease renewal shows that this attempt still owns the job');
  }

  private runningRefs(): Array<{ jobId: string; attempt: number }> {
    return [...this.running.values()].map(({ jobId, attempt }) => ({ jobId, attempt }));
  }

  // ─── shutdown ───

  private async drain(): Promise<void> {
    if (this.lifecycle.state === 'STOPPED' || this.lifecycle.state === 'DRAINING') return;
    this.lifecycle.transition('DRAINING');
    const jobs = [...this.running.values()].map((job) => job.done);
    const finished = await withDeadline(Promise.all(jobs), this.deps.config.limits.shutdownGrace);
    if (!finished) {
      this.deps.logger.warn('drain-deadline-passed', { running: this.running.size });
      await this.forceStop();
      return;
    }
    await this.waitForResultAcks();
    this.stop(0);
  }

  private async forceStop(): Promise<void> {
    if (this.lifecycle.state === 'STOPPED') return;
    if (this.lifecycle.state !== 'DRAINING') this.lifecycle.transition('DRAINING');
    for (const job of this.running.values()) job.controller.abort(ABORT_REASON.shutdown);
    // Aborted jobs write their WORKER_SHUTDOWN result to the outbox quickly; it is re-sent next start.
    await withDeadline(Promise.all([...this.running.values()].map((job) => job.done)), this.deps.config.limits.abortGrace);
    this.stop(FORCED_EXIT_CODE);
  }

  private async waitForResultAcks(): Promise<void> {
    const until = this.now() + this.deps.config.limits.resultAckWait;
    while (this.welcomed && this.deps.outbox.pending().length > 0 && this.now() < until) await this.sleep(100);
  }

  private stop(exitCode: number): void {
    if (this.lifecycle.state === 'STOPPED') return;
    this.exitCode = exitCode;
    this.lifecycle.transition('STOPPED');
    clearTimeout(this.heartbeatTimer);
    this.session?.close();
    for (const sleeper of this.sleepers) {
      clearTimeout(sleeper.timer);
      sleeper.wake();
    }
    this.deps.logger.info('stopped', { exitCode });
    this.stopped();
  }

  private get isStopped(): boolean {
    return this.lifecycle.state === 'STOPPED';
  }

  /** A sleep that `stop` cuts short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sleeper = {
        timer: setTimeout(() => {
          this.sleepers.delete(sleeper);
          resolve();
        }, ms),
        wake: resolve,
      };
      this.sleepers.add(sleeper);
    });
  }
}

function attemptKey(jobId: string, attempt: number): string {
  return `${jobId}-${attempt}`;
}

async function withDeadline(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
