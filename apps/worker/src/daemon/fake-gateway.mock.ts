import { randomBytes } from 'node:crypto';
import { Metadata, status } from '@grpc/grpc-js';
import { ControlFrameVerifier, generateSigningKeyPair, signControlFrame, verifyHelloSignature, type SigningKeyPair } from '@airlock/envelope';
import {
  FrameValidationError,
  ResultDisposition,
  WORKER_REVOKED_REFUSAL,
  WORKER_VERSION_REFUSAL,
  GATEWAY_BUSY_REFUSAL,
  gatewayBusyRefusalMetadata,
  validateWorkerFrame,
  workerVersionRefusalMetadata,
  type ControlFrame,
  type ControlFrame__Output,
  type VersionNotice__Output,
  type WorkerFrame__Output,
} from '@airlock/protocol';
import { type ChainPoint, GENESIS_POINT, auditLineOf } from '../audit/audit-chain';
import type { ConnectStream, ConnectStreamOpener } from '../gateway/gateway.session';
import type { FrameSink } from '../gateway/outbound.gate';

type Listener = (value?: unknown) => void;

/** How the fake control plane answers each new stream. */
export interface FakeGatewayScript {
  /** The Welcome after a Hello whose signature checks out (no version notice unless it names one). */
  welcome: { heartbeatIntervalMs: number; leaseTtlMs: number; versionNotice?: VersionNotice__Output | null };
  /** Refuse every new stream at once, before any Challenge, as a control plane busy with other handshakes does, asking for this many ms. */
  busyRetryAfterMs: number | undefined;
  /** End every new stream with this status after the Hello instead of welcoming (e.g. UNAUTHENTICATED). */
  refuseHelloWith: number | undefined;
  /** End every new stream after the Hello the way a control plane refuses a revoked worker. */
  revokedAtHello: boolean;
  /** End every new stream after the Hello the way a control plane refuses a worker version outside its window. */
  versionRefusedAtHello: VersionRefusalTrailers | undefined;
  /** Answer each Hello and Heartbeat with a LeaseRenewal of every attempt it lists, as the real one does. */
  renewLeases: boolean;
  /** Answer each JobResult with a ResultAck. */
  ackResults: boolean;
}

/** What a version refusal's trailers say (WORKER_VERSION_REFUSAL). */
export type VersionRefusalTrailers = Parameters<typeof workerVersionRefusalMetadata>[0];

/**
 * One `Connect` call as the worker sees it, played in process (temporal's mock native
 * worker, buildkite's fake API server): what the worker writes is recorded, and the test
 * (or the gateway's script) sends control frames, ends the call or fails it with a status.
 * Every event reaches the worker asynchronously, as from the network.
 */
export class FakeControlStream implements ConnectStream {
  readonly written: WorkerFrame__Output[] = [];
  /** The worker half-closed its side. */
  endedByWorker = false;
  cancelled = false;
  private closed = false;
  private readonly listeners = new Map<string, Listener[]>();

  constructor(
    private readonly onWrite: (frame: WorkerFrame__Output, stream: FakeControlStream) => void,
    /** Signs a Cancel, ResultAck, Drain or LeaseRenewal as the control plane does for this stream. */
    private readonly sign: (frame: ControlFrame__Output) => ControlFrame__Output = (frame) => frame,
  ) {}

  write(frame: WorkerFrame__Output): boolean {
    this.written.push(frame);
    this.onWrite(frame, this);
    return true;
  }

  end(): void {
    this.endedByWorker = true;
    // The real control plane ends its side when the worker ends its own.
    this.finish();
  }

  cancel(): void {
    this.cancelled = true;
    this.fail(status.CANCELLED);
  }

  on(event: 'data' | 'error' | 'end', listener: (value: never) => void): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener as Listener]);
    return this;
  }

  /** Sends a control frame to the worker, signed for this stream when its kind is signed. */
  send(frame: ControlFrame__Output): void {
    this.emit('data', this.sign(frame));
  }

  /** Sends a control frame as it is: an unsigned (or forged) Cancel, ResultAck, Drain or LeaseRenewal. */
  sendUnsigned(frame: ControlFrame__Output): void {
    this.emit('data', frame);
  }

  /** Ends the call with a status other than OK, and the trailers it came with, if any. */
  fail(code: number, metadata?: Metadata): void {
    this.emit('error', metadata ? { code, metadata } : { code }, true);
  }

  /** Ends the call the way a control plane tells a worker it was revoked (WORKER_REVOKED_REFUSAL). */
  revoke(): void {
    const trailers = new Metadata();
    trailers.set(WORKER_REVOKED_REFUSAL.metadataKey, WORKER_REVOKED_REFUSAL.metadataValue);
    this.fail(WORKER_REVOKED_REFUSAL.status, trailers);
  }

  /** Ends the call the way a control plane refuses a worker version outside its window (WORKER_VERSION_REFUSAL). */
  refuseVersion(refusal: VersionRefusalTrailers): void {
    this.fail(WORKER_VERSION_REFUSAL.status, workerVersionRefusalMetadata(refusal));
  }

  /** Ends the call cleanly from the control plane's side. */
  finish(): void {
    this.emit('end', undefined, true);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private emit(event: string, value: unknown, closes = false): void {
    if (this.closed) return;
    if (closes) this.closed = true;
    setImmediate(() => this.listeners.get(event)?.forEach((listener) => listener(value)));
  }
}

/**
 * A control plane at the daemon's stream seam: each `connect()` opens a FakeControlStream
 * that challenges the worker, checks its Hello signature against `workerPublicKey`, and
 * follows `script` (welcome or refuse, renew leases, ack results). Frames the worker sent on
 * every stream are in `frames`.
 */
export class FakeGateway {
  /** The control plane's signing key, for the worker to pin (`frameVerifier`). */
  readonly signingKey: SigningKeyPair = generateSigningKeyPair();
  readonly streams: FakeControlStream[] = [];
  readonly helloVerdicts: boolean[] = [];
  readonly script: FakeGatewayScript = {
    welcome: { heartbeatIntervalMs: 1_000, leaseTtlMs: 10_000 },
    busyRetryAfterMs: undefined,
    refuseHelloWith: undefined,
    revokedAtHello: false,
    versionRefusedAtHello: undefined,
    renewLeases: true,
    ackResults: true,
  };
  private readonly nonces = new WeakMap<FakeControlStream, Buffer>();

  constructor(
    private readonly workerPublicKey: Buffer,
    /** The worker's id, which the frame signatures are bound to. */
    private readonly workerId: string,
  ) {}

  /** A verifier of this gateway's frame signatures, as the worker builds one from its pinned keys. */
  get frameVerifier(): ControlFrameVerifier {
    return new ControlFrameVerifier(new Map([[this.signingKey.keyId, this.signingKey.publicKey]]));
  }

  readonly connect: ConnectStreamOpener = () => {
    const nonce = randomBytes(32);
    const binding = { workerId: this.workerId, streamNonce: nonce };
    const stream = new FakeControlStream(
      (frame, from) => this.answer(frame, from),
      (frame) => signControlFrame(frame as ControlFrame, this.signingKey, binding) as ControlFrame__Output,
    );
    this.nonces.set(stream, nonce);
    this.streams.push(stream);
    if (this.script.busyRetryAfterMs !== undefined) stream.fail(GATEWAY_BUSY_REFUSAL.status, gatewayBusyRefusalMetadata(this.script.busyRetryAfterMs));
    else stream.send({ frame: 'challenge', challenge: { nonce } });
    return stream;
  };

  /** The stream opened last. */
  get current(): FakeControlStream {
    const stream = this.streams.at(-1);
    if (!stream) throw new Error('the worker has not connected');
    return stream;
  }

  /** Every frame the worker sent, on every stream, in order. */
  get frames(): WorkerFrame__Output[] {
    return this.streams.flatMap((stream) => stream.written);
  }

  /** Frames of one kind the worker sent, from `from` (an index into `frames`) on. */
  sent<K extends NonNullable<WorkerFrame__Output['frame']>>(kind: K, from = 0): Array<NonNullable<WorkerFrame__Output[K]>> {
    return this.frames
      .slice(from)
      .filter((frame) => frame.frame === kind)
      .map((frame) => frame[kind] as NonNullable<WorkerFrame__Output[K]>);
  }

  /** Sum of the credits granted on the current stream. */
  get creditsOnCurrentStream(): number {
    return this.current.written.reduce((sum, frame) => sum + (frame.frame === 'credit' ? frame.credit!.credits : 0), 0);
  }

  private answer(frame: WorkerFrame__Output, stream: FakeControlStream): void {
    if (frame.frame === 'hello') {
      const hello = frame.hello!;
      const ok = verifyHelloSignature(this.workerPublicKey, hello.workerId, this.nonces.get(stream)!, hello.challengeSignature);
      this.helloVerdicts.push(ok);
      if (ok && this.script.revokedAtHello) {
        stream.revoke();
        return;
      }
      if (ok && this.script.versionRefusedAtHello) {
        stream.refuseVersion(this.script.versionRefusedAtHello);
        return;
      }
      if (!ok || this.script.refuseHelloWith !== undefined) {
        stream.fail(this.script.refuseHelloWith ?? status.UNAUTHENTICATED);
        return;
      }
      stream.send({ frame: 'welcome', welcome: { versionNotice: null, ...this.script.welcome } });
      if (this.script.renewLeases) stream.send({ frame: 'leaseRenewal', leaseRenewal: { heartbeatSeq: 0, renewed: hello.running, signature: null } });
    }
    if (frame.frame === 'heartbeat' && this.script.renewLeases) {
      stream.send({ frame: 'leaseRenewal', leaseRenewal: { heartbeatSeq: frame.heartbeat!.seq, renewed: frame.heartbeat!.running, signature: null } });
    }
    if (frame.frame === 'result' && this.script.ackResults) {
      stream.send({ frame: 'resultAck', resultAck: { attempt: frame.result!.attempt!, disposition: ResultDisposition.RESULT_DISPOSITION_RECORDED, signature: null } });
    }
  }
}

/**
 * The outbound gate without its audit log: frames are checked against the closed schema as
 * the real gate checks them, then written; `auditFails` plays a full disk (nothing sent,
 * the log unhealthy).
 */
export class FakeOutboundGate {
  auditFails = false;
  refusedCount = 0;
  private sink: FrameSink | undefined;
  /** The chain a real gate's audit log would have: one line per frame sent. */
  private head: ChainPoint = GENESIS_POINT;

  get auditHealthy(): boolean {
    return !this.auditFails;
  }

  get auditHead(): ChainPoint {
    return this.head;
  }

  attach(sink: FrameSink | undefined): void {
    this.sink = sink;
  }

  send(frame: WorkerFrame__Output): boolean {
    try {
      validateWorkerFrame(frame);
    } catch (error) {
      if (!(error instanceof FrameValidationError)) throw error;
      this.refusedCount += 1;
      return false;
    }
    if (this.sink === undefined || this.auditFails) return false;
    this.head = auditLineOf(this.head, new Date(0).toISOString(), frame.frame ?? 'unknown', '{}').point;
    this.sink.write(frame);
    return true;
  }
}
