import type { ControlFrameVerifier } from '@airlock/envelope';
import { PolicyAckStatus, type PolicyAck__Output, type SignedInstruction__Output } from '@airlock/protocol';
import type { WorkerConfig } from '../config/worker-config.loader';
import type { ConnectStreamOpener } from '../gateway/gateway.session';
import type { OutboundGate } from '../gateway/outbound.gate';
import type { DeliveryWatcher } from '../delivery/watch/delivery.watcher';
import type { HealthSnapshot } from '../health/health.server';
import type { WorkerIdentity } from '../identity/worker-identity.store';
import type { AttemptLedger } from '../instructions/attempt-ledger';
import type { InstructionGatekeeper } from '../instructions/instruction.gatekeeper';
import type { JobRunner } from '../jobs/job.runner';
import type { Logger } from '../logging/json-logger';
import type { WorkerMetrics } from '../metrics/worker-metrics';
import type { ResultOutbox } from '../outbox/result-outbox';
import type { PolicyBundleHandler } from '../policy/policy-bundle.handler';
import { CreditLedger } from './credit.ledger';
import { systemClock, type DaemonClock } from './daemon.clock';
import type { DaemonExit } from './daemon.exit';
import { FrameRouter } from './frame.router';
import { InstructionAdmission, REFUSAL_BUDGET } from './instruction.admission';
import { JobSlots } from './job.slots';
import { LeaseTracker } from './lease.tracker';
import type { CheckResult } from './readiness.checks';
import { ReadinessLoop } from './readiness.loop';
import { SessionLoop } from './session.loop';
import { ShutdownLadder } from './shutdown.ladder';
import { TokenBucket } from './token.bucket';
import { WorkerLifecycle } from './worker-lifecycle';

/** Everything the daemon is assembled from (see `run.command.ts`). */
export interface WorkerDaemonDependencies {
  readonly config: Pick<WorkerConfig, 'concurrency' | 'limits'>;
  readonly identity: Pick<WorkerIdentity, 'workerId' | 'privateKeyPem'>;
  /** Checks the control plane's signature on a Cancel, ResultAck, Drain or LeaseRenewal (the pinned keys). */
  readonly frameVerifier: Pick<ControlFrameVerifier, 'refusalOf'>;
  readonly version: string;
  readonly policyDigest: Buffer;
  /** The worker's pools (Hello.labels). */
  readonly labels: readonly string[];
  /** Applies or refuses central policy bundles, and knows the revision in force (Hello.policy_revision). */
  readonly policyBundles: Pick<PolicyBundleHandler, 'receive' | 'refuseMalformed' | 'revision'>;
  /** Opens the `Connect` stream to the control plane. */
  readonly connect: ConnectStreamOpener;
  readonly gate: Pick<OutboundGate, 'attach' | 'send' | 'auditHealthy' | 'auditHead' | 'refusedCount'>;
  readonly outbox: Pick<ResultOutbox, 'put' | 'remove' | 'pending'>;
  readonly gatekeeper: Pick<InstructionGatekeeper, 'check'>;
  /** Every attempt accepted here, so none runs twice (see AttemptLedger). */
  readonly attempts: Pick<AttemptLedger, 'has' | 'record'>;
  readonly jobs: Pick<JobRunner, 'run'>;
  readonly readiness: () => Promise<CheckResult[]>;
  /** Watches what became of delivered merge requests, sending on the daemon's stream while it runs. */
  readonly deliveryWatcher?: Pick<DeliveryWatcher, 'run' | 'welcomed'>;
  readonly logger: Logger;
  /** Wall clock, monotonic clock and timers; the process's own unless a test drives time. */
  readonly clock?: DaemonClock;
  /** Source of jitter (reconnect backoff, heartbeats). */
  readonly random?: () => number;
  /** The worker's metrics (GET /metrics on the health listener); absent, nothing is counted. */
  readonly metrics?: WorkerMetrics;
}

/**
 * The worker daemon: a small coordinator over units that each own one concern (buildkite's
 * agent worker split into its heartbeat, ping and action files; temporal's slots in a tuner
 * of their own):
 *
 * - the lifecycle (`WorkerLifecycle`) and readiness (`ReadinessLoop`): no credits until the checks pass;
 * - the stream (`SessionLoop`): connect, Hello, heartbeats, reconnect with backoff;
 * - flow control (`CreditLedger`): credits outstanding + jobs running ≤ capacity;
 * - frames (`FrameRouter`), instructions (`InstructionAdmission`) and policy bundles (`PolicyBundleHandler`);
 * - the running jobs and their leases (`JobSlots`);
 * - every way of ending, the fatal path included (`ShutdownLadder`).
 *
 * What is left here is how they are wired to each other, and the guard that sends anything
 * thrown in a callback (a stream event, a timer) down the fatal path instead of out of the
 * process with nothing cleaned up. Flow control follows docs/worker-protocol.md.
 */
export class WorkerDaemon {
  readonly lifecycle: WorkerLifecycle;
  private readonly credits: CreditLedger;
  private readonly session: SessionLoop;
  private readonly slots: JobSlots;
  private readonly admission: InstructionAdmission;
  private readonly router: FrameRouter;
  private readonly shutdown: ShutdownLadder;
  private readonly readiness: ReadinessLoop;
  /** Bundle refusals, budgeted like instruction refusals: each is an audit-log line. */
  private readonly bundleRefusals: TokenBucket;
  private readonly stopping = new AbortController();
  private announced = false;
  private exit!: (exit: DaemonExit) => void;
  private readonly exited = new Promise<DaemonExit>((resolve) => (this.exit = resolve));

  constructor(private readonly deps: WorkerDaemonDependencies) {
    const clock = deps.clock ?? systemClock;
    const { logger, config, gate } = deps;
    this.bundleRefusals = new TokenBucket(REFUSAL_BUDGET.burst, REFUSAL_BUDGET.perSecond, () => clock.monotonicNow());
    const guard = this.guard.bind(this);
    this.lifecycle = new WorkerLifecycle((from, to) => logger.info('lifecycle', { from, to }));
    this.readiness = new ReadinessLoop({ checks: deps.readiness, clock, logger, random: deps.random });
    const leases = new LeaseTracker(
      () => clock.monotonicNow(),
      (ms, callback) => clock.after(ms, callback),
    );
    this.session = new SessionLoop(
      { connect: deps.connect, gate, identity: deps.identity, frameVerifier: deps.frameVerifier, version: deps.version, capacity: config.concurrency, policyDigest: deps.policyDigest, labels: deps.labels, policyRevision: () => deps.policyBundles.revision, leases, clock, logger, random: deps.random, metrics: deps.metrics },
      {
        running: () => this.slots.refs(),
        freeSlots: () => (this.lifecycle.acceptsWork ? this.credits.freeSlots : 0),
        streamEnded: guard(() => this.credits.resetForStream()),
        welcomed: guard(() => this.onWelcome()),
        heartbeatSent: guard(() => this.topUpCredits()),
        frame: guard((frame) => this.router.route(frame)),
        malformedInstruction: guard(() => this.admission.refuseMalformed()),
        malformedPolicyBundle: guard(() => this.sendPolicyAck(deps.policyBundles.refuseMalformed())),
        fatal: (error) => this.shutdown.fail(error),
      },
    );
    const send = this.session.send.bind(this.session);
    this.slots = new JobSlots({
      capacity: config.concurrency,
      jobTimeoutMs: config.limits.jobTimeout,
      jobs: deps.jobs,
      outbox: deps.outbox,
      send,
      leases,
      lease: this.session,
      auditHealthy: () => gate.auditHealthy,
      clock,
      logger,
      metrics: deps.metrics,
      started: guard(() => {
        if (this.lifecycle.state === 'READY') this.lifecycle.transition('RUNNING');
      }),
      finished: guard(() => {
        if (this.lifecycle.state === 'RUNNING' && this.slots.size === 0) this.lifecycle.transition('READY');
        this.topUpCredits();
      }),
    });
    this.credits = new CreditLedger(config.concurrency, () => this.slots.size);
    this.admission = new InstructionAdmission({
      gatekeeper: deps.gatekeeper,
      attempts: deps.attempts,
      slots: this.slots,
      credits: this.credits,
      session: this.session,
      acceptsWork: () => this.lifecycle.acceptsWork,
      topUpCredits: () => this.topUpCredits(),
      auditHealthy: () => gate.auditHealthy,
      clock,
      logger,
      metrics: deps.metrics,
    });
    this.router = new FrameRouter({
      instruction: (instruction) => this.onInstruction(instruction),
      cancel: ({ jobId, attempt }) => this.slots.cancel(jobId, attempt),
      resultAck: ({ attempt, disposition }) => {
        const { jobId, attempt: number } = attempt!;
        deps.outbox.remove(jobId, number);
        logger.info('result-acknowledged', { jobId, attempt: number, disposition });
      },
      drain: () => this.shutdown.drainRequested(),
      leaseRenewal: ({ heartbeatSeq, renewed }) => {
        if (!leases.renewed(heartbeatSeq, renewed)) logger.warn('lease-renewal-unmatched', { heartbeatSeq });
      },
      // Handled to the end before the next frame: bundles apply in the order they came, and
      // instructions admitted after it are checked against it (jobs running keep theirs).
      policyBundle: (bundle) => this.sendPolicyAck(deps.policyBundles.receive(bundle)),
    });
    this.shutdown = new ShutdownLadder({
      lifecycle: this.lifecycle,
      slots: this.slots,
      outbox: deps.outbox,
      connected: () => this.session.connected,
      limits: config.limits,
      clock,
      logger,
      ended: (exit) => this.ended(exit),
    });
    deps.metrics?.observe(() => this.health());
  }

  /** Runs until stopped; resolves with how it ended (the process exit code, and why if it failed). */
  async run(): Promise<DaemonExit> {
    this.becomeReady().catch((error: unknown) => this.shutdown.fail(error));
    this.session.run().catch((error: unknown) => this.shutdown.fail(error));
    // What became of past deliveries is a report, not the daemon's work: a watcher that breaks is logged, and jobs go on.
    this.deps.deliveryWatcher?.run(this.session, this.stopping.signal).catch((error: unknown) => this.deps.logger.error('delivery-watch-stopped', { error: error as Error }));
    return this.exited;
  }

  /** First call: drain (no new work, let jobs finish, exit 0). Second call: cancel everything and exit non-zero. */
  requestShutdown(signal: string): void {
    this.guard(() => this.shutdown.request(signal))();
  }

  /** The fatal path, for errors caught outside the daemon (e.g. the process's uncaught exceptions). */
  fail(error: unknown): void {
    this.shutdown.fail(error);
  }

  /** The state `/healthz` shows. */
  health(): HealthSnapshot {
    const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
    return {
      state: this.lifecycle.state,
      connected: this.session.connected,
      lastConnectedAt: iso(this.session.lastConnectedAt),
      lastHeartbeatAt: iso(this.session.lastHeartbeatAt),
      lastReadinessCheckAt: iso(this.readiness.lastCheckAt),
      running: this.slots.size,
      capacity: this.deps.config.concurrency,
      refusedFrames: this.deps.gate.refusedCount,
      egressAuditHealthy: this.deps.gate.auditHealthy,
    };
  }

  /** Starts paused: takes work only once the readiness checks pass (unless it began to drain meanwhile). */
  private async becomeReady(): Promise<void> {
    if (!(await this.readiness.untilReady(() => this.lifecycle.state === 'STARTING', this.stopping.signal))) return;
    this.lifecycle.transition('READY');
    this.topUpCredits();
    this.announceIfReady();
  }

  private onWelcome(): void {
    this.credits.resetForStream();
    this.topUpCredits();
    for (const result of this.deps.outbox.pending()) {
      this.deps.logger.info('result-resent', { jobId: result.attempt?.jobId, attempt: result.attempt?.attempt });
      this.session.send({ frame: 'result', result });
    }
    this.deps.deliveryWatcher?.welcomed();
    this.announceIfReady();
  }

  private onInstruction(instruction: SignedInstruction__Output): void {
    const admitted = this.admission.admit(instruction);
    if (admitted) this.slots.start(admitted.payload, admitted.policy);
  }

  /**
   * Answers a policy bundle; none when it could not be stored (the next Hello shows the
   * revision still in force). Refusals are budgeted as instruction refusals are: a control
   * plane sending bad bundles faster than that is hung up on instead of filling the audit log.
   */
  private sendPolicyAck(ack: PolicyAck__Output | undefined): void {
    if (ack?.status === PolicyAckStatus.POLICY_ACK_STATUS_REFUSED) this.deps.metrics?.policyBundleRefused(String(ack.failureCode));
    if (ack === undefined || this.session.throttled) return;
    if (ack.status === PolicyAckStatus.POLICY_ACK_STATUS_REFUSED && !this.bundleRefusals.tryTake()) {
      this.deps.logger.error('refusal-budget-exceeded', { burst: REFUSAL_BUDGET.burst, perSecond: REFUSAL_BUDGET.perSecond, frame: 'policyBundle' });
      this.session.throttle('refusal-budget-exceeded');
      return;
    }
    this.session.send({ frame: 'policyAck', policyAck: ack });
  }

  /** Grants every slot that is neither running nor already promised, while connected and taking work. */
  private topUpCredits(): void {
    if (!this.session.connected || !this.lifecycle.acceptsWork) return;
    this.credits.topUp((credits) => this.session.send({ frame: 'credit', credit: { credits } }));
  }

  private announceIfReady(): void {
    if (this.announced || !this.session.connected || !this.lifecycle.acceptsWork) return;
    this.announced = true;
    this.deps.logger.info('worker-ready', { workerId: this.deps.identity.workerId, capacity: this.deps.config.concurrency, version: this.deps.version });
  }

  private ended(exit: DaemonExit): void {
    this.stopping.abort();
    this.session.stop();
    this.deps.logger.info('stopped', { exitCode: exit.exitCode });
    this.exit(exit);
  }

  /** Wraps a callback run from a stream event or a timer: whatever it throws takes the fatal path. */
  private guard<A extends unknown[]>(callback: (...args: A) => void): (...args: A) => void {
    return (...args) => {
      try {
        callback(...args);
      } catch (error) {
        this.shutdown.fail(error);
      }
    };
  }
}
