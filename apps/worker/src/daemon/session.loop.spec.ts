import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { generateSigningKeyPair } from '@airlock/envelope';
import type { ControlFrame__Output } from '@airlock/protocol';
import { CapturedLog } from './captured-log.mock';
import { FakeGateway, FakeOutboundGate } from './fake-gateway.mock';
import { LeaseTracker } from './lease.tracker';
import { ManualClock, settle } from './manual-clock.mock';
import { IDENTITY_REFUSAL_LIMIT, MIN_HEARTBEAT_INTERVAL_MS, SessionLoop, heartbeatIntervalFor } from './session.loop';
import { WorkerIdentityRefusedError } from './worker-identity-refused.error';
import { WorkerVersionRefusedError } from './worker-version-refused.error';

describe('SessionLoop', () => {
  const key = generateSigningKeyPair();
  const identity = { workerId: randomUUID(), privateKeyPem: key.privateKeyPem };
  let clock: ManualClock;
  let gateway: FakeGateway;
  let gate: FakeOutboundGate;
  let log: CapturedLog;
  let calls: string[];
  let fatal: unknown[];
  let frameThrows: Error | undefined;
  let running: Array<{ jobId: string; attempt: number }>;
  let loop: SessionLoop;
  let done: Promise<void>;
  let policyRevision: number;

  const build = (random = () => 0.5) => {
    loop = new SessionLoop(
      { connect: gateway.connect, gate, identity, frameVerifier: gateway.frameVerifier, version: '1.2.3', capacity: 2, policyDigest: Buffer.alloc(32, 7), labels: ['gpu', 'eu-west'], policyRevision: () => policyRevision, leases: new LeaseTracker(() => clock.monotonicNow(), (ms, callback) => clock.after(ms, callback)), clock, logger: log.logger, random },
      {
        running: () => running,
        freeSlots: () => 2 - running.length,
        streamEnded: () => calls.push('streamEnded'),
        welcomed: () => calls.push('welcomed'),
        heartbeatSent: () => calls.push('heartbeatSent'),
        frame: (frame: ControlFrame__Output) => {
          if (frameThrows) throw frameThrows;
          calls.push(`frame:${frame.frame}`);
        },
        malformedInstruction: () => calls.push('malformed'),
        malformedPolicyBundle: () => calls.push('malformed-bundle'),
        fatal: (error) => fatal.push(error),
      },
    );
    done = loop.run();
  };
  const connects = () => gateway.streams.length;
  const events = (name: string) => log.events(name);

  beforeEach(() => {
    clock = new ManualClock();
    gateway = new FakeGateway(key.publicKey, identity.workerId);
    gate = new FakeOutboundGate();
    log = new CapturedLog(() => clock.now());
    calls = [];
    fatal = [];
    frameThrows = undefined;
    running = [];
    policyRevision = 0;
  });

  afterEach(async () => {
    loop.stop();
    await clock.advance(60_000);
    await done;
  });

  it('answers the challenge with a signed Hello listing what runs here, and is welcomed', async () => {
    running = [{ jobId: randomUUID(), attempt: 2 }];
    build();
    await settle();
    expect(gateway.helloVerdicts).toEqual([true]);
    expect(gateway.sent('hello')[0]).toMatchObject({ workerId: identity.workerId, workerVersion: '1.2.3', capacity: 2, running });
    expect(loop.connected).toBe(true);
    expect(loop.leaseTtlMs).toBe(10_000);
    expect(loop.lastConnectedAt).toBe(clock.now());
    expect(calls).toEqual(['welcomed', 'frame:leaseRenewal']);
  });

  it("names the worker's pools and the policy revision in force at each Hello", async () => {
    policyRevision = 3;
    build();
    await settle();
    expect(gateway.sent('hello')[0]).toMatchObject({ labels: ['gpu', 'eu-west'], policyRevision: 3 });
    policyRevision = 4;
    gateway.current.finish();
    await settle();
    await clock.advance(125);
    await settle();
    expect(gateway.sent('hello').map((hello) => hello.policyRevision)).toEqual([3, 4]);
  });

  it('heartbeats at the Welcome interval with ±10 % jitter, numbered from 1, and publishes when the last one left', async () => {
    let random = 0.5; // no spread: exactly the interval
    build(() => random);
    await settle();
    expect(loop.lastHeartbeatAt).toBeUndefined();
    await clock.advance(999);
    expect(gateway.sent('heartbeat')).toHaveLength(0);
    random = 0; // the next one at the shortest spread: 900 ms
    // It carries the egress log's head as it was before the heartbeat's own line: the Hello's.
    const head = gate.auditHead;
    expect(head.seq).toBeGreaterThan(0);
    await clock.advance(1);
    expect(gateway.sent('heartbeat')).toEqual([{ seq: 1, running: [], freeSlots: 2, ledgerSeq: head.seq, ledgerHead: Buffer.from(head.hash, 'hex') }]);
    expect(loop.lastHeartbeatAt).toBe(clock.now());
    await clock.advance(899);
    expect(gateway.sent('heartbeat')).toHaveLength(1);
    random = 1; // the next one at the longest: 1100 ms
    await clock.advance(1);
    expect(gateway.sent('heartbeat').map((beat) => beat.seq)).toEqual([1, 2]);
    // The second reports a log one line longer at least: the first heartbeat's own line.
    expect(gateway.sent('heartbeat')[1]!.ledgerSeq).toBeGreaterThan(head.seq);
    await clock.advance(1_099);
    expect(gateway.sent('heartbeat')).toHaveLength(2);
    await clock.advance(1);
    expect(gateway.sent('heartbeat').map((beat) => beat.seq)).toEqual([1, 2, 3]);
    expect(calls.filter((call) => call === 'heartbeatSent')).toHaveLength(3);
  });

  it.each([
    [100, 10_000, MIN_HEARTBEAT_INTERVAL_MS],
    [60_000, 10_000, 5_000],
    [2_000, 10_000, 2_000],
    [2_000, 600, MIN_HEARTBEAT_INTERVAL_MS],
  ])('clamps a requested interval of %i ms with a %i ms lease to %i ms', (requested, lease, expected) => {
    expect(heartbeatIntervalFor(requested, lease)).toBe(expected);
  });

  it('heartbeats at the clamped interval, not the one the Welcome asks for', async () => {
    gateway.script.welcome = { heartbeatIntervalMs: 100, leaseTtlMs: 10_000 };
    build();
    await settle();
    await clock.advance(3_000);
    expect(gateway.sent('heartbeat')).toHaveLength(6);
    expect(events('welcomed')[0]).toMatchObject({ heartbeatIntervalMs: 500, requestedHeartbeatMs: 100 });
  });

  it('reconnects with exponential backoff and full jitter, resetting it after a session that was welcomed', async () => {
    build(() => 0.5);
    await settle();
    gateway.current.finish(); // welcomed, then lost
    await settle();
    expect(calls).toContain('streamEnded');
    expect(loop.connected).toBe(false);
    expect(events('disconnected').map((fields) => fields['reconnectInMs'])).toEqual([125]);
    await clock.advance(125);
    expect(connects()).toBe(2);
    gateway.script.refuseHelloWith = status.UNAVAILABLE;
    gateway.current.finish();
    await settle();
    await clock.advance(125);
    await settle(); // refused at the Hello: not welcomed, so the backoff grows
    await clock.advance(250);
    await settle();
    await clock.advance(500);
    expect(events('disconnected').map((fields) => fields['reconnectInMs'])).toEqual([125, 125, 250, 500, 1_000]);
    expect(connects()).toBe(5);
  });

  it('does not reset the backoff after a session it hung up for exceeding the refusal budget', async () => {
    build(() => 0.5);
    await settle();
    gateway.current.finish();
    await settle();
    await clock.advance(125);
    loop.throttle('refusal-budget-exceeded'); // welcomed, but throttled
    expect(loop.throttled).toBe(true);
    await settle();
    expect(gateway.streams[1]?.endedByWorker).toBe(true);
    expect(events('disconnected').map((fields) => fields['reconnectInMs'])).toEqual([125, 250]);
    await clock.advance(250);
    expect(connects()).toBe(3);
    expect(loop.throttled).toBe(false);
  });

  it('hangs up when the egress audit log refuses a frame, and reconnects once it takes writes again', async () => {
    build(() => 0.5);
    await settle();
    gate.auditFails = true;
    expect(loop.send({ frame: 'credit', credit: { credits: 1 } })).toBe(false);
    expect(loop.connected).toBe(false);
    expect(events('egress-audit-unavailable')).toEqual([expect.objectContaining({ level: 'error', frame: 'credit' })]);
    await settle();
    expect(gateway.current.endedByWorker).toBe(true);
    gate.auditFails = false;
    await clock.advance(125);
    expect(connects()).toBe(2);
    expect(loop.connected).toBe(true);
  });

  it('sends a heartbeat at once when asked, only while welcomed', async () => {
    build();
    await settle();
    loop.heartbeatNow();
    expect(gateway.sent('heartbeat').map((beat) => beat.seq)).toEqual([1]);
    gateway.current.finish();
    await settle();
    loop.heartbeatNow();
    expect(gateway.sent('heartbeat')).toHaveLength(1);
  });

  it(`stops after ${IDENTITY_REFUSAL_LIMIT} consecutive refusals of its identity, naming what to do`, async () => {
    gateway.script.refuseHelloWith = status.UNAUTHENTICATED;
    build(() => 0.5);
    const outcome = done.then(
      () => undefined,
      (error: unknown) => error,
    );
    for (let i = 0; i < IDENTITY_REFUSAL_LIMIT; i += 1) await clock.advance(15_000);
    const error = await outcome;
    expect(error).toBeInstanceOf(WorkerIdentityRefusedError);
    expect((error as WorkerIdentityRefusedError).message).toMatch(/UNAUTHENTICATED.*10 consecutive connections.*enroll .*--force/);
    expect(connects()).toBe(IDENTITY_REFUSAL_LIMIT);
    expect(events('identity-refused').map((fields) => fields['consecutive'])).toEqual(Array.from({ length: IDENTITY_REFUSAL_LIMIT }, (_, i) => i + 1));
    done = Promise.resolve();
  });

  it('stops at once, without reconnecting, when the control plane ends its stream saying it was revoked', async () => {
    build();
    await settle();
    expect(loop.connected).toBe(true);
    const outcome = done.then(
      () => undefined,
      (error: unknown) => error,
    );
    gateway.current.revoke();
    await clock.advance(60_000);
    const error = await outcome;
    expect(error).toBeInstanceOf(WorkerIdentityRefusedError);
    expect(error).toMatchObject({ revoked: true, grpcStatus: status.PERMISSION_DENIED });
    expect((error as WorkerIdentityRefusedError).message).toMatch(new RegExp(`revoked this worker \\(PERMISSION_DENIED\\).*${identity.workerId}.*enroll it anew.*--force`));
    expect(connects()).toBe(1);
    expect(events('worker-revoked')).toEqual([expect.objectContaining({ workerId: identity.workerId, status: status.PERMISSION_DENIED })]);
    done = Promise.resolve();
  });

  it('waits at least the retry-after a busy control plane asks for, spread by jitter, and keeps backing off while it is refused', async () => {
    gateway.script.busyRetryAfterMs = 2_000;
    build(() => 0.5);
    await settle();
    // The hint 2,000 ms plus half of its 20 % spread; the backoff's own 125 ms is shorter.
    expect(events('disconnected')).toEqual([expect.objectContaining({ reason: `status ${status.RESOURCE_EXHAUSTED}`, retryAfterMs: 2_000, reconnectInMs: 2_200 })]);
    gateway.script.busyRetryAfterMs = 100;
    await clock.advance(2_199);
    expect(connects()).toBe(1);
    await clock.advance(1);
    expect(connects()).toBe(2);
    await settle();
    // A hint shorter than the backoff (a 500 ms ceiling now, 250 ms at 0.5) waits the backoff.
    expect(events('disconnected').map((fields) => fields['reconnectInMs'])).toEqual([2_200, 250]);
    gateway.script.busyRetryAfterMs = undefined;
    await clock.advance(250);
    await settle();
    expect(loop.connected).toBe(true);
    expect(gateway.sent('hello')).toHaveLength(1);
    expect(events('identity-refused')).toEqual([]);
  });

  it('stops at its first Hello that the control plane refuses as revoked', async () => {
    gateway.script.revokedAtHello = true;
    build();
    const error = await done.then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toMatchObject({ name: 'WorkerIdentityRefusedError', revoked: true });
    expect(connects()).toBe(1);
    done = Promise.resolve();
  });

  const tooOld = { versionStatus: 'too-old', supportedVersions: '>=1.3.0 <2.0.0', upgradeTo: '1.4.0' } as const;

  it('stops at its first Hello refused for its version, logging its version, the versions supported and the one to upgrade to', async () => {
    gateway.script.versionRefusedAtHello = tooOld;
    build();
    const error = await done.then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(WorkerVersionRefusedError);
    expect((error as WorkerVersionRefusedError).message).toBe(
      "the control plane refused this worker's version 1.2.3 as too old: it supports >=1.3.0 <2.0.0. Upgrade the worker to 1.4.0, then start it again.",
    );
    expect(events('worker-version-refused')).toEqual([
      expect.objectContaining({ status: status.FAILED_PRECONDITION, version: '1.2.3', versionStatus: 'too-old', supportedVersions: '>=1.3.0 <2.0.0', upgradeTo: '1.4.0' }),
    ]);
    await clock.advance(60_000);
    expect(connects()).toBe(1);
    expect(events('identity-refused')).toEqual([]);
    done = Promise.resolve();
  });

  it('stops at once when its stream is ended refusing its version (its support ended), and names a control plane too old for it', async () => {
    build();
    await settle();
    expect(loop.connected).toBe(true);
    const outcome = done.then(
      () => undefined,
      (failure: unknown) => failure,
    );
    gateway.current.refuseVersion({ versionStatus: 'too-new', supportedVersions: '>=0.1.0 <1.0.0', upgradeTo: '0.9.0' });
    await clock.advance(60_000);
    expect(((await outcome) as WorkerVersionRefusedError).message).toBe(
      "the control plane refused this worker's version 1.2.3 as newer than it supports (>=0.1.0 <1.0.0). Install worker 0.9.0 on this host, or upgrade the control plane first, then start the worker again.",
    );
    expect(connects()).toBe(1);
    done = Promise.resolve();
  });

  it('takes FAILED_PRECONDITION without the version refusal for a failure that may pass, and reconnects', async () => {
    build();
    await settle();
    gateway.current.fail(status.FAILED_PRECONDITION);
    await clock.advance(15_000);
    expect(connects()).toBe(2);
    expect(loop.connected).toBe(true);
    expect(events('worker-version-refused')).toEqual([]);
  });

  it('warns once on each Welcome that deprecates its version, with the end of support and the version to upgrade to', async () => {
    const endOfSupport = Date.parse('2026-07-01T00:00:00Z');
    gateway.script.welcome = { ...gateway.script.welcome, versionNotice: { status: 'VERSION_STATUS_DEPRECATED', recommendedVersion: '1.4.0', endOfSupportAtS: endOfSupport / 1000 } };
    build();
    await settle();
    expect(loop.connected).toBe(true);
    await clock.advance(5_000);
    expect(events('worker-version-deprecated')).toEqual([
      expect.objectContaining({
        level: 'warn',
        version: '1.2.3',
        endOfSupport: '2026-07-01T00:00:00.000Z',
        recommendedVersion: '1.4.0',
        action: 'upgrade this worker to 1.4.0 before 2026-07-01T00:00:00.000Z: from then on the control plane refuses version 1.2.3',
      }),
    ]);
    gateway.current.finish();
    await settle();
    await clock.advance(125);
    await settle();
    expect(connects()).toBe(2);
    expect(events('worker-version-deprecated')).toHaveLength(2);
  });

  it('says nothing of its version on a Welcome without a notice, or with a status it does not know', async () => {
    build();
    await settle();
    gateway.script.welcome = { ...gateway.script.welcome, versionNotice: { status: 9 as unknown as 'VERSION_STATUS_DEPRECATED', recommendedVersion: '', endOfSupportAtS: 0 } };
    gateway.current.finish();
    await settle();
    await clock.advance(125);
    await settle();
    expect(connects()).toBe(2);
    expect(loop.connected).toBe(true);
    expect(events('worker-version-deprecated')).toEqual([]);
  });

  it('takes PERMISSION_DENIED without the revocation trailer for a refusal that may pass, and reconnects', async () => {
    build();
    await settle();
    gateway.current.fail(status.PERMISSION_DENIED);
    await clock.advance(15_000);
    expect(connects()).toBe(2);
    expect(loop.connected).toBe(true);
    expect(events('worker-revoked')).toEqual([]);
  });

  it('keeps reconnecting while refusals are interrupted: by a Welcome, or by another failure', async () => {
    const refusals = () => events('identity-refused').length;
    const advanceUntil = async (done: () => boolean) => {
      for (let step = 0; step < 10_000 && !done(); step += 1) await clock.advance(100);
    };
    let rejected = false;
    gateway.script.refuseHelloWith = status.PERMISSION_DENIED;
    build(() => 0.5);
    done.catch(() => (rejected = true));
    await advanceUntil(() => refusals() === IDENTITY_REFUSAL_LIMIT - 1);
    gateway.script.refuseHelloWith = undefined; // the control plane knows the worker again
    await advanceUntil(() => loop.connected);
    gateway.script.refuseHelloWith = status.PERMISSION_DENIED;
    gateway.current.finish();
    await advanceUntil(() => refusals() === 2 * (IDENTITY_REFUSAL_LIMIT - 1));
    gateway.script.refuseHelloWith = status.UNAVAILABLE; // a control plane restarting, say
    const streams = connects();
    await advanceUntil(() => connects() === streams + 1 && gateway.current.isClosed);
    gateway.script.refuseHelloWith = status.PERMISSION_DENIED;
    await advanceUntil(() => refusals() === 3 * (IDENTITY_REFUSAL_LIMIT - 1));
    expect(Math.max(...events('identity-refused').map((fields) => Number(fields['consecutive'])))).toBe(IDENTITY_REFUSAL_LIMIT - 1);
    expect(rejected).toBe(false);
    expect(fatal).toEqual([]);
  });

  it('hands a throw from a frame handler to the fatal path, and drops the session', async () => {
    build();
    await settle();
    const boom = new Error('boom');
    frameThrows = boom;
    gateway.current.send({ frame: 'drain', drain: { signature: null } });
    await settle();
    expect(fatal).toEqual([boom]);
    expect(gateway.current.cancelled).toBe(true);
  });

  it('stops: no more reconnects, the stream half-closed', async () => {
    build();
    await settle();
    loop.stop();
    await settle();
    await expect(done).resolves.toBeUndefined();
    expect(gateway.current.endedByWorker).toBe(true);
    await clock.advance(60_000);
    expect(connects()).toBe(1);
  });
});
