import { helloSignature } from '@airlock/envelope';
import { FailureCode, type ControlFrame__Output, type Hello__Output, type InstructionPayload__Output, type WorkerGatewayClient } from '@airlock/protocol';
import type { WorkerConfig } from '../config/worker-config.loader';
import { GatewaySession } from '../gateway/gateway.session';
import type { OutboundGate } from '../gateway/outbound.gate';
import { ReconnectBackoff, jittered } from '../gateway/reconnect.backoff';
import type { HealthSnapshot } from '../health/health.server';
import type { WorkerIdentity } from '../identity/worker-identity.store';
import type { InstructionGatekeeper } from '../instructions/instruction.gatekeeper';
import { ABORT_REASON } from '../jobs/fix-job.pipeline';
import type { JobRunner } from '../jobs/job.runner';
import type { FailureCodeName } from '../jobs/job-result.builder';
import type { Logger } from '../logging/json-logger';
import type { ResultOutbox } from '../outbox/result-outbox';
import type { CheckResult } from './readiness.checks';
import { WorkerLifecycle } from './worker-lifecycle';

/** Everything the daemon is assembled from (see `run.command.ts`). */
export interface WorkerDaemonDependencies {
  readonly config: WorkerConfig;
  readonly identity: WorkerIdentity;
  readonly version: string;
  readonly policyDigest: Buffer;
  readonly client: WorkerGatewayClient;
  readonly gate: OutboundGate;
  readonly outbox: ResultOutbox;
  readonly gatekeeper: InstructionGatekeeper;
  readonly jobs: JobRunner;
  readonly readiness: () => Promise<CheckResult[]>;
  readonly logger: Logger;
  readonly now?: () => number;
}

interface RunningJob {
  readonly jobId: string;
  readonly attempt: number;
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

/** Exit code after a forced (second-signal) shutdown. */
export const FORCED_EXIT_CODE = 130;
const RESULT_ACK_WAIT_MS = 5_000;
const READINESS_RETRY = { baseMs: 1_000, capMs: 30_000 };

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
  private session: GatewaySession | undefined;
  private welcomed = false;
  private announced = false;
  private outstandingCredits = 0;
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
      const session = new GatewaySession(this.deps.client, this.deps.gate, this.sessionHandlers(), this.deps.logger);
      this.session = session;
      const end = await session.done;
      this.session = undefined;
      this.welcomed = false;
      this.outstandingCredits = 0;
      clearTimeout(this.heartbeatTimer);
      if (this.isStopped) return;
      // A session that got to Welcome was healthy: the next failure starts from a short delay again.
      if (end.welcomed) this.backoff.reset();
      const delay = this.backoff.nextDelayMs();
      this.deps.logger.warn('disconnected', { reason: end.reason, reconnectInMs: delay });
      await this.sleep(delay);
    }
  }

  private sessionHandlers() {
    return {
      hello: (nonce: Buffer): Hello__Output => ({
        workerId: this.deps.identity.workerId,
        challengeSignature: helloSignature(this.deps.identity.privateKeyPem, this.deps.identity.workerId, nonce),
        workerVersion: this.deps.version,
        capacity: this.capacity,
        running: this.runningRefs(),
        localPolicyDigest: this.deps.policyDigest,
      }),
      welcomed: (heartbeatIntervalMs: number) => this.onWelcome(heartbeatIntervalMs),
      frame: (frame: ControlFrame__Output) => this.onFrame(frame),
      malformedInstruction: () => this.reject(FailureCode.INSTRUCTION_MALFORMED, undefined),
    };
  }

  private onWelcome(heartbeatIntervalMs: number): void {
    this.welcomed = true;
    this.lastConnectedAt = this.now();
    this.outstandingCredits = 0; // credits are per stream
    this.deps.logger.info('welcomed', { heartbeatIntervalMs, running: this.running.size });
    this.topUpCredits();
    for (const result of this.deps.outbox.pending()) {
      this.deps.logger.info('result-resent', { jobId: result.attempt?.jobId, attempt: result.attempt?.attempt });
      this.deps.gate.send({ frame: 'result', result });
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
      const freeSlots = this.lifecycle.acceptsWork ? this.capacity - this.running.size : 0;
      if (this.deps.gate.send({ frame: 'heartbeat', heartbeat: { running: this.runningRefs(), freeSlots } })) this.lastHeartbeatAt = this.now();
      this.scheduleHeartbeat(intervalMs);
    }, jittered(intervalMs));
  }

  /** Grants every slot that is neither running nor already promised. */
  private topUpCredits(): void {
    if (!this.welcomed || !this.lifecycle.acceptsWork) return;
    const free = this.capacity - this.running.size - this.outstandingCredits;
    if (free <= 0) return;
    if (this.deps.gate.send({ frame: 'credit', credit: { credits: free } })) this.outstandingCredits += free;
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
      default:
        return;
    }
  }

  private onInstruction(instruction: NonNullable<ControlFrame__Output['instruction']>): void {
    this.outstandingCredits = Math.max(0, this.outstandingCredits - 1);
    if (this.running.size >= this.capacity) {
      // The control plane sent more than it had credit for; running it would overcommit the host.
      this.deps.logger.error('instruction-without-credit');
      return;
    }
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
      this.deps.logger.warn('instruction-rejected', { failureCode: decision.failureCode, jobId: decision.attempt?.jobId });
      this.reject(decision.failureCode, decision.attempt);
      return;
    }
    const { jobId, attempt } = decision.payload;
    if (this.running.has(attemptKey(jobId, attempt))) {
      this.deps.logger.warn('instruction-duplicate', { jobId, attempt });
      return;
    }
    this.deps.gate.send({ frame: 'ack', ack: { attempt: { jobId, attempt } } });
    this.startJob(decision.payload);
  }

  private reject(failureCode: FailureCodeName, attempt: { jobId: string; attempt: number } | undefined): void {
    this.deps.gate.send({ frame: 'rejected', rejected: { attempt: attempt ?? null, failureCode } });
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
    const done = (async () => {
      const result = await this.deps.jobs.run(payload, signal, (phase, state) => {
        this.deps.gate.send({ frame: 'progress', progress: { attempt: { jobId: payload.jobId, attempt: payload.attempt }, phase, state } });
      });
      this.deps.outbox.put(result);
      logger.info('job-finished', { outcome: result.outcome, failureCode: result.failureCode, failedPhase: result.failedPhase });
      this.deps.gate.send({ frame: 'result', result });
    })()
      .catch((error: unknown) => logger.error('job-crashed', { error: error as Error }))
      .finally(() => {
        this.running.delete(key);
        if (this.lifecycle.state === 'RUNNING' && this.running.size === 0) this.lifecycle.transition('READY');
        this.topUpCredits();
      });
    this.running.set(key, { jobId: payload.jobId, attempt: payload.attempt, controller, done });
  }

  private runningRefs(): Array<{ jobId: string; attempt: number }> {
    return [...this.running.values()].map(({ jobId, attempt }) => ({ jobId, attempt }));
  }

  // ─── shutdown ───

  private async drain(): Promise<void> {
    if (this.lifecycle.state === 'STOPPED' || this.lifecycle.state === 'DRAINING') return;
    this.lifecycle.transition('DRAINING');
    const jobs = [...this.running.values()].map((job) => job.done);
    const deadline = this.deps.config.limits.jobTimeout + 10_000;
    const finished = await withDeadline(Promise.all(jobs), deadline);
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
    await withDeadline(Promise.all([...this.running.values()].map((job) => job.done)), 10_000);
    this.stop(FORCED_EXIT_CODE);
  }

  private async waitForResultAcks(): Promise<void> {
    const until = this.now() + RESULT_ACK_WAIT_MS;
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
