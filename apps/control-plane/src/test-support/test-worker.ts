import * as grpc from '@grpc/grpc-js';
import { generateSigningKeyPair, helloSignature } from '@airlock/envelope';
import { loadAirlockV1, type AttemptRef, type ControlFrame__Output, type EnrollResponse__Output, type WorkerFrame, type WorkerGatewayClient } from '@airlock/protocol';

/** Polls until `probe` returns a value, or fails after the deadline. */
export async function eventually<T>(probe: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export function gatewayClient(address: string): WorkerGatewayClient {
  const v1 = loadAirlockV1();
  return new v1.WorkerGateway(address, grpc.credentials.createInsecure());
}

export function enroll(client: WorkerGatewayClient, request: { enrollmentToken: string; workerPublicKey: Buffer; workerVersion: string }): Promise<EnrollResponse__Output> {
  return new Promise((resolve, reject) => {
    client.enroll(request, { deadline: Date.now() + 5_000 }, (error, response) => (error || !response ? reject(error) : resolve(response)));
  });
}

/** A worker played by the test: its own key, a Connect stream, and every frame received. */
export class TestWorker {
  readonly key = generateSigningKeyPair();
  readonly received: ControlFrame__Output[] = [];
  workerId = '';
  tenantId = '';
  status: grpc.StatusObject | null = null;
  private stream: grpc.ClientDuplexStream<WorkerFrame, ControlFrame__Output> | null = null;

  constructor(private readonly client: WorkerGatewayClient) {}

  async enroll(enrollmentToken: string): Promise<EnrollResponse__Output> {
    const response = await enroll(this.client, { enrollmentToken, workerPublicKey: this.key.publicKey, workerVersion: '0.1.0' });
    this.workerId = response.workerId;
    this.tenantId = response.tenantId;
    return response;
  }

  /**
   * Opens a stream (again, after `close`, to play a reconnect) and answers its challenge;
   * `signWith` lets a test sign with a wrong key, `running` lists attempts still running.
   */
  async connect(options: { capacity?: number; signWith?: string; running?: AttemptRef[] } = {}): Promise<void> {
    const stream = this.client.Connect();
    this.stream = stream;
    const receivedBefore = this.received.length;
    stream.on('data', (frame: ControlFrame__Output) => this.received.push(frame));
    stream.on('status', (status: grpc.StatusObject) => (this.status = status));
    stream.on('error', () => undefined);
    const challenge = await eventually(() => this.received.slice(receivedBefore).find((f) => f.frame === 'challenge')?.challenge ?? undefined, 'challenge');
    this.send({
      hello: {
        workerId: this.workerId,
        challengeSignature: helloSignature(options.signWith ?? this.key.privateKeyPem, this.workerId, challenge.nonce),
        workerVersion: '0.1.0',
        capacity: options.capacity ?? 4,
        running: options.running ?? [],
        localPolicyDigest: Buffer.alloc(32, 7),
      },
    });
  }

  send(frame: WorkerFrame): void {
    if (!this.stream) throw new Error('not connected');
    this.stream.write(frame);
  }

  instructions(): NonNullable<ControlFrame__Output['instruction']>[] {
    return this.received.flatMap((f) => (f.frame === 'instruction' && f.instruction ? [f.instruction] : []));
  }

  resultAcks(): NonNullable<ControlFrame__Output['resultAck']>[] {
    return this.received.flatMap((f) => (f.frame === 'resultAck' && f.resultAck ? [f.resultAck] : []));
  }

  close(): void {
    this.stream?.end();
  }
}
