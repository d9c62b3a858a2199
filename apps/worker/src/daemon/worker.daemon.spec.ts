import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { InstructionVerifier, MemoryNonceStore, PolicyBundleVerifier, generateSigningKeyPair, signControlFrame, signInstruction, signPolicyBundle } from '@airlock/envelope';
import { FailureCode, JobOutcome, ResultDisposition, type ControlFrame__Output, type InstructionPayload, type JobResult__Output } from '@airlock/protocol';
import type { WorkerConfig } from '../config/worker-config.loader';
import { workerConfigSchema } from '../config/worker-config.schema';
import { InstructionGatekeeper } from '../instructions/instruction.gatekeeper';
import { CentralPolicyStore, POLICY_BUNDLE_FILE } from '../policy/central-policy.store';
import { localJobPolicy } from '../policy/local-job-policy.mock';
import { PolicyBundleHandler } from '../policy/policy-bundle.handler';
import { WorkerPolicy } from '../policy/worker-policy';
import type { OutcomeChannel } from '../delivery/watch/delivery.watcher';
import { CapturedLog } from './captured-log.mock';
import { DAEMON_EXIT_CODES, type DaemonExit } from './daemon.exit';
import { FakeGateway, FakeOutboundGate } from './fake-gateway.mock';
import { FakeJobRunner } from './fake-job-runner.mock';
import { ManualClock, settle } from './manual-clock.mock';
import type { CheckResult } from './readiness.checks';
import { REFUSAL_BUDGET } from './instruction.admission';
import { IDENTITY_REFUSAL_LIMIT } from './session.loop';
import { WorkerDaemon, type WorkerDaemonDependencies } from './worker.daemon';

/** The documented defaults, from the config schema itself rather than a copy of them. */
const LIMITS: WorkerConfig['limits'] = workerConfigSchema.shape.limits.parse(undefined);

/** Results not yet acknowledged, in memory; `removeThrows` plays a bug on the ResultAck path. */
class MemoryOutbox {
  readonly results = new Map<string, JobResult__Output>();
  removeThrows: Error | undefined;

  put(result: JobResult__Output): void {
    this.results.set(`${result.attempt!.jobId}-${result.attempt!.attempt}`, result);
  }

  remove(jobId: string, attempt: number): boolean {
    if (this.removeThrows) throw this.removeThrows;
    return this.results.delete(`${jobId}-${attempt}`);
  }

  pending(): JobResult__Output[] {
    return [...this.results.values()];
  }
}

/**
 * The daemon in process, every unit real, with fakes only at its seams: the control plane
 * at the stream (FakeGateway), the job runner, the outbox and attempt ledger in memory, and
 * time (ManualClock). Instructions are signed and verified for real.
 */
describe('WorkerDaemon in process, against a fake control plane at the stream seam', () => {
  const workerKey = generateSigningKeyPair();
  const signingKey = generateSigningKeyPair();
  const workerId = randomUUID();
  const tenantId = randomUUID();
  let clock: ManualClock;
  let log: CapturedLog;
  let gateway: FakeGateway;
  let gate: FakeOutboundGate;
  let runner: FakeJobRunner;
  let outbox: MemoryOutbox;
  let attempts: Set<string>;
  let readiness: CheckResult[];
  let daemon: WorkerDaemon;
  let exit: DaemonExit | undefined;
  let stateDir: string;

  const start = (concurrency = 2, deliveryWatcher?: WorkerDaemonDependencies['deliveryWatcher']) => {
    const envelope = { trustedKeys: new Map([[signingKey.keyId, signingKey.publicKey]]), workerId, tenantId, clock: () => clock.now(), maxClockSkewMs: 30_000, maxValidityWindowMs: 3_600_000 };
    const bundleVerifier = new PolicyBundleVerifier(envelope);
    const bundles = CentralPolicyStore.open(join(stateDir, POLICY_BUNDLE_FILE), bundleVerifier);
    const policy = new WorkerPolicy({ local: localJobPolicy([]).enforced, labels: ['gpu'], maxFixRetries: 2, bundles });
    daemon = new WorkerDaemon({
      config: { concurrency, limits: LIMITS },
      identity: { workerId, privateKeyPem: workerKey.privateKeyPem },
      frameVerifier: gateway.frameVerifier,
      version: '1.0.0',
      policyDigest: Buffer.alloc(32, 1),
      labels: ['gpu'],
      policyBundles: new PolicyBundleHandler({ verifier: bundleVerifier, store: bundles, policy, logger: log.logger }),
      connect: gateway.connect,
      gate,
      outbox,
      gatekeeper: new InstructionGatekeeper(new InstructionVerifier({ ...envelope, nonceStore: new MemoryNonceStore(() => clock.now()) }), policy),
      attempts: { has: (jobId, attempt) => attempts.has(`${jobId}-${attempt}`), record: (jobId, attempt) => void attempts.add(`${jobId}-${attempt}`) },
      jobs: runner,
      readiness: () => Promise.resolve(readiness),
      deliveryWatcher,
      logger: log.logger,
      clock,
      random: () => 0.5,
    });
    void daemon.run().then((ended) => (exit = ended));
  };

  /** Signs an instruction for this worker, as the control plane does. */
  const instruction = (overrides: Partial<InstructionPayload> = {}) => {
    const jobId = overrides.jobId ?? randomUUID();
    const payload: InstructionPayload = {
      jobId,
      attempt: 1,
      tenantId,
      audience: workerId,
      issuedAtMs: clock.now(),
      expiresAtMs: clock.now() + 10 * 60_000,
      nonce: randomBytes(16),
      policyRef: '',
      noop: {},
      ...overrides,
    };
    return { jobId, frame: { frame: 'instruction' as const, instruction: signInstruction(payload, signingKey) } };
  };
  /** Sends a signed instruction on the current stream; resolves with its job id once the worker has handled it. */
  const dispatch = async (overrides: Partial<InstructionPayload> = {}): Promise<string> => {
    const { jobId, frame } = instruction(overrides);
    gateway.current.send(frame);
    await settle();
    return jobId;
  };
  const rejected = (from = 0) => gateway.sent('rejected', from).map((rejection) => rejection.failureCode);
  const credits = (from = 0) => gateway.sent('credit', from).map((grant) => grant.credits);
  const resultsSent = (from = 0) => gateway.sent('result', from);
  const ready = async () => {
    await settle();
    expect(daemon.lifecycle.state).toBe('READY');
  };

  beforeEach(() => {
    clock = new ManualClock();
    log = new CapturedLog(() => clock.now());
    gateway = new FakeGateway(workerKey.publicKey, workerId);
    gate = new FakeOutboundGate();
    runner = new FakeJobRunner();
    outbox = new MemoryOutbox();
    attempts = new Set();
    readiness = [{ name: 'git', ok: true, detail: 'git version 2' }];
    exit = undefined;
    stateDir = mkdtempSync(join(tmpdir(), 'airlock-daemon-'));
  });

  afterEach(async () => {
    if (exit === undefined) {
      daemon.requestShutdown('SIGTERM');
      daemon.requestShutdown('SIGTERM');
      await clock.advance(LIMITS.abortGrace);
    }
    expect(exit).toBeDefined();
    rmSync(stateDir, { recursive: true, force: true });
  });

  /** A bundle signed for this worker: a tenant layer allowing the job kinds given. */
  const bundle = (revision: number, jobKinds: Array<'fix' | 'noop'>) =>
    signPolicyBundle(
      {
        tenantId,
        audience: workerId,
        revision,
        issuedAtMs: clock.now(),
        expiresAtMs: clock.now() + 15 * 60_000,
        layersJson: JSON.stringify({ layers: [{ scope: 'tenant', policyId: randomUUID(), version: revision, mode: 'enforce', document: { schemaVersion: 1, rules: { 'job-kinds': { allowed: jobKinds } } } }] }),
      },
      signingKey,
    );

  it('applies a pushed bundle for the jobs admitted after it: a running job keeps the policy it was admitted under', async () => {
    start();
    await ready();
    const before = await dispatch();
    expect(runner.job(before).policy.revision).toBe(0);

    gateway.current.send({ frame: 'policyBundle', policyBundle: bundle(1, ['fix']) });
    await settle();
    expect(gateway.sent('policyAck')).toEqual([{ revision: 1, status: 'POLICY_ACK_STATUS_APPLIED', failureCode: 'FAILURE_CODE_UNSPECIFIED', narrowed: [] }]);
    expect(log.events('policy-bundle-applied')).toEqual([expect.objectContaining({ revision: 1 })]);

    // Noops are now forbidden centrally; the job admitted before still runs under revision 0.
    await dispatch();
    expect(gateway.sent('rejected').at(-1)).toMatchObject({ failureCode: FailureCode.TASK_FORBIDDEN_BY_POLICY, rules: ['RULE_JOB_KINDS'] });
    expect(runner.job(before).policy).toMatchObject({ revision: 0, enforced: { jobKinds: ['fix', 'noop'] } });
    runner.job(before).finish();
    await settle();

    // The next Hello names the revision in force.
    gateway.current.finish();
    await clock.advance(125);
    expect(gateway.sent('hello').map((hello) => [hello.labels, hello.policyRevision])).toEqual([[['gpu'], 0], [['gpu'], 1]]);
  });

  it('refuses a stale bundle and a malformed bundle frame, keeping the revision in force', async () => {
    start();
    await ready();
    gateway.current.send({ frame: 'policyBundle', policyBundle: bundle(2, ['fix', 'noop']) });
    gateway.current.send({ frame: 'policyBundle', policyBundle: bundle(2, ['fix']) });
    gateway.current.send({ frame: 'policyBundle', policyBundle: { ...bundle(3, ['fix']), signature: Buffer.alloc(3) } });
    await settle();
    expect(gateway.sent('policyAck').map((ack) => [ack.revision, ack.status, ack.failureCode])).toEqual([
      [2, 'POLICY_ACK_STATUS_APPLIED', 'FAILURE_CODE_UNSPECIFIED'],
      [2, 'POLICY_ACK_STATUS_REFUSED', 'POLICY_BUNDLE_STALE'],
      [0, 'POLICY_ACK_STATUS_REFUSED', 'POLICY_BUNDLE_MALFORMED'],
    ]);
    expect(gateway.current.isClosed).toBe(false);
    const jobId = await dispatch();
    expect(runner.job(jobId).policy.revision).toBe(2);
  });

  it('answers bad bundles only within the refusal budget, then hangs up', async () => {
    start();
    await ready();
    const forged = { ...bundle(1, ['fix']), signature: Buffer.alloc(64) };
    for (let sent = 0; sent < REFUSAL_BUDGET.burst + 5; sent += 1) gateway.current.send({ frame: 'policyBundle', policyBundle: forged });
    await settle();
    expect(gateway.sent('policyAck')).toHaveLength(REFUSAL_BUDGET.burst);
    expect(log.events('refusal-budget-exceeded')).toEqual([expect.objectContaining({ frame: 'policyBundle' })]);
    expect(gateway.streams[0]?.endedByWorker).toBe(true);
  });

  it('connects at once but grants credits only once the readiness checks pass', async () => {
    readiness = [{ name: 'sandbox', ok: false, detail: 'bwrap: no user namespaces' }];
    start();
    await settle();
    expect(gateway.helloVerdicts).toEqual([true]);
    expect(daemon.lifecycle.state).toBe('STARTING');
    expect(credits()).toEqual([]);
    expect(log.events('not-ready')).toEqual([expect.objectContaining({ failed: [{ name: 'sandbox', detail: 'bwrap: no user namespaces' }] })]);
    readiness = [{ name: 'sandbox', ok: true, detail: 'ok' }];
    await clock.advance(500); // the readiness retry: 1 s with full jitter
    expect(daemon.lifecycle.state).toBe('READY');
    expect(credits()).toEqual([2]);
    expect(log.events('worker-ready')).toEqual([expect.objectContaining({ workerId, capacity: 2 })]);
    expect(daemon.health()).toMatchObject({ state: 'READY', connected: true, running: 0, capacity: 2, egressAuditHealthy: true });
  });

  it('keeps credits outstanding plus jobs running within capacity: instructions, a refusal, a finished job, a new stream', async () => {
    start();
    await ready();
    expect(gateway.creditsOnCurrentStream).toBe(2);
    const first = await dispatch();
    const second = await dispatch();
    expect(gateway.sent('ack').map((ack) => ack.attempt?.jobId)).toEqual([first, second]);
    expect(daemon.lifecycle.state).toBe('RUNNING');
    expect(credits()).toEqual([2]); // both slots busy, both credits spent

    // A third instruction came without a credit: refused, and no credit given back for it.
    const mark = gateway.frames.length;
    await dispatch();
    expect(rejected(mark)).toEqual([FailureCode.WORKER_AT_CAPACITY]);
    expect(credits(mark)).toEqual([]);

    runner.job(first).finish();
    await settle();
    expect(credits(mark)).toEqual([1]); // the finished job's slot
    expect(outbox.results.size).toBe(0); // acknowledged

    // The stream drops: the new one starts from no credit, grants the one free slot, and lists the running attempt.
    gateway.current.finish();
    await clock.advance(125);
    expect(gateway.streams).toHaveLength(2);
    expect(gateway.sent('hello').at(-1)?.running).toEqual([{ jobId: second, attempt: 1 }]);
    expect(gateway.creditsOnCurrentStream).toBe(1);
    runner.job(second).finish();
    await settle();
    expect(gateway.creditsOnCurrentStream).toBe(2);
    expect(daemon.lifecycle.state).toBe('READY');
  });

  it('refuses a duplicate of a running attempt, and a re-run of a finished one signed anew, with ATTEMPT_ALREADY_SEEN: it runs once', async () => {
    start();
    await ready();
    const jobId = await dispatch();
    await dispatch({ jobId });
    expect(rejected()).toEqual([FailureCode.ATTEMPT_ALREADY_SEEN]);
    runner.job(jobId).finish();
    await settle();
    await dispatch({ jobId });
    expect(rejected()).toEqual([FailureCode.ATTEMPT_ALREADY_SEEN, FailureCode.ATTEMPT_ALREADY_SEEN]);
    expect(runner.jobs).toHaveLength(1);
    expect(gateway.sent('ack')).toHaveLength(1);
    expect(resultsSent()).toHaveLength(1);
    expect(gateway.creditsOnCurrentStream).toBe(2 + 1 + 1 + 1); // each refusal and the finished job gave its credit back
  });

  it('aborts a cancelled job, which reports CANCELLED, and gives its slot back', async () => {
    start();
    await ready();
    const jobId = await dispatch();
    gateway.current.send({ frame: 'cancel', cancel: { attempt: { jobId, attempt: 1 }, signature: null } });
    await settle();
    expect(resultsSent().map((result) => [result.attempt?.jobId, result.failureCode])).toEqual([[jobId, FailureCode.CANCELLED]]);
    expect(daemon.lifecycle.state).toBe('READY');
    expect(gateway.creditsOnCurrentStream).toBe(2 + 1); // the cancelled job's credit came back
  });

  it('drains on the first SIGTERM: takes no new work, lets the job finish and its result be acked, exits 0', async () => {
    start();
    await ready();
    const jobId = await dispatch();
    daemon.requestShutdown('SIGTERM');
    expect(daemon.lifecycle.state).toBe('DRAINING');
    const mark = gateway.frames.length;
    await dispatch();
    expect(rejected(mark)).toEqual([FailureCode.WORKER_AT_CAPACITY]);
    await clock.advance(60_000);
    expect(exit).toBeUndefined();
    runner.job(jobId).finish();
    await settle();
    expect(resultsSent().map((result) => result.outcome)).toEqual([JobOutcome.JOB_OUTCOME_SUCCEEDED]);
    expect(credits(mark)).toEqual([]); // draining: the freed slot is not offered again
    await clock.advance(100); // the drain looks for the result's ack
    expect(exit).toEqual({ exitCode: DAEMON_EXIT_CODES.drained });
    expect(daemon.lifecycle.state).toBe('STOPPED');
    expect(gateway.current.endedByWorker).toBe(true);
    expect(log.events('stopped')).toEqual([expect.objectContaining({ exitCode: 0 })]);
  });

  it('drains on a Drain from the control plane as on a first signal', async () => {
    start();
    await ready();
    gateway.current.send({ frame: 'drain', drain: { signature: null } });
    await settle();
    expect(exit).toEqual({ exitCode: DAEMON_EXIT_CODES.drained });
  });

  it('obeys no Drain, Cancel or ResultAck the control plane did not sign for this worker and this stream', async () => {
    gateway.script.ackResults = false;
    start();
    await ready();
    const jobId = await dispatch();
    const attempt = { jobId, attempt: 1 };
    const stranger = generateSigningKeyPair();
    const otherStream = { workerId, streamNonce: randomBytes(32) };
    // Unsigned; signed by a key the worker did not pin; signed by its pinned key for another stream.
    for (const frame of [
      { frame: 'drain' as const, drain: { signature: null } },
      signControlFrame({ drain: {} }, stranger, otherStream),
      signControlFrame({ cancel: { attempt } }, gateway.signingKey, otherStream),
    ]) {
      gateway.current.sendUnsigned({ frame: Object.keys(frame).find((key) => key !== 'frame') as 'drain', ...frame } as ControlFrame__Output);
    }
    await settle();
    expect(daemon.lifecycle.state).toBe('RUNNING'); // neither drained nor its job cancelled
    expect(exit).toBeUndefined();
    expect(log.events('control-frame-unauthenticated').map((event) => event['reason'])).toEqual(['MISSING', 'UNKNOWN_KEY', 'BAD_SIGNATURE']);

    runner.job(jobId).finish();
    await settle();
    expect(resultsSent()).toHaveLength(1);
    gateway.current.sendUnsigned({ frame: 'resultAck', resultAck: { attempt, disposition: ResultDisposition.RESULT_DISPOSITION_RECORDED, signature: null } });
    await settle();
    expect(outbox.results.has(`${jobId}-1`)).toBe(true); // an unsigned ack does not take the result out of the outbox

    gateway.current.send({ frame: 'drain', drain: { signature: null } }); // signed for this stream by the pinned key
    await settle();
    expect(daemon.lifecycle.state).toBe('DRAINING');
  });

  it('aborts every job on the second signal: WORKER_SHUTDOWN results kept in the outbox, exit 130', async () => {
    gateway.script.ackResults = false;
    start();
    await ready();
    const jobs = [await dispatch(), await dispatch()];
    daemon.requestShutdown('SIGTERM');
    await clock.advance(1_000);
    daemon.requestShutdown('SIGINT');
    await settle();
    expect(exit).toEqual({ exitCode: DAEMON_EXIT_CODES.forced });
    expect([...outbox.results.values()].map((result) => [result.attempt?.jobId, result.failureCode])).toEqual(jobs.map((jobId) => [jobId, FailureCode.WORKER_SHUTDOWN]));
    expect(daemon.health().state).toBe('STOPPED');
  });

  it(`stops with exit ${DAEMON_EXIT_CODES.identityRefused} once the control plane refused its identity on ${IDENTITY_REFUSAL_LIMIT} connections in a row`, async () => {
    start();
    await ready();
    const jobId = await dispatch();
    gateway.script.refuseHelloWith = status.UNAUTHENTICATED; // revoked while running a job
    gateway.current.finish();
    for (let step = 0; step < 100 && exit === undefined; step += 1) await clock.advance(15_000);
    expect(gateway.helloVerdicts.filter((verdict) => verdict)).toHaveLength(1 + IDENTITY_REFUSAL_LIMIT); // signatures fine: the identity is what is refused
    expect(exit?.exitCode).toBe(DAEMON_EXIT_CODES.identityRefused);
    expect(exit?.failure).toMatch(/refused this worker \(UNAUTHENTICATED\) on 10 consecutive connections.*enroll/);
    expect(daemon.lifecycle.state).toBe('FAILED');
    expect(outbox.results.get(`${jobId}-1`)?.failureCode).toBe(FailureCode.WORKER_SHUTDOWN);
    expect(log.events('fatal')).toEqual([expect.objectContaining({ exitCode: DAEMON_EXIT_CODES.identityRefused, error: expect.objectContaining({ name: 'WorkerIdentityRefusedError' }) as unknown })]);
  });

  it(`stops with exit ${DAEMON_EXIT_CODES.identityRefused} at once, reconnecting no more, when the control plane says it was revoked`, async () => {
    start();
    await ready();
    const jobId = await dispatch();
    gateway.current.revoke();
    await settle();
    expect(exit?.exitCode).toBe(DAEMON_EXIT_CODES.identityRefused);
    expect(exit?.failure).toMatch(/revoked this worker \(PERMISSION_DENIED\).*enroll it anew/);
    expect(gateway.streams).toHaveLength(1);
    expect(daemon.lifecycle.state).toBe('FAILED');
    expect(outbox.results.get(`${jobId}-1`)?.failureCode).toBe(FailureCode.WORKER_SHUTDOWN);
    expect(log.events('worker-revoked')).toHaveLength(1);
  });

  it(`stops with exit ${DAEMON_EXIT_CODES.versionRefused} at once, reconnecting no more, when the control plane refuses its version`, async () => {
    start();
    await ready();
    const jobId = await dispatch();
    gateway.script.versionRefusedAtHello = { versionStatus: 'too-old', supportedVersions: '>=1.1.0 <2.0.0', upgradeTo: '1.2.0' };
    gateway.current.finish(); // a control plane restarted with a raised minimum
    for (let step = 0; step < 100 && exit === undefined; step += 1) await clock.advance(1_000);
    expect(exit?.exitCode).toBe(DAEMON_EXIT_CODES.versionRefused);
    expect(exit?.failure).toBe("the control plane refused this worker's version 1.0.0 as too old: it supports >=1.1.0 <2.0.0. Upgrade the worker to 1.2.0, then start it again.");
    expect(gateway.streams).toHaveLength(2);
    expect(daemon.lifecycle.state).toBe('FAILED');
    expect(outbox.results.get(`${jobId}-1`)?.failureCode).toBe(FailureCode.WORKER_SHUTDOWN);
    expect(log.events('worker-version-refused')).toEqual([expect.objectContaining({ level: 'error', version: '1.0.0', supportedVersions: '>=1.1.0 <2.0.0', upgradeTo: '1.2.0' })]);
    await clock.advance(60_000);
    expect(gateway.streams).toHaveLength(2);
  });

  it('sends an unexpected throw down the fatal path: logged, the running job aborted and kept in the outbox, exit 1', async () => {
    start();
    await ready();
    const finished = await dispatch();
    const running = await dispatch();
    outbox.removeThrows = new TypeError("Cannot read properties of undefined (reading 'x')");
    runner.job(finished).finish(); // its ResultAck reaches the throwing outbox
    await settle();
    expect(daemon.lifecycle.state).toBe('FAILED');
    expect(exit?.exitCode).toBe(DAEMON_EXIT_CODES.failed);
    expect(exit?.failure).toMatch(/TypeError: Cannot read properties of undefined/);
    expect(outbox.results.get(`${running}-1`)?.failureCode).toBe(FailureCode.WORKER_SHUTDOWN);
    expect(log.events('fatal')).toHaveLength(1);
    expect(daemon.health().state).toBe('FAILED');
  });

  it('runs the delivery watcher on its stream until it stops, and tells it of every Welcome', async () => {
    const outcome = { deliveryJobId: randomUUID(), state: 'MERGE_REQUEST_STATE_OPEN', humanCommits: 0, reverted: false, firstReviewAfterS: 0, reviewRounds: 0, mergedAfterS: 0, final: false, metadataLevel: 'METADATA_LEVEL_MINIMAL' } as const;
    let stopped: AbortSignal | undefined;
    let channel: OutcomeChannel | undefined;
    let welcomes = 0;
    start(2, {
      run: (on, signal) => {
        [channel, stopped] = [on, signal];
        return Promise.resolve();
      },
      // As the watcher does after a Welcome: send what may not have arrived.
      welcomed: () => {
        welcomes += 1;
        channel?.send({ frame: 'deliveryOutcome', deliveryOutcome: outcome });
      },
    });
    await ready();
    expect(welcomes).toBe(1);
    expect(gateway.sent('deliveryOutcome')).toEqual([outcome]);

    gateway.current.finish();
    await clock.advance(125);
    expect(welcomes).toBe(2);
    expect(gateway.sent('deliveryOutcome')).toEqual([outcome, outcome]);
    expect(stopped?.aborted).toBe(false);

    daemon.requestShutdown('SIGTERM');
    await settle();
    expect(stopped?.aborted).toBe(true);
  });

  it('publishes on /healthz when it was last welcomed and when a heartbeat last left', async () => {
    start();
    await ready();
    const welcomedAt = new Date(clock.now()).toISOString();
    expect(daemon.health()).toMatchObject({ lastConnectedAt: welcomedAt, lastHeartbeatAt: null });
    const head = gate.auditHead;
    await clock.advance(1_000);
    expect(daemon.health().lastHeartbeatAt).toBe(new Date(clock.now()).toISOString());
    expect(gateway.sent('heartbeat')).toEqual([{ seq: 1, running: [], freeSlots: 2, ledgerSeq: head.seq, ledgerHead: Buffer.from(head.hash, 'hex') }]);
  });

  it('delivers only under a lease a renewal shows: a paused worker asks for one, and gives up LEASE_UNCONFIRMED without it', async () => {
    start();
    await ready();
    const jobId = await dispatch();
    gateway.script.renewLeases = false; // the control plane fenced the attempt while the worker was paused
    await clock.advance(20_000);
    const beats = gateway.sent('heartbeat').length;
    const guard = runner.job(jobId).confirmLease(new AbortController().signal);
    const failed = expect(guard).rejects.toMatchObject({ failureCode: FailureCode.LEASE_UNCONFIRMED });
    expect(gateway.sent('heartbeat')).toHaveLength(beats + 1); // asked at once
    await clock.advance(10_000);
    await failed;
  });
});
