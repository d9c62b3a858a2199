import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { RequestError, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { ControlFrame } from '@airlock/protocol';
import { startNatsServer, type NatsServer } from '@airlock/testing';
import type { JobDispatcher } from '../dispatch/job-dispatcher';
import { WorkerSessionRegistry, type WorkerSessionHandle } from '../dispatch/worker-session.registry';
import type { PolicyDistributor } from '../policies/policy-distributor';
import type { FleetCommands } from './fleet-commands';
import { InProcessFleetCommands } from './in-process-fleet-commands';
import { fleetPolicySubject, fleetWorkerSubject, FLEET_COMMAND_TIMEOUT_MS, NatsFleetCommands } from './nats-fleet-commands';

jest.setTimeout(30_000);

/**
 * One contract for every FleetCommands: run against the single-process adapter (one replica
 * sends and holds) and the NATS adapter (replica A sends, replica B holds the worker's
 * stream; two connections to one real nats-server).
 */

/** Well under FLEET_COMMAND_TIMEOUT_MS: what "at once" means for a command no replica can take. */
const AT_ONCE_MS = 300;

let nats: NatsServer;
const connections: NatsConnection[] = [];

beforeAll(async () => {
  // Refused messages are logged; the assertions are on what they did.
  Logger.overrideLogger(false);
  nats = await startNatsServer();
});

afterAll(async () => {
  await Promise.all(connections.map((connection) => connection.close()));
  await nats?.stop();
});

/** One control-plane replica as fleet commands see it: the streams it holds and what its dispatcher and policy distributor were asked. */
interface Replica {
  readonly commands: FleetCommands;
  readonly registry: WorkerSessionRegistry;
  /** Tenants whose bundle this replica's distributor pushed, in order. */
  readonly pushedTenants: string[];
  /** What this replica's distributor answers a push with: how many bundles it "sent". */
  readonly bundlesSentPerPush: number;
  /** How often this replica's dispatcher was told a stream gained capacity. */
  capacityWakeUps(): number;
  stop(): Promise<void>;
}

interface Fleet {
  /** Where REST calls and sweeps send commands from. */
  readonly sender: Replica;
  /** Where the workers' streams are held. */
  readonly holder: Replica;
  /** Resolves once every subscription made so far is in effect at the server. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/** A worker's open stream as a fake: records frames; a revoke finishes only when the test lets it. */
interface FakeStream extends WorkerSessionHandle {
  readonly sent: ControlFrame[];
  revokeCalls: number;
  finishRevoke(): void;
}

function fakeStream(tenantId: string, workerId: string = randomUUID()): FakeStream {
  let finish: () => void = () => undefined;
  const revoked = new Promise<void>((resolve) => (finish = resolve));
  const stream: FakeStream = {
    workerId,
    tenantId,
    credits: 1,
    labels: [],
    pool: null,
    draining: false,
    policyRevision: 0,
    sent: [],
    revokeCalls: 0,
    send: (frame) => stream.sent.push(frame) > 0,
    close: () => undefined,
    revoke: () => {
      stream.revokeCalls += 1;
      return revoked;
    },
    finishRevoke: () => finish(),
  };
  return stream;
}

function replicaParts(bundlesSentPerPush: number) {
  const registry = new WorkerSessionRegistry();
  const pushedTenants: string[] = [];
  let wakeUps = 0;
  const distributor = {
    pushCurrent: async (tenantId: string) => {
      pushedTenants.push(tenantId);
      return bundlesSentPerPush;
    },
  } as unknown as PolicyDistributor;
  const dispatcher = { capacityAvailable: () => (wakeUps += 1) } as unknown as JobDispatcher;
  return { registry, pushedTenants, bundlesSentPerPush, distributor, dispatcher, capacityWakeUps: () => wakeUps };
}

function inProcessFleet(): Fleet {
  const parts = replicaParts(3);
  const replica: Replica = { ...parts, commands: new InProcessFleetCommands(parts.registry, parts.dispatcher, parts.distributor), stop: async () => undefined };
  return { sender: replica, holder: replica, settled: async () => undefined, stop: async () => undefined };
}

async function natsReplica(bundlesSentPerPush: number): Promise<Replica & { readonly connection: NatsConnection }> {
  const connection = await connect({ servers: nats.url });
  connections.push(connection);
  const parts = replicaParts(bundlesSentPerPush);
  const commands = new NatsFleetCommands(connection, randomUUID(), parts.registry, parts.dispatcher, parts.distributor);
  commands.onModuleInit();
  return { ...parts, commands, connection, stop: () => commands.onModuleDestroy() };
}

async function natsFleet(): Promise<Fleet> {
  const [sender, holder] = await Promise.all([natsReplica(3), natsReplica(5)]);
  return {
    sender,
    holder,
    settled: async () => {
      await Promise.all([sender.connection.flush(), holder.connection.flush()]);
    },
    stop: async () => {
      await Promise.all([sender.stop(), holder.stop()]);
    },
  };
}

/** Resolves once `check` holds, polling; fails after `withinMs`. */
async function eventually(check: () => boolean, withinMs = 1_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function timed<T>(work: Promise<T>): Promise<{ value: T; elapsedMs: number }> {
  const started = Date.now();
  const value = await work;
  return { value, elapsedMs: Date.now() - started };
}

describe.each([
  ['InProcessFleetCommands', async () => inProcessFleet()],
  ['NatsFleetCommands', natsFleet],
])('%s', (_name, startFleet: () => Promise<Fleet>) => {
  let fleet: Fleet;
  const tenantId = randomUUID();

  beforeEach(async () => {
    fleet = await startFleet();
  });

  afterEach(async () => {
    await fleet.stop();
  });

  async function held(): Promise<FakeStream> {
    const stream = fakeStream(tenantId);
    fleet.holder.registry.register(stream);
    await fleet.settled();
    return stream;
  }

  it('sends a cancel to the stream where the worker is held, within a second, and resolves true', async () => {
    const stream = await held();
    const jobId = randomUUID();

    const { value, elapsedMs } = await timed(fleet.sender.commands.cancelAttempt(stream.workerId, { jobId, attempt: 2 }));

    expect(value).toBe(true);
    expect(elapsedMs).toBeLessThan(1_000);
    expect(stream.sent).toEqual([{ cancel: { attempt: { jobId, attempt: 2 } } }]);
  });

  it('resolves every command for a worker no replica holds false, at once', async () => {
    await held();
    const nobodys = randomUUID();
    const outcomes = await Promise.all([
      timed(fleet.sender.commands.cancelAttempt(nobodys, { jobId: randomUUID(), attempt: 1 })),
      timed(fleet.sender.commands.setDraining(nobodys, true)),
      timed(fleet.sender.commands.revoke(nobodys)),
    ]);

    for (const { value, elapsedMs } of outcomes) {
      expect(value).toBe(false);
      expect(elapsedMs).toBeLessThan(AT_ONCE_MS);
    }
  });

  it('drains the held stream, and an undrain wakes the dispatcher of the replica holding it', async () => {
    const stream = await held();

    expect(await fleet.sender.commands.setDraining(stream.workerId, true)).toBe(true);
    expect(stream.draining).toBe(true);
    expect(fleet.holder.capacityWakeUps()).toBe(0);

    expect(await fleet.sender.commands.setDraining(stream.workerId, false)).toBe(true);
    expect(stream.draining).toBe(false);
    expect(fleet.holder.capacityWakeUps()).toBe(1);
  });

  it('resolves a revoke only once the held stream finished revoking', async () => {
    const stream = await held();
    let resolved = false;

    const revoking = fleet.sender.commands.revoke(stream.workerId).then((value) => {
      resolved = true;
      return value;
    });
    await eventually(() => stream.revokeCalls === 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(resolved).toBe(false);

    stream.finishRevoke();
    expect(await revoking).toBe(true);
  });

  it('resolves commands false once the holder no longer holds the worker', async () => {
    const stream = await held();
    fleet.holder.registry.unregister(stream);
    await fleet.settled();

    const { value, elapsedMs } = await timed(fleet.sender.commands.cancelAttempt(stream.workerId, { jobId: randomUUID(), attempt: 1 }));

    expect(value).toBe(false);
    expect(elapsedMs).toBeLessThan(AT_ONCE_MS);
    expect(await fleet.sender.commands.setDraining(stream.workerId, true)).toBe(false);
    expect(stream.sent).toEqual([]);
    expect(stream.draining).toBe(false);
  });

  it("has the holder push the tenant's bundle, and resolves with how many the sender sent", async () => {
    await held();

    expect(await fleet.sender.commands.pushPolicy(tenantId)).toBe(fleet.sender.bundlesSentPerPush);

    await eventually(() => fleet.holder.pushedTenants.length > 0);
    await fleet.settled();
    expect(fleet.holder.pushedTenants).toEqual([tenantId]);
    // The sender pushed to its own streams once: its own announcement did not make it push again.
    expect(fleet.sender.pushedTenants).toEqual([tenantId]);
  });
});

describe('NatsFleetCommands on the wire', () => {
  let fleet: Fleet;
  let raw: NatsConnection;
  const tenantId = randomUUID();

  beforeAll(async () => {
    raw = await connect({ servers: nats.url });
    connections.push(raw);
  });

  beforeEach(async () => {
    fleet = await natsFleet();
  });

  afterEach(async () => {
    await fleet.stop();
  });

  it('reaches a stream that moved to another replica where it is now', async () => {
    const before = fakeStream(tenantId);
    fleet.holder.registry.register(before);
    await fleet.settled();
    const after = fakeStream(tenantId, before.workerId);
    fleet.sender.registry.register(after);
    fleet.holder.registry.unregister(before);
    await fleet.settled();

    expect(await fleet.holder.commands.cancelAttempt(before.workerId, { jobId: randomUUID(), attempt: 1 })).toBe(true);
    expect(before.sent).toEqual([]);
    expect(after.sent).toHaveLength(1);
  });

  it("listens on a worker's subject exactly while it holds the worker's stream", async () => {
    const stream = fakeStream(tenantId);
    const drain = () =>
      raw.request(fleetWorkerSubject(stream.workerId), '{"command":"drain"}', { timeout: FLEET_COMMAND_TIMEOUT_MS }).then(
        (reply) => reply.json<unknown>(),
        (error: unknown) => (error instanceof RequestError && error.isNoResponders() ? 'no responders' : error),
      );

    expect(await drain()).toBe('no responders');
    fleet.holder.registry.register(stream);
    await fleet.settled();
    expect(await drain()).toEqual({ held: true });
    fleet.holder.registry.unregister(stream);
    await fleet.settled();
    expect(await drain()).toBe('no responders');
  });

  it('subscribes for streams the registry held before the replica started', async () => {
    const registry = new WorkerSessionRegistry();
    const stream = fakeStream(tenantId);
    registry.register(stream);
    const connection = await connect({ servers: nats.url });
    connections.push(connection);
    const late = new NatsFleetCommands(connection, randomUUID(), registry, { capacityAvailable: () => undefined } as unknown as JobDispatcher, {} as PolicyDistributor);
    late.onModuleInit();
    await connection.flush();

    expect(await fleet.sender.commands.setDraining(stream.workerId, true)).toBe(true);
    expect(stream.draining).toBe(true);
    await late.onModuleDestroy();
  });

  it('refuses malformed requests on a worker subject, and they change nothing', async () => {
    const stream = fakeStream(tenantId);
    fleet.holder.registry.register(stream);
    await fleet.settled();
    const jobId = randomUUID();
    const malformed = [
      'not json',
      '[]',
      'null',
      '{}',
      '{"command":"explode"}',
      '{"command":"revoke","workerId":"elsewhere"}',
      `{"command":"cancel","jobId":"${jobId}"}`,
      `{"command":"cancel","jobId":"${jobId}","attempt":0}`,
      `{"command":"cancel","jobId":"${jobId}","attempt":1.5}`,
      `{"command":"cancel","jobId":"${jobId}","attempt":"2"}`,
      `{"command":"cancel","jobId":"${jobId}","attempt":2147483648}`,
      '{"command":"cancel","jobId":"../../etc","attempt":1}',
      JSON.stringify({ command: 'revoke', padding: 'x'.repeat(1_000) }),
      Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
    ];

    for (const body of malformed) {
      const reply = await raw.request(fleetWorkerSubject(stream.workerId), body, { timeout: FLEET_COMMAND_TIMEOUT_MS });
      expect(reply.json()).toEqual({ error: 'invalid_command' });
    }
    // Without a reply subject there is nobody to answer; it is dropped all the same.
    raw.publish(fleetWorkerSubject(stream.workerId), '{"command":"revoke","jobId":1}');
    raw.publish(fleetWorkerSubject(stream.workerId), 'garbage');
    await raw.flush();
    await fleet.settled();

    expect(stream.sent).toEqual([]);
    expect(stream.draining).toBe(false);
    expect(stream.revokeCalls).toBe(0);
    // The holder still serves well-formed commands.
    expect(await fleet.sender.commands.cancelAttempt(stream.workerId, { jobId, attempt: 1 })).toBe(true);
    expect(stream.sent).toEqual([{ cancel: { attempt: { jobId, attempt: 1 } } }]);
  });

  it('sends nothing for a command with invalid ids or attempt, and resolves it false', async () => {
    const stream = fakeStream(tenantId);
    fleet.holder.registry.register(stream);
    await fleet.settled();

    expect(await fleet.sender.commands.cancelAttempt('worker-1', { jobId: randomUUID(), attempt: 1 })).toBe(false);
    expect(await fleet.sender.commands.cancelAttempt(stream.workerId, { jobId: 'job-1', attempt: 1 })).toBe(false);
    expect(await fleet.sender.commands.cancelAttempt(stream.workerId, { jobId: randomUUID(), attempt: 0 })).toBe(false);
    expect(stream.sent).toEqual([]);
  });

  it('ignores malformed policy announcements, and pushes on the next valid one', async () => {
    await fleet.settled();
    const subject = fleetPolicySubject(tenantId);
    raw.publish('airlock.fleet.tenant.not-a-tenant.policy', JSON.stringify({ origin: randomUUID() }));
    raw.publish(subject, 'garbage');
    raw.publish(subject, '{}');
    raw.publish(subject, JSON.stringify({ origin: 'replica-a' }));
    raw.publish(subject, JSON.stringify({ origin: randomUUID(), padding: 'x'.repeat(1_000) }));
    raw.publish(subject, JSON.stringify({ origin: randomUUID() }));
    await raw.flush();

    await eventually(() => fleet.holder.pushedTenants.length > 0);
    await fleet.settled();
    expect(fleet.holder.pushedTenants).toEqual([tenantId]);
  });

  it('resolves false once the timeout passed when the subscriber of a worker subject never answers', async () => {
    const silentWorkerId = randomUUID();
    const silent = raw.subscribe(fleetWorkerSubject(silentWorkerId));
    await raw.flush();

    const { value, elapsedMs } = await timed(fleet.sender.commands.revoke(silentWorkerId));

    expect(value).toBe(false);
    expect(elapsedMs).toBeGreaterThanOrEqual(FLEET_COMMAND_TIMEOUT_MS - 50);
    expect(elapsedMs).toBeLessThan(FLEET_COMMAND_TIMEOUT_MS + 500);
    silent.unsubscribe();
  });

  it('stops answering for its workers once stopped', async () => {
    const stream = fakeStream(tenantId);
    fleet.holder.registry.register(stream);
    await fleet.settled();
    await fleet.holder.stop();
    await fleet.settled();

    const { value, elapsedMs } = await timed(fleet.sender.commands.cancelAttempt(stream.workerId, { jobId: randomUUID(), attempt: 1 }));

    expect(value).toBe(false);
    expect(elapsedMs).toBeLessThan(AT_ONCE_MS);
    expect(stream.sent).toEqual([]);
  });
});
