import * as grpc from '@grpc/grpc-js';
import { ControlFrameVerifier, PolicyBundleVerifier, generateSigningKeyPair, helloSignature, type ControlFrameRefusal, type PolicyBundleVerification } from '@airlock/envelope';
import { RULE_IDS_TO_WIRE, parseBundleLayers, type BundleLayers, type RuleId } from '@airlock/policy';
import {
  loadAirlockV1,
  type AttemptRef,
  type ControlFrame__Output,
  type EnrollResponse__Output,
  type SignedPolicyBundle__Output,
  type WorkerFrame,
  type WorkerGatewayClient,
} from '@airlock/protocol';

/**
 * A worker's `JobResult` frame for a fix that succeeded: one file changed, tests run and
 * passed, two model requests, a change MAC of 0xab bytes. Tests that read these figures back
 * (the job view, analytics) rely on them.
 */
export function succeededResult(jobId: string, attempt: number) {
  return {
    result: {
      attempt: { jobId, attempt },
      outcome: 'JOB_OUTCOME_SUCCEEDED' as const,
      failureCode: 'FAILURE_CODE_UNSPECIFIED' as const,
      failedPhase: 'PHASE_UNSPECIFIED' as const,
      // Short enough for the time these tests leave between dispatch and result: longer would be implausible.
      phaseDurations: [{ phase: 'PHASE_TEST' as const, durationMs: 120 }],
      tokens: { requests: 2, promptTokens: 900, completionTokens: 120 },
      change: { filesChanged: 1, linesAdded: 3, linesRemoved: 1, editsProposed: 1, editsApplied: 1 },
      verification: { testsRan: true, testExitCode: 0 },
      contextFiles: 4,
      changeMac: Buffer.alloc(32, 0xab),
      deliveryMac: Buffer.alloc(0),
      // The protocol refuses a result that does not say how much it reports.
      metadataLevel: 'METADATA_LEVEL_STANDARD' as const,
    },
  };
}

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

export function enroll(client: WorkerGatewayClient, request: { enrollmentToken: string; workerPublicKey: Buffer; workerVersion: string; tlsPublicKey?: Buffer }): Promise<EnrollResponse__Output> {
  return new Promise((resolve, reject) => {
    client.enroll(request, { deadline: Date.now() + 5_000 }, (error, response) => (error || !response ? reject(error) : resolve(response)));
  });
}

/** What the test worker did with a policy bundle, as a real worker would. */
export interface BundleHandling {
  readonly verification: PolicyBundleVerification;
  /** The layers it applied; absent when it refused the bundle. */
  readonly layers?: BundleLayers;
}

/**
 * A worker played by the test: its own key, a Connect stream, and every frame received. A
 * Cancel, ResultAck, Drain or LeaseRenewal is checked on arrival as a worker checks it (its
 * signature, against the keys pinned at enrollment, for this worker and stream): the refusals
 * are in `frameRefusals`, and the frame is kept without its signature, so that tests compare
 * what it says.
 */
export class TestWorker {
  readonly key = generateSigningKeyPair();
  readonly received: ControlFrame__Output[] = [];
  /** Signed kinds of frame whose signature did not verify, with why: a real worker would have dropped them. */
  readonly frameRefusals: { readonly frame: string; readonly refusal: ControlFrameRefusal }[] = [];
  workerId = '';
  tenantId = '';
  status: grpc.StatusObject | null = null;
  /** The central policy revision in force here, as a worker keeps it across reconnects (0: none). */
  appliedRevision = 0;
  /** The signing keys the enrollment answered with, pinned as an operator would pin them. */
  private trustedKeys = new Map<string, Buffer>();
  private labels: string[] = [];
  /** Set by `applyBundlesOnArrival`: handle each bundle the moment it arrives, with these narrowed rules. */
  private bundleHandling: { narrowed: RuleId[] } | null = null;
  private stream: grpc.ClientDuplexStream<WorkerFrame, ControlFrame__Output> | null = null;

  constructor(private client: WorkerGatewayClient) {}

  /** Enrolls; with `tlsPublicKey` (DER SPKI of a P-256 key) a gateway with a client CA answers a client certificate. */
  async enroll(enrollmentToken: string, workerVersion = '0.1.0', tlsPublicKey?: Buffer): Promise<EnrollResponse__Output> {
    const response = await enroll(this.client, { enrollmentToken, workerPublicKey: this.key.publicKey, workerVersion, ...(tlsPublicKey ? { tlsPublicKey } : {}) });
    this.workerId = response.workerId;
    this.tenantId = response.tenantId;
    this.trustedKeys = new Map(response.signingKeys.map((key) => [key.keyId, key.publicKey]));
    return response;
  }

  /**
   * Opens a stream (again, after `close`, to play a reconnect) and answers its challenge;
   * `signWith` lets a test sign with a wrong key, `running` lists attempts still running,
   * `labels` names the worker's pools (kept for later reconnects), `version` the worker
   * version (0.1.0 unless given). The Hello reports `appliedRevision` as the policy revision in force.
   */
  async connect(options: { capacity?: number; signWith?: string; running?: AttemptRef[]; labels?: string[]; version?: string } = {}): Promise<void> {
    if (options.labels) this.labels = options.labels;
    const stream = this.client.Connect();
    this.stream = stream;
    const receivedBefore = this.received.length;
    let streamNonce: Buffer | undefined;
    stream.on('data', (signed: ControlFrame__Output) => {
      if (signed.frame === 'challenge') streamNonce = signed.challenge?.nonce;
      const frame = this.checkedSignature(signed, streamNonce);
      this.received.push(frame);
      if (this.bundleHandling && frame.frame === 'policyBundle' && frame.policyBundle) this.handleBundle(frame.policyBundle, this.bundleHandling);
    });
    stream.on('status', (status: grpc.StatusObject) => (this.status = status));
    stream.on('error', () => undefined);
    const challenge = await eventually(() => this.received.slice(receivedBefore).find((f) => f.frame === 'challenge')?.challenge ?? undefined, 'challenge');
    this.send({
      hello: {
        workerId: this.workerId,
        challengeSignature: helloSignature(options.signWith ?? this.key.privateKeyPem, this.workerId, challenge.nonce),
        workerVersion: options.version ?? '0.1.0',
        capacity: options.capacity ?? 4,
        running: options.running ?? [],
        localPolicyDigest: Buffer.alloc(32, 7),
        labels: this.labels,
        policyRevision: this.appliedRevision,
      },
    });
  }

  send(frame: WorkerFrame): void {
    if (!this.stream) throw new Error('not connected');
    this.stream.write(frame);
  }

  /** Connects through another client from now on (e.g. one that presents a client certificate). */
  useClient(client: WorkerGatewayClient): void {
    this.client = client;
  }

  /** Records a signed kind of frame whose signature a worker would refuse, and returns the frame without its signature. */
  private checkedSignature(frame: ControlFrame__Output, streamNonce: Buffer | undefined): ControlFrame__Output {
    if (!ControlFrameVerifier.signs(frame)) return frame;
    const refusal = streamNonce === undefined ? 'MISSING' : new ControlFrameVerifier(this.trustedKeys).refusalOf(frame, { workerId: this.workerId, streamNonce });
    if (refusal !== null) this.frameRefusals.push({ frame: frame.frame, refusal });
    const { signature: _signature, ...unsigned } = frame[frame.frame]!;
    return { ...frame, [frame.frame]: unsigned } as ControlFrame__Output;
  }

  instructions(): NonNullable<ControlFrame__Output['instruction']>[] {
    return this.received.flatMap((f) => (f.frame === 'instruction' && f.instruction ? [f.instruction] : []));
  }

  resultAcks(): NonNullable<ControlFrame__Output['resultAck']>[] {
    return this.received.flatMap((f) => (f.frame === 'resultAck' && f.resultAck ? [f.resultAck] : []));
  }

  policyBundles(): SignedPolicyBundle__Output[] {
    return this.received.flatMap((f) => (f.frame === 'policyBundle' && f.policyBundle ? [f.policyBundle] : []));
  }

  /** Verifies a bundle the way a worker does: the keys pinned at enrollment, its own id and tenant, the revision in force. */
  verifyBundle(bundle: SignedPolicyBundle__Output): PolicyBundleVerification {
    const verifier = new PolicyBundleVerifier({
      trustedKeys: this.trustedKeys,
      workerId: this.workerId,
      tenantId: this.tenantId,
      clock: () => Date.now(),
      maxClockSkewMs: 30_000,
      maxValidityWindowMs: 3_600_000,
    });
    return verifier.verify(bundle, this.appliedRevision);
  }

  /**
   * Does with a bundle what a worker does: verifies it and checks its layers against the
   * policy schema, then acks APPLIED (naming the `narrowed` rules) and takes its revision,
   * or acks REFUSED with the failure code and keeps the revision in force.
   */
  handleBundle(bundle: SignedPolicyBundle__Output, options: { narrowed?: RuleId[] } = {}): BundleHandling {
    const verification = this.verifyBundle(bundle);
    if (!verification.ok) {
      this.send({ policyAck: { revision: verification.revision ?? 0, status: 'POLICY_ACK_STATUS_REFUSED', failureCode: verification.failureCode } });
      return { verification };
    }
    const { revision, layersJson } = verification.payload;
    const layers = parseBundleLayers(JSON.parse(layersJson));
    if (!layers.ok) {
      this.send({ policyAck: { revision, status: 'POLICY_ACK_STATUS_REFUSED', failureCode: 'POLICY_BUNDLE_INVALID' } });
      return { verification };
    }
    this.appliedRevision = revision;
    this.send({ policyAck: { revision, status: 'POLICY_ACK_STATUS_APPLIED', narrowed: (options.narrowed ?? []).map((rule) => RULE_IDS_TO_WIRE[rule]) } });
    return { verification, layers: layers.value };
  }

  /** From now on, handles every bundle as it arrives (as a worker does), acking it at once. */
  applyBundlesOnArrival(options: { narrowed?: RuleId[] } = {}): void {
    this.bundleHandling = { narrowed: options.narrowed ?? [] };
  }

  close(): void {
    this.stream?.end();
  }
}
