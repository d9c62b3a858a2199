import { randomBytes, randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { generateSigningKeyPair, signControlFrame, signInstruction, verifyHelloSignature, type SigningKeyPair } from '@airlock/envelope';
import {
  ResultDisposition,
  WORKER_REVOKED_REFUSAL,
  WORKER_VERSION_REFUSAL,
  workerGatewayServiceDefinition,
  workerVersionRefusalMetadata,
  type ControlFrame,
  type EnrollRequest__Output,
  type EnrollResponse,
  type InstructionPayload,
  type SignedInstruction__Output,
  type Welcome,
  type WorkerFrame__Output,
} from '@airlock/protocol';

type Stream = grpc.ServerDuplexStream<WorkerFrame__Output, ControlFrame>;

/**
 * A real grpc-js server on 127.0.0.1:0 playing the control plane: enrolls one worker,
 * challenges it, checks the Hello signature, welcomes it, renews the leases it reports and
 * records every frame received.
 */
export class FakeControlPlane {
  readonly signingKey: SigningKeyPair = generateSigningKeyPair();
  /** Writable: a test re-enrolling the worker gives it a new identity. */
  workerId = randomUUID();
  readonly tenantId = randomUUID();
  readonly frames: WorkerFrame__Output[] = [];
  readonly helloVerdicts: boolean[] = [];
  autoAckResults = true;
  /** What the Welcome of the next stream says. */
  welcome: Welcome = { heartbeatIntervalMs: 500, leaseTtlMs: 5_000 };
  /**
   * Set by `refuseWorkerVersion`: every Hello is refused as the real control plane refuses a
   * version outside its window (WORKER_VERSION_REFUSAL). Unset it to accept the worker again.
   */
  versionRefusal: Parameters<typeof workerVersionRefusalMetadata>[0] | undefined;
  /** Answer each Hello and Heartbeat with a LeaseRenewal of every attempt it lists, as the real one does. */
  renewLeases = true;
  /** The pool the next enrollment answers, as the token would name it ('': none). */
  enrolledPool = '';
  /** Set by `revokeWorker`: every Hello is refused as the real control plane refuses a revoked worker. */
  private revoked = false;
  private workerPublicKey: Buffer | undefined;
  private stream: Stream | undefined;
  /** The current stream's challenge, which frame signatures are bound to. */
  private streamNonce: Buffer = Buffer.alloc(0);
  private readonly server = new grpc.Server();
  private waiters: Array<() => void> = [];
  address = '';

  async start(): Promise<void> {
    this.server.addService(workerGatewayServiceDefinition(), {
      Enroll: (call: grpc.ServerUnaryCall<EnrollRequest__Output, EnrollResponse>, callback: grpc.sendUnaryData<EnrollResponse>) => {
        this.workerPublicKey = call.request.workerPublicKey;
        callback(null, { workerId: this.workerId, tenantId: this.tenantId, signingKeys: [{ keyId: this.signingKey.keyId, publicKey: this.signingKey.publicKey }], pool: this.enrolledPool });
      },
      Connect: (stream: Stream) => this.connect(stream),
    });
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    this.address = `127.0.0.1:${port}`;
  }

  stop(): void {
    this.server.forceShutdown();
  }

  /** Sends a frame on the current stream; a Cancel, ResultAck, Drain or LeaseRenewal signed as the real control plane signs it. */
  send(frame: ControlFrame): void {
    if (!this.stream) throw new Error('no worker connected');
    this.stream.write(this.signed(frame));
  }

  /** Sends a frame as it is: an unsigned (or forged) Cancel, ResultAck, Drain or LeaseRenewal. */
  sendUnsigned(frame: ControlFrame): void {
    if (!this.stream) throw new Error('no worker connected');
    this.stream.write(frame);
  }

  private signed(frame: ControlFrame): ControlFrame {
    return signControlFrame(frame, this.signingKey, { workerId: this.workerId, streamNonce: this.streamNonce });
  }

  /**
   * Revokes the worker as an admin would: its current stream ends with the refusal the real
   * control plane sends (PERMISSION_DENIED with WORKER_REVOKED_REFUSAL), and so does every
   * later Hello.
   */
  revokeWorker(): void {
    this.revoked = true;
    if (this.stream) refuseAsRevoked(this.stream);
    this.stream = undefined;
  }

  /** Refuses the worker's version as the real control plane does: its current stream ends with the refusal, and so does every later Hello. */
  refuseWorkerVersion(refusal: Parameters<typeof workerVersionRefusalMetadata>[0]): void {
    this.versionRefusal = refusal;
    if (this.stream) refuseVersion(this.stream, refusal);
    this.stream = undefined;
  }

  /** Ends the current stream from the server side (the worker should reconnect). */
  dropStream(): void {
    this.stream?.end();
    this.stream = undefined;
  }

  /** Signs an instruction for the enrolled worker; `overrides` change payload fields. */
  instruction(task: Pick<InstructionPayload, 'fix' | 'noop'>, overrides: Partial<InstructionPayload> = {}): { signed: SignedInstruction__Output; jobId: string } {
    const now = Date.now();
    const jobId = randomUUID();
    const payload: InstructionPayload = {
      jobId,
      attempt: 1,
      tenantId: this.tenantId,
      audience: this.workerId,
      issuedAtMs: now,
      expiresAtMs: now + 10 * 60_000,
      nonce: randomBytes(16),
      policyRef: '',
      ...task,
      ...overrides,
    };
    return { signed: signInstruction(payload, this.signingKey), jobId };
  }

  /** Resolves with the first recorded frame (from index `from`) matching the predicate. */
  async waitFor(predicate: (frame: WorkerFrame__Output) => boolean, from = 0, timeoutMs = 30_000): Promise<WorkerFrame__Output> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.slice(from).find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error('timed out waiting for a worker frame');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private connect(stream: Stream): void {
    const nonce = randomBytes(32);
    this.stream = stream;
    this.streamNonce = nonce;
    stream.on('data', (frame: WorkerFrame__Output) => {
      this.frames.push(frame);
      if (frame.frame === 'hello') {
        const ok = this.workerPublicKey !== undefined && verifyHelloSignature(this.workerPublicKey, frame.hello!.workerId, nonce, frame.hello!.challengeSignature);
        this.helloVerdicts.push(ok);
        if (ok && this.revoked) {
          refuseAsRevoked(stream);
          return;
        }
        if (ok && this.versionRefusal) {
          refuseVersion(stream, this.versionRefusal);
          return;
        }
        if (!ok) {
          stream.emit('error', { code: grpc.status.UNAUTHENTICATED });
          return;
        }
        stream.write({ welcome: this.welcome });
        if (this.renewLeases) stream.write(this.signed({ leaseRenewal: { heartbeatSeq: 0, renewed: frame.hello!.running } }));
      }
      if (frame.frame === 'heartbeat' && this.renewLeases) {
        stream.write(this.signed({ leaseRenewal: { heartbeatSeq: frame.heartbeat!.seq, renewed: frame.heartbeat!.running } }));
      }
      if (frame.frame === 'result' && this.autoAckResults) {
        stream.write(this.signed({ resultAck: { attempt: frame.result!.attempt!, disposition: ResultDisposition.RESULT_DISPOSITION_RECORDED } }));
      }
      const waiters = this.waiters;
      this.waiters = [];
      waiters.forEach((wake) => wake());
    });
    stream.on('error', () => undefined);
    stream.on('end', () => stream.end());
    stream.write({ challenge: { nonce } });
  }
}

function refuseVersion(stream: Stream, refusal: Parameters<typeof workerVersionRefusalMetadata>[0]): void {
  stream.emit('error', { code: WORKER_VERSION_REFUSAL.status, details: 'worker version refused', metadata: workerVersionRefusalMetadata(refusal) });
}

function refuseAsRevoked(stream: Stream): void {
  const trailers = new grpc.Metadata();
  trailers.set(WORKER_REVOKED_REFUSAL.metadataKey, WORKER_REVOKED_REFUSAL.metadataValue);
  stream.emit('error', { code: WORKER_REVOKED_REFUSAL.status, details: 'worker revoked', metadata: trailers });
}
