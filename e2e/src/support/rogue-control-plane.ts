import { randomBytes, randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { generateSigningKeyPair, signInstruction, signPolicyBundle, type SigningKeyPair } from '@airlock/envelope';
import {
  WIRE_LIMITS,
  workerGatewayServiceDefinition,
  type ControlFrame,
  type EnrollRequest__Output,
  type EnrollResponse,
  type InstructionPayload,
  type PolicyBundlePayload,
  type SignedInstruction,
  type SignedPolicyBundle,
  type WorkerFrame__Output,
} from '@airlock/protocol';

/**
 * A control plane that speaks the real protocol but sends whatever the test tells it to:
 * the stand-in for a compromised or impersonated control plane. It signs with a key the
 * worker pins, so every refusal it provokes is the worker's own verification at work.
 */
export class RogueControlPlane {
  readonly workerId = randomUUID();
  readonly tenantId = randomUUID();
  readonly signingKey: SigningKeyPair = generateSigningKeyPair();
  readonly received: WorkerFrame__Output[] = [];
  private readonly server = new grpc.Server({
    'grpc.max_receive_message_length': WIRE_LIMITS.maxUpstreamMessageBytes,
    'grpc.max_send_message_length': WIRE_LIMITS.maxDownstreamMessageBytes,
  });
  private stream: grpc.ServerDuplexStream<WorkerFrame__Output, ControlFrame> | undefined;
  address = '';

  async start(): Promise<void> {
    this.server.addService(workerGatewayServiceDefinition(), {
      Enroll: (
        _call: grpc.ServerUnaryCall<EnrollRequest__Output, EnrollResponse>,
        callback: grpc.sendUnaryData<EnrollResponse>,
      ) => {
        callback(null, {
          workerId: this.workerId,
          tenantId: this.tenantId,
          signingKeys: [{ keyId: this.signingKey.keyId, publicKey: this.signingKey.publicKey }],
        });
      },
      Connect: (stream: grpc.ServerDuplexStream<WorkerFrame__Output, ControlFrame>) => {
        this.stream = stream;
        stream.on('data', (frame: WorkerFrame__Output) => {
          this.received.push(frame);
          if (frame.frame === 'hello') stream.write({ welcome: { heartbeatIntervalMs: 500, leaseTtlMs: 5_000 } });
          if (frame.frame === 'result' && frame.result?.attempt) {
            stream.write({ resultAck: { attempt: frame.result.attempt, disposition: 'RESULT_DISPOSITION_RECORDED' } });
          }
        });
        stream.on('error', () => undefined);
        stream.write({ challenge: { nonce: randomBytes(WIRE_LIMITS.challengeNonceBytes) } });
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    this.address = `127.0.0.1:${port}`;
  }

  /** A payload that would pass every check, for the test to spoil one field of. */
  validPayload(task: Pick<InstructionPayload, 'fix' | 'noop'>): InstructionPayload {
    const now = Date.now();
    return {
      jobId: randomUUID(),
      attempt: 1,
      tenantId: this.tenantId,
      audience: this.workerId,
      issuedAtMs: now,
      expiresAtMs: now + 60_000,
      nonce: randomBytes(WIRE_LIMITS.instructionNonceBytes),
      policyRef: '',
      ...task,
    };
  }

  sign(payload: InstructionPayload, key: SigningKeyPair = this.signingKey): SignedInstruction {
    return signInstruction(payload, key);
  }

  send(instruction: SignedInstruction): void {
    if (!this.stream) throw new Error('no worker is connected');
    this.stream.write({ instruction });
  }

  /** A bundle payload addressed to the connected worker, for the test to sign (or spoil). */
  bundlePayload(revision: number, layers: object): PolicyBundlePayload {
    const now = Date.now();
    return { tenantId: this.tenantId, audience: this.workerId, revision, issuedAtMs: now, expiresAtMs: now + 60_000, layersJson: JSON.stringify(layers) };
  }

  signBundle(payload: PolicyBundlePayload, key: SigningKeyPair = this.signingKey): SignedPolicyBundle {
    return signPolicyBundle(payload, key);
  }

  sendBundle(policyBundle: SignedPolicyBundle): void {
    if (!this.stream) throw new Error('no worker is connected');
    this.stream.write({ policyBundle });
  }

  framesOf<K extends NonNullable<WorkerFrame__Output['frame']>>(kind: K): Array<NonNullable<WorkerFrame__Output[K]>> {
    return this.received.filter((f) => f.frame === kind).map((f) => f[kind] as NonNullable<WorkerFrame__Output[K]>);
  }

  /** Waits until `count` frames of a kind have arrived. */
  async waitForFrames(kind: NonNullable<WorkerFrame__Output['frame']>, count: number, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.framesOf(kind).length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} ${kind} frames, got ${this.framesOf(kind).length}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }
}
