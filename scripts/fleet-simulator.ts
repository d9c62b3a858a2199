/**
 * A fleet of simulated workers for `npm run bench:fleet`. Each is enrolled for real (its own
 * one-time token, its own Ed25519 key pair, the Enroll RPC) and holds one Connect stream
 * over TLS on a channel of its own, as a worker on its own host does.
 *
 * The stream itself is the real worker's: `GatewaySession` from apps/worker runs Challenge →
 * Hello → Welcome, validates every control frame and times out a handshake; reconnects use
 * the worker's `ReconnectBackoff` (exponential, full jitter, reset after a Welcome, and never
 * sooner than a busy control plane's retry-after hint, itself jittered) and heartbeats go
 * at the worker's clamped interval with its ±10 % jitter. This file lives in
 * scripts/ rather than a library because a library may not import an app.
 *
 * What a simulated worker leaves out is the rest of the daemon: it runs no job, keeps no
 * audit log or outbox, and does not give up after repeated refusals of its Hello (each one
 * is counted as an error instead; a busy gateway's refusal at Connect is no error, as for a
 * worker, and is counted apart). Every policy bundle and instruction it receives is verified as a worker
 * verifies it, against the signing keys its enrollment answered with: a failure is an error.
 */
import { createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { InstructionVerifier, MemoryNonceStore, PolicyBundleVerifier, generateSigningKeyPair } from '@airlock/envelope';
import { parseBundleLayers } from '@airlock/policy';
import {
  FailureCode,
  PolicyAckStatus,
  PolicyRule,
  helloChallengeMessage,
  loadAirlockV1,
  validateWorkerFrame,
  type ControlFrame__Output,
  type EnrollResponse__Output,
  type PolicyAck__Output,
  type SignedInstruction__Output,
  type SignedPolicyBundle__Output,
  type WorkerFrame,
  type WorkerFrame__Output,
  type WorkerGatewayClient,
} from '@airlock/protocol';
/* eslint-disable @nx/enforce-module-boundaries -- the simulated worker must speak with the worker's own session, backoff and
   heartbeat code, not a copy of it: the rule rightly keeps tooling out of apps; these imports are the exception. */
import { GatewaySession, type ConnectStream, type SessionEnd, type SessionGate, type SessionHandlers } from '../apps/worker/src/gateway/gateway.session';
import type { FrameSink } from '../apps/worker/src/gateway/outbound.gate';
import { ReconnectBackoff, jittered } from '../apps/worker/src/gateway/reconnect.backoff';
import { WORKER_CHANNEL_OPTIONS } from '../apps/worker/src/gateway/worker-gateway.client-factory';
import { heartbeatIntervalFor } from '../apps/worker/src/daemon/session.loop';
import { sleep, systemClock, type ClockTimer } from '../apps/worker/src/daemon/daemon.clock';
import type { LogFields, LogLevel, Logger } from '../apps/worker/src/logging/json-logger';
import { MAX_BUNDLE_VALIDITY_WINDOW_MS } from '../apps/worker/src/policy/pinned-keys';
/* eslint-enable @nx/enforce-module-boundaries */

/** The clock skew and instruction validity window the worker allows (apps/worker/src/cli/run.command.ts). */
const MAX_CLOCK_SKEW_MS = 30_000;
const MAX_INSTRUCTION_VALIDITY_WINDOW_MS = 60 * 60_000;
const ENROLL_DEADLINE_MS = 30_000;
/** Distinct reasons kept in a breakdown; past that they are counted under one line. */
const MAX_BREAKDOWN_KEYS = 24;
/** Samples kept of each kind until taken (heartbeats: 1,000/s for three minutes). */
const MAX_SAMPLES = 200_000;

function pushBounded(samples: number[], value: number): void {
  if (samples.length < MAX_SAMPLES) samples.push(value);
}

/** Where the fleet connects: the gateway's address and the CA every worker pins. */
export interface FleetTarget {
  readonly address: string;
  readonly caPem: Buffer;
}

/** What a worker keeps from its enrollment. */
export interface EnrolledIdentity {
  readonly workerId: string;
  readonly tenantId: string;
  readonly privateKey: KeyObject;
  /** The control plane's signing keys as the Enroll answer listed them, pinned as an operator pins them. */
  readonly trustedKeys: ReadonlyMap<string, Buffer>;
}

/**
 * A channel of its own for each worker: grpc-js otherwise shares one connection among every
 * channel of the process with the same target and credentials, and the fleet would be one
 * HTTP/2 connection. Keepalive and message limits are the worker's.
 */
function workerChannel(target: FleetTarget): WorkerGatewayClient {
  const { WorkerGateway } = loadAirlockV1();
  return new WorkerGateway(target.address, grpc.credentials.createSsl(target.caPem), {
    ...WORKER_CHANNEL_OPTIONS,
    'grpc.use_local_subchannel_pool': 1,
    'grpc.enable_http_proxy': 0,
  });
}

/**
 * Enrolls `count` workers, at most `concurrency` at a time: a token from `createToken` for
 * each (the REST API), a fresh key pair, and the Enroll RPC on one shared channel (as
 * `airlock-worker enroll` is a process of its own, so its connection is not the stream's).
 */
export async function enrollFleet(
  target: FleetTarget,
  count: number,
  options: { readonly createToken: () => Promise<string>; readonly concurrency: number; readonly version: string },
): Promise<EnrolledIdentity[]> {
  const client = workerChannel(target);
  const enrolled: EnrolledIdentity[] = [];
  let next = 0;
  const enrollOne = async (): Promise<void> => {
    const enrollmentToken = await options.createToken();
    const key = generateSigningKeyPair();
    const response = await new Promise<EnrollResponse__Output>((resolve, reject) =>
      client.enroll(
        { enrollmentToken, workerPublicKey: key.publicKey, workerVersion: options.version },
        { deadline: Date.now() + ENROLL_DEADLINE_MS },
        (error, answer) => (error || !answer ? reject(error ?? new Error('Enroll answered nothing')) : resolve(answer)),
      ),
    );
    enrolled.push({
      workerId: response.workerId,
      tenantId: response.tenantId,
      privateKey: createPrivateKey(key.privateKeyPem),
      trustedKeys: new Map(response.signingKeys.map((signingKey) => [signingKey.keyId, signingKey.publicKey])),
    });
  };
  try {
    await Promise.all(
      Array.from({ length: Math.min(options.concurrency, count) }, async () => {
        while (next < count) {
          next += 1;
          await enrollOne();
        }
      }),
    );
  } finally {
    client.close();
  }
  return enrolled;
}

/**
 * How one Connect call ended. `unreachable` is a retry (the server was not there to answer);
 * `refused-busy` is a refusal at once by a control plane with as many handshakes in progress
 * as it takes (GATEWAY_BUSY_REFUSAL), retried after its hint; `cut-by-restart` is the stream
 * the benchmark's own kill ended; `closed` is the simulator stopping. The other two are errors.
 */
export type SessionOutcome = 'unreachable' | 'refused-busy' | 'cut-by-restart' | 'handshake-failed' | 'ended-after-welcome' | 'closed';

/** Everything the fleet counted since it started; take differences of two snapshots for a phase. */
export interface FleetCounts {
  /** Connect calls opened. */
  readonly attempts: number;
  readonly welcomes: number;
  readonly outcomes: Readonly<Record<SessionOutcome, number>>;
  readonly bundlesApplied: number;
  /** Bundles refused by the worker's checks: a bad signature, an unknown key, … (errors). */
  readonly bundlesRefused: number;
  readonly instructionsVerified: number;
  /** Instructions refused by the worker's checks (errors). */
  readonly instructionsRefused: number;
  /** Frames a worker holding no attempts never expects (Cancel, ResultAck, Drain): errors. */
  readonly unexpectedFrames: number;
  /** Exceptions in a simulated worker (a bug in the simulator or a frame it could not take): errors. */
  readonly failures: number;
  readonly heartbeatsSent: number;
  readonly heartbeatsAnswered: number;
}

const NO_OUTCOMES: Record<SessionOutcome, number> = { unreachable: 0, 'refused-busy': 0, 'cut-by-restart': 0, 'handshake-failed': 0, 'ended-after-welcome': 0, closed: 0 };

/** Errors among counts: everything but retries, busy refusals, the restart's own cut, and the simulator stopping. */
export function errorsIn(counts: FleetCounts): number {
  return (
    counts.outcomes['handshake-failed'] +
    counts.outcomes['ended-after-welcome'] +
    counts.bundlesRefused +
    counts.instructionsRefused +
    counts.unexpectedFrames +
    counts.failures
  );
}

/** Combines two sets of counts field by field with `op`. */
function combine(a: FleetCounts, b: FleetCounts, op: (x: number, y: number) => number): FleetCounts {
  const outcomes = { ...NO_OUTCOMES };
  for (const key of Object.keys(outcomes) as SessionOutcome[]) outcomes[key] = op(a.outcomes[key], b.outcomes[key]);
  return {
    attempts: op(a.attempts, b.attempts),
    welcomes: op(a.welcomes, b.welcomes),
    outcomes,
    bundlesApplied: op(a.bundlesApplied, b.bundlesApplied),
    bundlesRefused: op(a.bundlesRefused, b.bundlesRefused),
    instructionsVerified: op(a.instructionsVerified, b.instructionsVerified),
    instructionsRefused: op(a.instructionsRefused, b.instructionsRefused),
    unexpectedFrames: op(a.unexpectedFrames, b.unexpectedFrames),
    failures: op(a.failures, b.failures),
    heartbeatsSent: op(a.heartbeatsSent, b.heartbeatsSent),
    heartbeatsAnswered: op(a.heartbeatsAnswered, b.heartbeatsAnswered),
  };
}

/** `later − earlier`: what a phase counted. */
export function countsBetween(earlier: FleetCounts, later: FleetCounts): FleetCounts {
  return combine(later, earlier, (x, y) => x - y);
}

/** The counts of two phases together. */
export function addCounts(a: FleetCounts, b: FleetCounts): FleetCounts {
  return combine(a, b, (x, y) => x + y);
}

/** Counts by reason, with a bounded number of distinct reasons. */
class Breakdown {
  private readonly counts = new Map<string, number>();

  add(reason: string): void {
    const key = this.counts.has(reason) || this.counts.size < MAX_BREAKDOWN_KEYS ? reason : '(other reasons)';
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** Most frequent first. */
  entries(): Array<[string, number]> {
    return [...this.counts].sort((a, b) => b[1] - a[1]);
  }
}

/** The worker's log, reduced to counting what it warned about (every disconnect is counted by outcome instead). */
class WarningCounter implements Logger {
  constructor(private readonly warnings: Breakdown) {}

  log(level: LogLevel, event: string, fields: LogFields = {}): void {
    if ((level === 'warn' || level === 'error') && event !== 'disconnected') {
      this.warnings.add(typeof fields['reason'] === 'string' ? `${event} (${fields['reason']})` : event);
    }
  }

  info(event: string, fields?: LogFields): void {
    this.log('info', event, fields);
  }

  warn(event: string, fields?: LogFields): void {
    this.log('warn', event, fields);
  }

  error(event: string, fields?: LogFields): void {
    this.log('error', event, fields);
  }

  child(): Logger {
    return this;
  }
}

/** One Connect call as the simulator watched it. */
interface ObservedCall {
  readonly call: grpc.ClientDuplexStream<WorkerFrame, ControlFrame__Output>;
  readonly openedAt: number;
  helloSent: boolean;
  /** It was open when the benchmark killed the replica. */
  openAtCut: boolean;
  ended: boolean;
  /** The status details the call ended with, for the breakdown. */
  details: string;
}

/**
 * N simulated workers and what they saw. Times are `performance.now()` milliseconds of this
 * process.
 */
export class SimulatedFleet {
  private readonly workers: SimulatedWorker[] = [];
  private readonly mutableCounts = {
    attempts: 0,
    welcomes: 0,
    outcomes: { ...NO_OUTCOMES },
    bundlesApplied: 0,
    bundlesRefused: 0,
    instructionsVerified: 0,
    instructionsRefused: 0,
    unexpectedFrames: 0,
    failures: 0,
    heartbeatsSent: 0,
    heartbeatsAnswered: 0,
  };
  /** Why calls that were not retries ended, and what else went wrong (errors only). */
  readonly errorReasons = new Breakdown();
  /** Why attempts were retried: the status details of each `unreachable` call. */
  readonly retryReasons = new Breakdown();
  /** What the workers' session code warned about (handshake timeouts, invalid frames, …). */
  readonly workerWarnings = new Breakdown();
  private reconnectSamples: number[] = [];
  private handshakeSamples: number[] = [];
  private retryAfterSamples: number[] = [];
  private heartbeatSamples: number[] | undefined;
  private latestWelcomeAt = Number.NaN;

  constructor(
    private readonly target: FleetTarget,
    private readonly profile: { readonly version: string; readonly capacity: number },
  ) {}

  get size(): number {
    return this.workers.length;
  }

  /** When the latest Welcome of any worker came. */
  get lastWelcomeAt(): number {
    return this.latestWelcomeAt;
  }

  counts(): FleetCounts {
    return structuredClone(this.mutableCounts);
  }

  /** Starts a simulated worker for each identity: each connects at once and stays connected. */
  add(identities: readonly EnrolledIdentity[]): void {
    for (const identity of identities) {
      const worker = new SimulatedWorker(identity, workerChannel(this.target), this.profile, this);
      this.workers.push(worker);
      worker.start();
    }
  }

  /** Workers whose current stream was welcomed at or after `since`. */
  welcomedSince(since: number): number {
    return this.workers.reduce((n, worker) => (worker.welcomedAt !== undefined && worker.welcomedAt >= since ? n + 1 : n), 0);
  }

  /** Workers with central policy `revision` in force. */
  withPolicyRevision(revision: number): number {
    return this.workers.reduce((n, worker) => (worker.appliedRevision === revision ? n + 1 : n), 0);
  }

  /** Marks every call open now as one the coming kill may cut: its end with UNAVAILABLE is then no error. */
  expectCut(): void {
    for (const worker of this.workers) worker.markOpenCallCut();
  }

  /** Each worker's drop → Welcome time, for every reconnect since the last call. */
  takeReconnectSamples(): number[] {
    const samples = this.reconnectSamples;
    this.reconnectSamples = [];
    return samples;
  }

  /** Each welcomed call's Connect → Welcome time, for every Welcome since the last call. */
  takeHandshakeSamples(): number[] {
    const samples = this.handshakeSamples;
    this.handshakeSamples = [];
    return samples;
  }

  /** The retry-after hints of every busy refusal since the last call. */
  takeRetryAfterSamples(): number[] {
    const samples = this.retryAfterSamples;
    this.retryAfterSamples = [];
    return samples;
  }

  /** Starts collecting heartbeat → LeaseRenewal round trips. */
  sampleHeartbeats(): void {
    this.heartbeatSamples = [];
  }

  /** The round trips collected since `sampleHeartbeats`, and stops collecting. */
  takeHeartbeatSamples(): number[] {
    const samples = this.heartbeatSamples ?? [];
    this.heartbeatSamples = undefined;
    return samples;
  }

  /** Stops every worker: half-closes its stream, cancels it if it does not end, closes its channel. */
  async stop(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.stop()));
  }

  // ── what the workers report ──

  attempted(): void {
    this.mutableCounts.attempts += 1;
  }

  welcomed(at: number, handshakeMs: number, reconnectMs: number | undefined): void {
    this.mutableCounts.welcomes += 1;
    this.latestWelcomeAt = at;
    pushBounded(this.handshakeSamples, handshakeMs);
    if (reconnectMs !== undefined) pushBounded(this.reconnectSamples, reconnectMs);
  }

  ended(outcome: SessionOutcome, reason: string, retryAfterMs: number | undefined): void {
    this.mutableCounts.outcomes[outcome] += 1;
    if (retryAfterMs !== undefined) pushBounded(this.retryAfterSamples, retryAfterMs);
    if (outcome === 'unreachable') this.retryReasons.add(reason);
    else if (outcome === 'handshake-failed' || outcome === 'ended-after-welcome') this.errorReasons.add(`${outcome}: ${reason}`);
  }

  bundleApplied(): void {
    this.mutableCounts.bundlesApplied += 1;
  }

  bundleRefused(failureCode: string): void {
    this.mutableCounts.bundlesRefused += 1;
    this.errorReasons.add(`policy bundle refused: ${failureCode}`);
  }

  instructionVerified(): void {
    this.mutableCounts.instructionsVerified += 1;
  }

  instructionRefused(failureCode: string): void {
    this.mutableCounts.instructionsRefused += 1;
    this.errorReasons.add(`instruction refused: ${failureCode}`);
  }

  unexpected(frame: string): void {
    this.mutableCounts.unexpectedFrames += 1;
    this.errorReasons.add(`unexpected frame: ${frame}`);
  }

  failed(error: unknown): void {
    this.mutableCounts.failures += 1;
    this.errorReasons.add(`simulator failure: ${error instanceof Error ? error.message.slice(0, 120) : String(error)}`);
  }

  heartbeatSent(): void {
    this.mutableCounts.heartbeatsSent += 1;
  }

  heartbeatAnswered(roundTripMs: number): void {
    this.mutableCounts.heartbeatsAnswered += 1;
    if (this.heartbeatSamples) pushBounded(this.heartbeatSamples, roundTripMs);
  }
}

/** One simulated worker: connect, Hello, Welcome, credits, heartbeats; reconnect when the stream ends. */
class SimulatedWorker {
  appliedRevision = 0;
  /** When its current stream was welcomed; undefined while it has none. */
  welcomedAt: number | undefined;
  private readonly backoff = new ReconnectBackoff();
  private readonly stopping = new AbortController();
  private readonly bundleVerifier: PolicyBundleVerifier;
  private readonly instructionVerifier: InstructionVerifier;
  private readonly logger: Logger;
  private readonly gate: SessionGate;
  private readonly handlers: SessionHandlers;
  /** The latest Connect call; GatewaySession opens it in its constructor. */
  private current: ObservedCall | undefined;
  private sink: FrameSink | undefined;
  private heartbeatTimer: ClockTimer | undefined;
  private heartbeatSeq = 0;
  /** The simulated egress log's line count, which heartbeats report; it never goes back. */
  private ledgerSeq = 0;
  private lastHeartbeat: { readonly seq: number; readonly sentAt: number } | undefined;
  /** When its last welcomed stream ended, until the next Welcome. */
  private droppedAt: number | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly identity: EnrolledIdentity,
    private readonly client: WorkerGatewayClient,
    private readonly profile: { readonly version: string; readonly capacity: number },
    private readonly fleet: SimulatedFleet,
  ) {
    const envelope = { trustedKeys: identity.trustedKeys, workerId: identity.workerId, tenantId: identity.tenantId, clock: Date.now, maxClockSkewMs: MAX_CLOCK_SKEW_MS };
    this.bundleVerifier = new PolicyBundleVerifier({ ...envelope, maxValidityWindowMs: MAX_BUNDLE_VALIDITY_WINDOW_MS });
    this.instructionVerifier = new InstructionVerifier({ ...envelope, maxValidityWindowMs: MAX_INSTRUCTION_VALIDITY_WINDOW_MS, nonceStore: new MemoryNonceStore(Date.now) });
    this.logger = new WarningCounter(fleet.workerWarnings);
    this.gate = this.outboundGate();
    this.handlers = this.sessionHandlers();
  }

  start(): void {
    this.running = this.run().catch((error: unknown) => this.fleet.failed(error));
  }

  markOpenCallCut(): void {
    if (this.current && !this.current.ended) this.current.openAtCut = true;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.heartbeatTimer?.cancel();
    const call = this.current?.ended === false ? this.current.call : undefined;
    call?.end();
    // A stream the control plane does not end promptly is dropped.
    const timer = setTimeout(() => call?.cancel(), 2_000);
    await this.running;
    clearTimeout(timer);
    this.client.close();
  }

  /** The worker's session loop, less what a worker holding no jobs never needs. */
  private async run(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      const session = new GatewaySession(() => this.open(), this.gate, this.handlers, this.logger, systemClock);
      const end = await session.done;
      this.streamEnded(end);
      if (this.stopping.signal.aborted) return;
      if (end.welcomed) this.backoff.reset();
      // The worker's rule (SessionLoop): a busy control plane's hint is a floor.
      await sleep(systemClock, this.backoff.nextDelayMs(end.retryAfterMs), this.stopping.signal);
    }
  }

  private open(): ConnectStream {
    const call = this.client.Connect();
    const observed: ObservedCall = { call, openedAt: performance.now(), helloSent: false, openAtCut: false, ended: false, details: '' };
    call.on('status', (status: grpc.StatusObject) => (observed.details = status.details.trim()));
    this.current = observed;
    this.fleet.attempted();
    return call;
  }

  /** The outbound gate: the worker's schema check, then the stream (no audit log here). */
  private outboundGate(): SessionGate {
    return {
      attach: (sink) => (this.sink = sink),
      send: (frame) => {
        validateWorkerFrame(frame);
        if (!this.sink) return false;
        if (frame.frame === 'hello' && this.current) this.current.helloSent = true;
        this.sink.write(frame);
        return true;
      },
    };
  }

  private send(frame: WorkerFrame__Output): void {
    this.gate.send(frame);
  }

  private sessionHandlers(): SessionHandlers {
    return {
      hello: (nonce) => ({
        workerId: this.identity.workerId,
        // helloSignature() would parse the PEM key on every Hello; the signature is the same.
        challengeSignature: sign(null, helloChallengeMessage(this.identity.workerId, nonce), this.identity.privateKey),
        workerVersion: this.profile.version,
        capacity: this.profile.capacity,
        running: [],
        localPolicyDigest: Buffer.alloc(32),
        labels: [],
        policyRevision: this.appliedRevision,
      }),
      welcomed: (heartbeatIntervalMs, leaseTtlMs) => this.onWelcome(heartbeatIntervalMs, leaseTtlMs),
      frame: (frame) => this.onFrame(frame),
      malformedInstruction: () => {
        this.fleet.instructionRefused(FailureCode.INSTRUCTION_MALFORMED);
        this.send({ frame: 'rejected', rejected: { attempt: null, failureCode: FailureCode.INSTRUCTION_MALFORMED, rules: [] } });
        this.send({ frame: 'credit', credit: { credits: 1 } });
      },
      malformedPolicyBundle: () => this.refuseBundle(0, FailureCode.POLICY_BUNDLE_MALFORMED),
      failed: (error) => this.fleet.failed(error),
    };
  }

  private onWelcome(requestedHeartbeatMs: number, leaseTtlMs: number): void {
    this.welcomedAt = performance.now();
    const handshakeMs = this.welcomedAt - this.current!.openedAt;
    this.fleet.welcomed(this.welcomedAt, handshakeMs, this.droppedAt === undefined ? undefined : this.welcomedAt - this.droppedAt);
    this.droppedAt = undefined;
    this.heartbeatSeq = 0;
    this.lastHeartbeat = undefined;
    this.send({ frame: 'credit', credit: { credits: this.profile.capacity } });
    this.scheduleHeartbeat(heartbeatIntervalFor(requestedHeartbeatMs, leaseTtlMs));
  }

  private scheduleHeartbeat(intervalMs: number): void {
    this.heartbeatTimer = systemClock.after(jittered(intervalMs), () => {
      // A timer callback has no caller to catch for it: a throw here would end the whole benchmark.
      try {
        if (this.welcomedAt === undefined) return;
        const seq = ++this.heartbeatSeq;
        this.lastHeartbeat = { seq, sentAt: performance.now() };
        // A head as a real worker's audit log would report it: a line count that only grows, across streams too, and a 32-byte hash.
        const ledgerSeq = ++this.ledgerSeq;
        const ledgerHead = createHash('sha256').update(`${this.identity.workerId}:${ledgerSeq}`).digest();
        this.send({ frame: 'heartbeat', heartbeat: { running: [], freeSlots: this.profile.capacity, seq, ledgerSeq, ledgerHead } });
        this.fleet.heartbeatSent();
        this.scheduleHeartbeat(intervalMs);
      } catch (error) {
        this.fleet.failed(error);
      }
    });
  }

  private onFrame(frame: ControlFrame__Output): void {
    switch (frame.frame) {
      case 'leaseRenewal': {
        const { heartbeatSeq } = frame.leaseRenewal!;
        if (heartbeatSeq > 0 && heartbeatSeq === this.lastHeartbeat?.seq) this.fleet.heartbeatAnswered(performance.now() - this.lastHeartbeat.sentAt);
        return;
      }
      case 'policyBundle':
        this.applyBundle(frame.policyBundle!);
        return;
      case 'instruction':
        this.answerInstruction(frame.instruction!);
        return;
      default:
        this.fleet.unexpected(frame.frame ?? 'none');
    }
  }

  /** As a worker does: verify, check the layers against the policy schema, put the revision in force, ack. */
  private applyBundle(bundle: SignedPolicyBundle__Output): void {
    const verdict = this.bundleVerifier.verify(bundle, this.appliedRevision);
    if (!verdict.ok) return this.refuseBundle(verdict.revision ?? 0, verdict.failureCode);
    const { revision, layersJson } = verdict.payload;
    let layers: ReturnType<typeof parseBundleLayers> | undefined;
    try {
      layers = parseBundleLayers(JSON.parse(layersJson));
    } catch {
      layers = undefined;
    }
    if (!layers?.ok) return this.refuseBundle(revision, FailureCode.POLICY_BUNDLE_INVALID);
    this.appliedRevision = revision;
    this.fleet.bundleApplied();
    this.send({ frame: 'policyAck', policyAck: { revision, status: PolicyAckStatus.POLICY_ACK_STATUS_APPLIED, failureCode: FailureCode.FAILURE_CODE_UNSPECIFIED, narrowed: [] } });
  }

  private refuseBundle(revision: number, failureCode: PolicyAck__Output['failureCode']): void {
    this.fleet.bundleRefused(failureCode);
    this.send({ frame: 'policyAck', policyAck: { revision, status: PolicyAckStatus.POLICY_ACK_STATUS_REFUSED, failureCode, narrowed: [] } });
  }

  /**
   * Verifies an instruction as a worker does, then refuses it (a simulated worker runs
   * nothing): a genuine one as a worker whose policy allows no such task would, a bad one
   * with the verifier's code. Either way the credit comes back.
   */
  private answerInstruction(instruction: SignedInstruction__Output): void {
    const verdict = this.instructionVerifier.verify(instruction);
    if (verdict.ok) {
      this.fleet.instructionVerified();
      const attempt = { jobId: verdict.payload.jobId, attempt: verdict.payload.attempt };
      this.send({ frame: 'rejected', rejected: { attempt, failureCode: FailureCode.TASK_FORBIDDEN_BY_POLICY, rules: [PolicyRule.RULE_JOB_KINDS] } });
    } else {
      this.fleet.instructionRefused(verdict.failureCode);
      this.send({ frame: 'rejected', rejected: { attempt: verdict.attempt ?? null, failureCode: verdict.failureCode, rules: [] } });
    }
    this.send({ frame: 'credit', credit: { credits: 1 } });
  }

  private streamEnded(end: SessionEnd): void {
    this.heartbeatTimer?.cancel();
    const observed = this.current!;
    if (this.welcomedAt !== undefined) this.droppedAt = performance.now();
    this.welcomedAt = undefined;
    observed.ended = true;
    const status = end.status === undefined ? end.reason : `${grpc.status[end.status] ?? end.status}: ${observed.details}`;
    this.fleet.ended(outcomeOf(end, observed, this.stopping.signal.aborted), status, end.retryAfterMs);
  }
}

function outcomeOf(end: SessionEnd, observed: ObservedCall, stopping: boolean): SessionOutcome {
  if (stopping) return 'closed';
  if (end.retryAfterMs !== undefined) return 'refused-busy';
  if (end.status === grpc.status.UNAVAILABLE && observed.openAtCut) return 'cut-by-restart';
  // Nothing answered: no TLS session, or the connection closed before the Challenge.
  if (end.status === grpc.status.UNAVAILABLE && !observed.helloSent) return 'unreachable';
  return end.welcomed ? 'ended-after-welcome' : 'handshake-failed';
}
