import { helloSignature, type ControlFrameVerifier } from '@airlock/envelope';
import { VersionStatus, type ControlFrame__Output, type Hello__Output, type VersionNotice__Output, type WorkerFrame__Output } from '@airlock/protocol';
import { GatewaySession, type ConnectStreamOpener, type SessionEnd, type SessionGate } from '../gateway/gateway.session';
import type { OutboundGate } from '../gateway/outbound.gate';
import { ReconnectBackoff, jittered } from '../gateway/reconnect.backoff';
import type { WorkerIdentity } from '../identity/worker-identity.store';
import type { Logger } from '../logging/json-logger';
import type { WorkerMetrics } from '../metrics/worker-metrics';
import { sleep, type ClockTimer, type DaemonClock } from './daemon.clock';
import type { LeaseTracker } from './lease.tracker';
import { IDENTITY_REFUSAL_STATUSES, WorkerIdentityRefusedError } from './worker-identity-refused.error';
import { WorkerVersionRefusedError } from './worker-version-refused.error';

/**
 * The control plane picks the heartbeat interval, but each heartbeat is an audit-log line
 * here: never more often than this, whatever the Welcome says.
 */
export const MIN_HEARTBEAT_INTERVAL_MS = 500;

/**
 * Consecutive connections on which the control plane must refuse the worker's identity
 * (UNAUTHENTICATED, PERMISSION_DENIED) before the worker gives up. Not 1: a control plane
 * starting against an empty or lagging database, or a load balancer briefly sending the
 * worker to an instance that is not set up yet, refuses a worker it will know again a
 * moment later. Ten connections, with the reconnect backoff (250 ms doubling to 15 s, full
 * jitter) between them, take about half a minute (at most about a minute): long enough to
 * ride that out, short enough that a revoked worker stops instead of retrying forever.
 */
export const IDENTITY_REFUSAL_LIMIT = 10;

/** The interval heartbeats go at: the Welcome's, but at least the floor and at most half a lease. */
export function heartbeatIntervalFor(requestedMs: number, leaseTtlMs: number): number {
  // Often enough to keep leases (half a lease), never so often that the audit log floods.
  return Math.max(MIN_HEARTBEAT_INTERVAL_MS, Math.min(requestedMs, Math.floor(leaseTtlMs / 2)));
}

/** One attempt, as Hello and Heartbeat list it. */
export interface RunningAttempt {
  readonly jobId: string;
  readonly attempt: number;
}

/** What the session loop asks of the rest of the daemon. */
export interface SessionLoopHandlers {
  /** Attempts running here, for the Hello and every heartbeat. */
  running(): RunningAttempt[];
  /** Slots a heartbeat reports free (none while the worker takes no work). */
  freeSlots(): number;
  /** The stream ended: what belonged to it (credits) is void. */
  streamEnded(): void;
  /** The control plane welcomed the worker on a new stream. */
  welcomed(): void;
  /** A heartbeat left: a moment to grant credits the audit log refused earlier. */
  heartbeatSent(): void;
  /** A control frame after Welcome, validated. */
  frame(frame: ControlFrame__Output): void;
  /** An instruction frame that failed validation. */
  malformedInstruction(): void;
  /** A policy bundle frame that failed validation. */
  malformedPolicyBundle(): void;
  /** Something above threw where nothing could catch it: the daemon's fatal path. */
  fatal(error: unknown): void;
}

/** Everything the session loop is built from. */
export interface SessionLoopDependencies {
  readonly connect: ConnectStreamOpener;
  readonly gate: SessionGate & Pick<OutboundGate, 'auditHealthy' | 'auditHead'>;
  readonly identity: Pick<WorkerIdentity, 'workerId' | 'privateKeyPem'>;
  /** Checks the control plane's signature on a Cancel, ResultAck, Drain or LeaseRenewal against the pinned keys. */
  readonly frameVerifier: Pick<ControlFrameVerifier, 'refusalOf'>;
  readonly version: string;
  readonly capacity: number;
  readonly policyDigest: Buffer;
  /** The worker's pools, from its config. */
  readonly labels: readonly string[];
  /** The central policy revision in force now (0: none), read for each Hello. */
  readonly policyRevision: () => number;
  readonly leases: Pick<LeaseTracker, 'streamStarted' | 'welcomed' | 'heartbeatSent'>;
  readonly clock: DaemonClock;
  readonly logger: Logger;
  /** Source of jitter for reconnects and heartbeats. */
  readonly random?: () => number;
  /** Counts the control frames dropped for their signature; absent, nothing is counted. */
  readonly metrics?: Pick<WorkerMetrics, 'controlFrameUnauthenticated'>;
}

/**
 * The worker's side of the stream, for as long as the daemon runs: connect; answer the
 * Challenge with a signed Hello; on Welcome, heartbeat at the clamped interval with ±10 %
 * jitter; when the stream ends, reconnect after an exponential backoff with full jitter.
 * A session that reached Welcome resets the backoff — unless it was hung up for flooding
 * the worker with refusals (`throttle`), which must cost time. It publishes when it was
 * last welcomed and when a heartbeat last left, for `/healthz`.
 *
 * `run` resolves once `stop` is called, and rejects with a WorkerIdentityRefusedError when
 * the control plane refused the worker's identity IDENTITY_REFUSAL_LIMIT times in a row, or
 * once when it said the worker was revoked: the one failure reconnecting cannot cure — or
 * with a WorkerVersionRefusedError the first time it refuses the worker's version, which
 * reconnecting does not change either.
 */
export class SessionLoop {
  private readonly backoff: ReconnectBackoff;
  private readonly random: () => number;
  private readonly stopping = new AbortController();
  private session: GatewaySession | undefined;
  private welcomedNow = false;
  private throttledNow = false;
  private heartbeatSeq = 0;
  /** Signed-kind control frames dropped because their signature was missing or did not verify, since start. */
  private unauthenticated = 0;
  private heartbeatTimer: ClockTimer | undefined;
  private identityRefusals = 0;
  private lastLeaseTtlMs: number | undefined;
  private lastWelcomedAt: number | undefined;
  private lastHeartbeatSentAt: number | undefined;

  constructor(
    private readonly deps: SessionLoopDependencies,
    private readonly handlers: SessionLoopHandlers,
  ) {
    this.random = deps.random ?? Math.random;
    this.backoff = new ReconnectBackoff(undefined, undefined, this.random);
  }

  /** Whether the current stream got as far as Welcome and is still usable. */
  get connected(): boolean {
    return this.welcomedNow;
  }

  /** The current session is being hung up for exceeding the refusal budget. */
  get throttled(): boolean {
    return this.throttledNow;
  }

  /** The lease length of the latest Welcome (kept across reconnects), if any came yet. */
  get leaseTtlMs(): number | undefined {
    return this.lastLeaseTtlMs;
  }

  /** Wall-clock time of the latest Welcome. */
  get lastConnectedAt(): number | undefined {
    return this.lastWelcomedAt;
  }

  /** Wall-clock time the latest heartbeat left. */
  get lastHeartbeatAt(): number | undefined {
    return this.lastHeartbeatSentAt;
  }

  /** Connects and reconnects until `stop`; rejects only with a WorkerIdentityRefusedError or a WorkerVersionRefusedError. */
  async run(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      this.throttledNow = false;
      const session = new GatewaySession(this.deps.connect, this.deps.gate, this.sessionHandlers(), this.deps.logger, this.deps.clock);
      this.session = session;
      const end = await session.done;
      this.session = undefined;
      this.welcomedNow = false;
      this.heartbeatTimer?.cancel();
      this.handlers.streamEnded();
      if (this.stopping.signal.aborted) return;
      this.stopOnVersionRefusal(end);
      this.countIdentityRefusal(end);
      // A session that got to Welcome was healthy: the next failure starts from a short delay
      // again — unless it was dropped for flooding us with refusals, which must cost time.
      if (end.welcomed && !this.throttledNow) this.backoff.reset();
      // A busy control plane said when to come back: never sooner.
      const delay = this.backoff.nextDelayMs(end.retryAfterMs);
      this.deps.logger.warn('disconnected', { reason: end.reason, reconnectInMs: delay, ...(end.retryAfterMs === undefined ? {} : { retryAfterMs: end.retryAfterMs }) });
      await sleep(this.deps.clock, delay, this.stopping.signal);
    }
  }

  /** Stops reconnecting and half-closes the current stream. */
  stop(): void {
    this.stopping.abort();
    this.heartbeatTimer?.cancel();
    this.session?.close();
  }

  /**
   * Sends through the outbound gate. When the egress audit log refuses a frame (a full
   * disk), nothing more can be sent either, so the worker hangs up rather than stay on a
   * stream where it cannot answer: the control plane then sees it gone and dispatches
   * nothing to it, and the worker reconnects once the log takes writes again.
   */
  send(frame: WorkerFrame__Output): boolean {
    if (this.deps.gate.send(frame)) return true;
    if (!this.deps.gate.auditHealthy && this.welcomedNow && this.session) {
      this.deps.logger.error('egress-audit-unavailable', { frame: frame.frame ?? null });
      this.welcomedNow = false;
      this.session.hangUp('egress-audit-unavailable');
    }
    return false;
  }

  /** Hangs up the current session for causing too many refusals; its end does not reset the backoff. */
  throttle(reason: string): void {
    this.throttledNow = true;
    this.session?.hangUp(reason);
  }

  /** Sends a heartbeat now rather than at the next tick (a lease renewal is wanted at once). */
  heartbeatNow(): void {
    if (this.welcomedNow) this.sendHeartbeat();
  }

  private sessionHandlers() {
    // The stream's challenge, which the control plane's frame signatures are bound to.
    let streamNonce: Buffer | undefined;
    return {
      hello: (nonce: Buffer): Hello__Output => {
        streamNonce = nonce;
        // The Hello is heartbeat 0 of the stream: its running list renews leases too.
        this.heartbeatSeq = 0;
        this.deps.leases.streamStarted();
        return this.helloFor(nonce);
      },
      welcomed: (heartbeatIntervalMs: number, leaseTtlMs: number, versionNotice: VersionNotice__Output | null) => this.onWelcome(heartbeatIntervalMs, leaseTtlMs, versionNotice),
      frame: (frame: ControlFrame__Output) => {
        if (this.authenticated(frame, streamNonce)) this.handlers.frame(frame);
      },
      malformedInstruction: () => this.handlers.malformedInstruction(),
      malformedPolicyBundle: () => this.handlers.malformedPolicyBundle(),
      failed: (error: unknown) => this.handlers.fatal(error),
    };
  }

  private helloFor(nonce: Buffer): Hello__Output {
    const { identity } = this.deps;
    return {
      workerId: identity.workerId,
      challengeSignature: helloSignature(identity.privateKeyPem, identity.workerId, nonce),
      workerVersion: this.deps.version,
      capacity: this.deps.capacity,
      running: this.handlers.running(),
      localPolicyDigest: this.deps.policyDigest,
      labels: [...this.deps.labels],
      // The control plane answers a revision older than its own with the current bundle.
      policyRevision: this.deps.policyRevision(),
    };
  }

  private onWelcome(requestedHeartbeatMs: number, leaseTtlMs: number, versionNotice: VersionNotice__Output | null): void {
    this.welcomedNow = true;
    this.identityRefusals = 0;
    this.lastWelcomedAt = this.deps.clock.now();
    this.lastLeaseTtlMs = leaseTtlMs;
    this.deps.leases.welcomed(leaseTtlMs);
    const heartbeatIntervalMs = heartbeatIntervalFor(requestedHeartbeatMs, leaseTtlMs);
    this.deps.logger.info('welcomed', { heartbeatIntervalMs, requestedHeartbeatMs, leaseTtlMs, running: this.handlers.running().length });
    this.warnIfDeprecated(versionNotice);
    this.handlers.welcomed();
    this.scheduleHeartbeat(heartbeatIntervalMs);
  }

  private scheduleHeartbeat(intervalMs: number): void {
    this.heartbeatTimer?.cancel();
    this.heartbeatTimer = this.deps.clock.after(jittered(intervalMs, 0.1, this.random), () => {
      try {
        if (!this.welcomedNow) return;
        this.sendHeartbeat();
        this.scheduleHeartbeat(intervalMs);
      } catch (error) {
        this.handlers.fatal(error);
      }
    });
  }

  private sendHeartbeat(): void {
    const seq = ++this.heartbeatSeq;
    this.deps.leases.heartbeatSent(seq);
    // The egress log's head goes with it, so the control plane holds what the log was (a digest, no content).
    const ledger = this.deps.gate.auditHead;
    const ledgerHead = ledger.seq === 0 ? Buffer.alloc(0) : Buffer.from(ledger.hash, 'hex');
    if (!this.send({ frame: 'heartbeat', heartbeat: { running: this.handlers.running(), freeSlots: this.handlers.freeSlots(), seq, ledgerSeq: ledger.seq, ledgerHead } })) return;
    this.lastHeartbeatSentAt = this.deps.clock.now();
    this.handlers.heartbeatSent();
  }

  /**
   * Whether a frame may be obeyed: a Cancel, ResultAck, Drain or LeaseRenewal only when the
   * control plane signed it for this worker and this stream. One that is not is dropped and
   * logged, never obeyed: each is safe to miss (a Cancel comes again at the next heartbeat, a
   * result without its ack is sent again, a lease not renewed is given up), while a forged
   * one could stop a job, drop a result, stop the worker or let a fenced attempt deliver.
   */
  private authenticated(frame: ControlFrame__Output, streamNonce: Buffer | undefined): boolean {
    const refusal = streamNonce === undefined ? 'MISSING' : this.deps.frameVerifier.refusalOf(frame, { workerId: this.deps.identity.workerId, streamNonce });
    if (refusal === null) return true;
    this.unauthenticated += 1;
    this.deps.metrics?.controlFrameUnauthenticated(refusal);
    this.deps.logger.warn('control-frame-unauthenticated', { type: frame.frame ?? null, reason: refusal, dropped: this.unauthenticated });
    return false;
  }

  /**
   * Warns, once for each Welcome that says so, that the control plane deprecated this
   * worker's version: when it stops accepting it, and what to upgrade to. A status this
   * worker does not know (from a newer control plane) is ignored.
   */
  private warnIfDeprecated(notice: VersionNotice__Output | null): void {
    if (notice?.status !== VersionStatus.VERSION_STATUS_DEPRECATED) return;
    const endOfSupport = new Date(notice.endOfSupportAtS * 1000).toISOString();
    const { version } = this.deps;
    this.deps.logger.warn('worker-version-deprecated', {
      version,
      endOfSupport,
      recommendedVersion: notice.recommendedVersion,
      action: `upgrade this worker to ${notice.recommendedVersion} before ${endOfSupport}: from then on the control plane refuses version ${version}`,
    });
  }

  /**
   * Stops at the first refusal of the worker's version, mid-stream (its support ended) or at
   * the Hello: reconnecting does not change the version, and the refusal names what to install.
   */
  private stopOnVersionRefusal(end: SessionEnd): void {
    if (!end.versionRefusal) return;
    const error = new WorkerVersionRefusedError(this.deps.version, end.versionRefusal);
    const { versionStatus, supportedVersions, upgradeTo } = end.versionRefusal;
    this.deps.logger.error('worker-version-refused', { status: end.status, version: this.deps.version, versionStatus, supportedVersions, upgradeTo, action: error.message });
    throw error;
  }

  /**
   * Counts consecutive refusals of the worker's identity; throws once they show it will not
   * be accepted — at once when the control plane said the worker is revoked, mid-stream or
   * at the Hello: a revocation is final, and only a control plane that read it from its
   * database says so.
   */
  private countIdentityRefusal(end: SessionEnd): void {
    if (end.revoked && end.status !== undefined) {
      this.deps.logger.error('worker-revoked', { status: end.status, workerId: this.deps.identity.workerId, action: 'enroll this worker anew (airlock-worker enroll --force)' });
      throw new WorkerIdentityRefusedError(this.deps.identity.workerId, end.status, this.identityRefusals + 1, true);
    }
    const refused = !end.welcomed && end.status !== undefined && IDENTITY_REFUSAL_STATUSES.has(end.status);
    this.identityRefusals = refused ? this.identityRefusals + 1 : 0;
    if (!refused || end.status === undefined) return;
    this.deps.logger.error('identity-refused', { status: end.status, consecutive: this.identityRefusals, limit: IDENTITY_REFUSAL_LIMIT });
    if (this.identityRefusals >= IDENTITY_REFUSAL_LIMIT) throw new WorkerIdentityRefusedError(this.deps.identity.workerId, end.status, this.identityRefusals);
  }
}
