import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { startNatsServer, type NatsServer } from '@airlock/testing';
import type { DashboardEvent, EventBus } from './event-bus';
import { EventListenerLimitError } from './event-listener-limit.error';
import { InProcessEventBus, MAX_LISTENERS_PER_TENANT } from './in-process-event-bus';
import { eventSubject, NatsEventBus } from './nats-event-bus';

jest.setTimeout(30_000);

/**
 * One contract for every EventBus: run against the single-process bus (one replica) and the
 * NATS bus (replicas A and B, two connections to one real nats-server, A publishing).
 * Delivery over NATS is asynchronous, so each test waits for what must arrive; that nothing
 * else arrived is checked once a later event published after it did (NATS keeps one
 * publisher's order).
 */

let nats: NatsServer;
const connections: NatsConnection[] = [];

beforeAll(async () => {
  // Failing listeners and refused messages are logged; the assertions are on who hears what.
  Logger.overrideLogger(false);
  nats = await startNatsServer();
});

afterAll(async () => {
  await Promise.all(connections.map((connection) => connection.close()));
  await nats?.stop();
});

interface Replicas {
  /** Where events are published. */
  readonly publisher: EventBus;
  /** Every replica's bus, the publisher's included. */
  readonly buses: readonly EventBus[];
  /** Resolves once every subscription made so far is in effect at the server. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

function inProcessReplicas(): Replicas {
  const bus = new InProcessEventBus();
  return { publisher: bus, buses: [bus], settled: async () => undefined, stop: async () => undefined };
}

async function natsBus(): Promise<{ bus: NatsEventBus; connection: NatsConnection }> {
  const connection = await connect({ servers: nats.url });
  connections.push(connection);
  const bus = new NatsEventBus(connection);
  bus.onModuleInit();
  return { bus, connection };
}

async function natsReplicas(): Promise<Replicas> {
  const [a, b] = await Promise.all([natsBus(), natsBus()]);
  return {
    publisher: a.bus,
    buses: [a.bus, b.bus],
    settled: async () => {
      await Promise.all([a.connection.flush(), b.connection.flush()]);
    },
    stop: async () => {
      await Promise.all([a.bus.onModuleDestroy(), b.bus.onModuleDestroy()]);
    },
  };
}

const jobChanged = (tenantId: string, jobId: string = randomUUID()): DashboardEvent => ({ type: 'job.changed', tenantId, jobId, status: 'QUEUED', at: new Date().toISOString() });

/** Resolves once `check` holds, polling; fails after `withinMs`. */
async function eventually(check: () => boolean, withinMs = 1_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.each([
  ['InProcessEventBus', async () => inProcessReplicas()],
  ['NatsEventBus', natsReplicas],
])('%s', (_name, startReplicas: () => Promise<Replicas>) => {
  let replicas: Replicas;
  const tenantId = randomUUID();
  const otherTenantId = randomUUID();

  beforeEach(async () => {
    replicas = await startReplicas();
  });

  afterEach(async () => {
    await replicas.stop();
  });

  it("delivers an event to its tenant's listeners on every replica, and to no other tenant's", async () => {
    const heardByTenant = replicas.buses.map(() => [] as DashboardEvent[]);
    const heardByOtherTenant = replicas.buses.map(() => [] as DashboardEvent[]);
    replicas.buses.forEach((bus, index) => {
      bus.subscribe(tenantId, (event) => heardByTenant[index]!.push(event));
      bus.subscribe(otherTenantId, (event) => heardByOtherTenant[index]!.push(event));
    });
    await replicas.settled();
    const event = jobChanged(tenantId);
    const marker = jobChanged(otherTenantId);

    replicas.publisher.publish(event);
    replicas.publisher.publish(marker);

    await eventually(() => heardByOtherTenant.every((heard) => heard.length > 0));
    expect(heardByTenant).toEqual(replicas.buses.map(() => [event]));
    expect(heardByOtherTenant).toEqual(replicas.buses.map(() => [marker]));
  });

  it('keeps delivering to the other listeners when one throws', async () => {
    const heard = replicas.buses.map(() => [] as DashboardEvent[]);
    replicas.buses.forEach((bus, index) => {
      bus.subscribe(tenantId, () => {
        throw new Error('listener bug');
      });
      bus.subscribe(tenantId, (event) => heard[index]!.push(event));
    });
    await replicas.settled();
    const event = jobChanged(tenantId);

    expect(() => replicas.publisher.publish(event)).not.toThrow();

    await eventually(() => heard.every((events) => events.length > 0));
    expect(heard).toEqual(replicas.buses.map(() => [event]));
  });

  it('stops delivering to a listener once it unsubscribed', async () => {
    const bus = replicas.buses[replicas.buses.length - 1]!;
    const heardByLeaver: DashboardEvent[] = [];
    const heardByStayer: DashboardEvent[] = [];
    const unsubscribe = bus.subscribe(tenantId, (event) => heardByLeaver.push(event));
    bus.subscribe(tenantId, (event) => heardByStayer.push(event));
    await replicas.settled();
    const first = jobChanged(tenantId);
    const second = jobChanged(tenantId);

    replicas.publisher.publish(first);
    await eventually(() => heardByLeaver.length === 1);
    unsubscribe();
    replicas.publisher.publish(second);

    await eventually(() => heardByStayer.length === 2);
    expect(heardByLeaver).toEqual([first]);
  });

  it(`refuses a tenant's listener number ${MAX_LISTENERS_PER_TENANT + 1} on a replica, and not another tenant's`, () => {
    const bus = replicas.buses[replicas.buses.length - 1]!;
    const unsubscribers = Array.from({ length: MAX_LISTENERS_PER_TENANT }, () => bus.subscribe(tenantId, () => undefined));

    expect(() => bus.subscribe(tenantId, () => undefined)).toThrow(EventListenerLimitError);
    expect(() => bus.subscribe(otherTenantId, () => undefined)).not.toThrow();
    unsubscribers[0]!();
    expect(() => bus.subscribe(tenantId, () => undefined)).not.toThrow();
  });
});

describe('NatsEventBus on the wire', () => {
  let replicas: Replicas;
  let raw: NatsConnection;
  const tenantId = randomUUID();

  beforeAll(async () => {
    raw = await connect({ servers: nats.url });
    connections.push(raw);
  });

  beforeEach(async () => {
    replicas = await natsReplicas();
  });

  afterEach(async () => {
    await replicas.stop();
  });

  it('delivers nothing that is not exactly an event of the subject tenant, and only the fields of one', async () => {
    const heard: DashboardEvent[] = [];
    replicas.buses[1]!.subscribe(tenantId, (event) => heard.push(event));
    await replicas.settled();
    const valid = jobChanged(tenantId);
    const subject = eventSubject(tenantId);
    const invalid: (string | Uint8Array)[] = [
      'not json',
      '[]',
      JSON.stringify({ ...valid, tenantId: randomUUID() }),
      JSON.stringify({ ...valid, type: 'job.deleted' }),
      JSON.stringify({ ...valid, status: 'EXPLODED' }),
      JSON.stringify({ ...valid, status: 'toString' }),
      JSON.stringify({ ...valid, jobId: 'job-1' }),
      JSON.stringify({ ...valid, at: 'yesterday' }),
      JSON.stringify({ ...valid, at: '2026-13-45T99:99:99.999Z' }),
      JSON.stringify({ type: 'worker.changed', tenantId, workerId: randomUUID(), change: 'EXPLODED', at: valid.at }),
      JSON.stringify({ ...valid, padding: 'x'.repeat(1_000) }),
      Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
    ];
    for (const body of invalid) raw.publish(subject, body);
    raw.publish('airlock.events.not-a-tenant', JSON.stringify({ ...valid, tenantId: 'not-a-tenant' }));
    // This tenant's event on another tenant's subject: whoever may publish there may not reach this tenant.
    raw.publish(eventSubject(randomUUID()), JSON.stringify(valid));
    // A valid event with a field no event has: delivered, without that field.
    raw.publish(subject, JSON.stringify({ ...valid, ticketDescription: 'secret' }));
    const markerJobId = randomUUID();
    const marker = jobChanged(tenantId, markerJobId);
    raw.publish(subject, JSON.stringify(marker));

    await eventually(() => heard.some((event) => event.type === 'job.changed' && event.jobId === markerJobId));
    expect(heard).toEqual([valid, marker]);
    expect(Object.keys(heard[0]!).sort()).toEqual(['at', 'jobId', 'status', 'tenantId', 'type']);
  });

  it('delivers worker events too', async () => {
    const heard: DashboardEvent[] = [];
    replicas.buses[1]!.subscribe(tenantId, (event) => heard.push(event));
    await replicas.settled();
    const event: DashboardEvent = { type: 'worker.changed', tenantId, workerId: randomUUID(), change: 'DRAINING', at: new Date().toISOString() };

    replicas.publisher.publish(event);

    await eventually(() => heard.length > 0);
    expect(heard).toEqual([event]);
  });

  it('never throws on publish: not for a tenant id that is no UUID, not once the connection closed', async () => {
    const { bus, connection } = await natsBus();
    expect(() => bus.publish(jobChanged('tenant-a'))).not.toThrow();
    await connection.close();
    expect(() => bus.publish(jobChanged(tenantId))).not.toThrow();
    await expect(bus.onModuleDestroy()).resolves.toBeUndefined();
  });
});
