import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { DEFAULT_PLACEMENT, openDataAccess, type DataAccess, type JobPlacement } from '@airlock/data-access';
import { generateSigningKeyPair } from '@airlock/envelope';
import { decodeInstructionPayload, type ControlFrame } from '@airlock/protocol';
import { createDatabase, startNatsServer, startPostgresCluster, type NatsServer, type PostgresCluster } from '@airlock/testing';
import type { AppConfig } from '../config/app-config';
import { ControlPlaneMetrics } from '../metrics/control-plane.metrics';
import type { SigningKeyService } from '../signing/signing-key.service';
import { BatchDispatch } from './batch-dispatch';
import { InProcessJobDispatcher } from './in-process-job-dispatcher';
import type { JobDispatcher } from './job-dispatcher';
import { NatsJobDispatcher } from './nats-job-dispatcher';
import { WorkerSessionRegistry, type WorkerSessionHandle } from './worker-session.registry';

jest.setTimeout(120_000);

/**
 * One contract for every JobDispatcher: run against the single-process adapter (one replica)
 * and the NATS JetStream adapter (two replicas on one nats-server), both on a real
 * PostgreSQL.
 */

let cluster: PostgresCluster;
let nats: NatsServer;
let data: DataAccess;
const signer = generateSigningKeyPair();
const connections: NatsConnection[] = [];

beforeAll(async () => {
  [cluster, nats] = await Promise.all([startPostgresCluster(), startNatsServer()]);
  data = await openDataAccess({ kind: 'url', url: await createDatabase(cluster.url, 'dispatcher_contract') });
});

afterAll(async () => {
  await Promise.all(connections.map((connection) => connection.close()));
  await data?.close();
  await Promise.all([cluster?.stop(), nats?.stop()]);
});

/** One control-plane replica as the dispatcher sees it: its dispatcher and the streams it holds. */
interface Replica {
  readonly dispatcher: JobDispatcher;
  readonly registry: WorkerSessionRegistry;
}

/** A worker's stream as a fake handle: records instructions and, when asked, finishes each at once, giving its credit back. */
interface FakeWorker extends WorkerSessionHandle {
  readonly instructions: { jobId: string; attempt: number }[];
}

function batchDispatch(): BatchDispatch {
  return new BatchDispatch(
    data,
    { currentSigner: () => ({ keyId: signer.keyId, privateKeyPem: signer.privateKeyPem }) } as unknown as SigningKeyService,
    { leaseTtlMs: 60_000, instructionTtlMs: 600_000 } as AppConfig,
    { now: () => new Date() },
    { publish: () => undefined, subscribe: () => () => undefined },
    new ControlPlaneMetrics(),
  );
}

async function natsReplica(): Promise<Replica> {
  const connection = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  connections.push(connection);
  const registry = new WorkerSessionRegistry();
  return { registry, dispatcher: new NatsJobDispatcher(connection, data, registry, batchDispatch(), { now: () => new Date() }) };
}

function inProcessReplica(): Replica {
  const registry = new WorkerSessionRegistry();
  return { registry, dispatcher: new InProcessJobDispatcher(data, registry, batchDispatch(), { now: () => new Date() }) };
}

let workerKeyByte = 0;
async function enrolledWorker(tenantId: string): Promise<string> {
  workerKeyByte += 1;
  const tokenHash = workerKeyByte.toString(16).padStart(2, '0').repeat(32);
  await data.enrollment.createToken({ tenantId, tokenHash, expiresAt: new Date(Date.now() + 60_000) });
  const worker = await data.enrollment.enroll({ tokenHash, publicKey: Buffer.alloc(32, workerKeyByte), version: '1.0.0', now: new Date() });
  return worker!.workerId;
}

let tenantCounter = 0;
const newTenant = async (): Promise<string> => (await data.tenants.create(`dispatch-contract-${(tenantCounter += 1)}`)).id;

/** Connects a fake worker to the replica. With `finishAtOnce`, each instruction frees its slot again right away. */
async function connectWorker(replica: Replica, tenantId: string, credits: number, finishAtOnce = false, labels: string[] = []): Promise<FakeWorker> {
  const workerId = await enrolledWorker(tenantId);
  const instructions: { jobId: string; attempt: number }[] = [];
  const worker: FakeWorker = {
    workerId,
    tenantId,
    credits,
    labels,
    pool: null,
    draining: false,
    policyRevision: 0,
    instructions,
    send: (frame: ControlFrame) => {
      if (!frame.instruction) return true;
      const payload = decodeInstructionPayload(frame.instruction.payload as Uint8Array);
      instructions.push({ jobId: payload.jobId, attempt: payload.attempt });
      if (finishAtOnce) {
        setImmediate(() => {
          worker.credits += 1;
          replica.dispatcher.capacityAvailable();
        });
      }
      return true;
    },
    close: () => undefined,
    revoke: async () => undefined,
  };
  replica.registry.register(worker);
  replica.dispatcher.capacityAvailable();
  return worker;
}

async function queueJobs(tenantId: string, count: number, dispatchers: readonly JobDispatcher[], placement: JobPlacement = DEFAULT_PLACEMENT): Promise<string[]> {
  const jobs = await data.jobs.createMany(
    Array.from({ length: count }, () => ({ tenantId, task: { kind: 'NOOP' as const }, maxAttempts: 3, placement })),
    new Date(),
  );
  // As JobsService does: the replica that took the request enqueues; any replica may.
  jobs.forEach((job, index) => dispatchers[index % dispatchers.length]!.enqueue({ jobId: job.id, tenantId, pool: job.pool, currentAttempt: job.currentAttempt }));
  return jobs.map((job) => job.id);
}

/** Ends the attempt as a worker refusing it would: the job is terminal, and a running-jobs slot is free again. */
async function endAttempt(worker: FakeWorker, ref: { jobId: string; attempt: number }): Promise<void> {
  expect(await data.jobs.recordRejection({ workerId: worker.workerId, ...ref }, 'INSTRUCTION_MALFORMED', new Date())).toBe(true);
}

const ADMIN = { kind: 'USER' as const, id: '00000000-0000-4000-8000-000000000001', name: 'admin@example.test', sourceIp: null };

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function statusCounts(tenantId: string, jobIds: readonly string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const jobId of jobIds) {
    const status = (await data.jobs.findForTenant(tenantId, jobId))?.status ?? 'MISSING';
    counts[status] = (counts[status] ?? 0) + 1;
  }
  return counts;
}

const adapters: [string, () => Promise<Replica[]>][] = [
  ['in-process (one replica)', async () => [inProcessReplica()]],
  ['NATS JetStream (two replicas)', async () => [await natsReplica(), await natsReplica()]],
];

describe.each(adapters)('JobDispatcher contract: %s', (_name, startReplicas) => {
  let replicas: Replica[];

  beforeEach(async () => {
    replicas = await startReplicas();
    for (const replica of replicas) await replica.dispatcher.start();
  });

  afterEach(async () => {
    for (const replica of replicas) await replica.dispatcher.stop();
  });

  it('dispatches every queued job exactly once across the replicas, never past a worker\'s credits', async () => {
    const tenantId = await newTenant();
    const workers = await Promise.all(replicas.map((replica) => connectWorker(replica, tenantId, 8, true)));
    const jobIds = await queueJobs(tenantId, 200, replicas.map((replica) => replica.dispatcher));
    await eventually(() => workers.reduce((sum, worker) => sum + worker.instructions.length, 0) >= 200);

    const sent = workers.flatMap((worker) => worker.instructions);
    expect(sent).toHaveLength(200);
    expect(new Set(sent.map((ref) => ref.jobId))).toEqual(new Set(jobIds));
    expect(sent.every((ref) => ref.attempt === 1)).toBe(true);
    expect(await statusCounts(tenantId, jobIds)).toEqual({ DISPATCHED: 200 });
  });

  it('gives a worker no more than its credits, and more once it grants them', async () => {
    const tenantId = await newTenant();
    const worker = await connectWorker(replicas[0]!, tenantId, 3);
    await queueJobs(tenantId, 10, replicas.map((replica) => replica.dispatcher));
    await eventually(() => worker.instructions.length === 3);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(worker.instructions).toHaveLength(3);
    worker.credits += 2;
    replicas[0]!.dispatcher.capacityAvailable();
    await eventually(() => worker.instructions.length === 5);
  });

  it('skips a job cancelled while queued', async () => {
    const tenantId = await newTenant();
    const [cancelled, kept] = await queueJobs(tenantId, 2, replicas.map((replica) => replica.dispatcher));
    await data.jobs.requestCancel(tenantId, cancelled!, new Date());
    const worker = await connectWorker(replicas[0]!, tenantId, 4);
    await eventually(() => worker.instructions.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(worker.instructions.map((ref) => ref.jobId)).toEqual([kept]);
  });

  it("serves a tenant's single job while another tenant has hundreds queued", async () => {
    const [busy, quiet] = [await newTenant(), await newTenant()];
    await queueJobs(busy, 300, replicas.map((replica) => replica.dispatcher));
    const [single] = await queueJobs(quiet, 1, replicas.map((replica) => replica.dispatcher));
    const busyWorker = await connectWorker(replicas[0]!, busy, 8, true);
    const quietWorker = await connectWorker(replicas[0]!, quiet, 1);
    await eventually(() => quietWorker.instructions.length === 1);
    expect(quietWorker.instructions[0]!.jobId).toBe(single);
    // The quiet tenant waited for a few of the busy tenant's batches at most, not its backlog.
    expect(busyWorker.instructions.length).toBeLessThan(300);
  });

  it('dispatches a job PostgreSQL holds as queued that the queue never got, after a resync', async () => {
    const tenantId = await newTenant();
    const [lost] = (await data.jobs.createMany([{ tenantId, task: { kind: 'NOOP' }, maxAttempts: 3, placement: DEFAULT_PLACEMENT }], new Date(Date.now() - 60_000))).map((job) => job.id);
    const worker = await connectWorker(replicas[0]!, tenantId, 1);
    // Past the grace a reconciler gives a publish in flight.
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    await replicas[replicas.length - 1]!.dispatcher.resync();
    await eventually(() => worker.instructions.length === 1);
    expect(worker.instructions[0]!.jobId).toBe(lost);
  });

  it('gives a job targeted at a pool only to a worker of that pool, and untargeted jobs to any', async () => {
    const tenantId = await newTenant();
    const dispatchers = replicas.map((replica) => replica.dispatcher);
    const gpuJobs = await queueJobs(tenantId, 3, dispatchers, { pool: 'gpu.large', priority: 5 });
    const anyJobs = await queueJobs(tenantId, 3, dispatchers, DEFAULT_PLACEMENT);
    const plain = await connectWorker(replicas[0]!, tenantId, 8);
    await eventually(() => plain.instructions.length === 3);
    const gpu = await connectWorker(replicas[replicas.length - 1]!, tenantId, 8, false, ['gpu.large']);
    await eventually(() => gpu.instructions.length === 3);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(new Set(plain.instructions.map((ref) => ref.jobId))).toEqual(new Set(anyJobs));
    expect(new Set(gpu.instructions.map((ref) => ref.jobId))).toEqual(new Set(gpuJobs));
  });

  it('dispatches a higher-priority job before older ones of lower priority', async () => {
    const tenantId = await newTenant();
    const dispatchers = replicas.map((replica) => replica.dispatcher);
    const routine = await queueJobs(tenantId, 5, dispatchers, { pool: null, priority: 2 });
    const [urgent] = await queueJobs(tenantId, 1, dispatchers, { pool: null, priority: 9 });
    // Past the time a publish takes, so every replica could have had every job.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const worker = await connectWorker(replicas[0]!, tenantId, 1);
    await eventually(() => worker.instructions.length === 1);
    expect(worker.instructions[0]!.jobId).toBe(urgent);
    worker.credits += 5;
    replicas[0]!.dispatcher.capacityAvailable();
    await eventually(() => worker.instructions.length === 6);
    // Created together, the routine jobs are equally old: in any order after the urgent one.
    expect(new Set(worker.instructions.slice(1).map((ref) => ref.jobId))).toEqual(new Set(routine));
  });

  it("never has more of a tenant's jobs, or of a pool's, dispatched at once than its limit; the rest go as jobs end", async () => {
    const tenantId = await newTenant();
    const dispatchers = replicas.map((replica) => replica.dispatcher);
    await data.jobs.setDispatchLimits(tenantId, { maxRunningJobs: 3, pools: [{ pool: 'gpu', maxRunningJobs: 1 }] }, ADMIN, new Date());
    const gpuJobs = await queueJobs(tenantId, 3, dispatchers, { pool: 'gpu', priority: 9 });
    const otherJobs = await queueJobs(tenantId, 4, dispatchers, DEFAULT_PLACEMENT);
    const workers = await Promise.all(replicas.map((replica) => connectWorker(replica, tenantId, 8, false, ['gpu'])));
    const sent = () => workers.flatMap((worker) => worker.instructions.map((ref) => ({ worker, ref })));
    await eventually(() => sent().length === 3);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(sent()).toHaveLength(3);
    // Which pool's job goes first is not part of the contract across pools: with NATS a
    // replica claims only for the pools it holds messages of at that moment.
    expect(sent().filter(({ ref }) => gpuJobs.includes(ref.jobId)).length).toBeLessThanOrEqual(1);

    // Each job that ends makes room for one more, until all seven ran; never more than three at once, one of the pool.
    const ended = new Set<string>();
    const running = () => sent().filter(({ ref }) => !ended.has(ref.jobId));
    const isGpu = ({ ref }: { ref: { jobId: string } }) => gpuJobs.includes(ref.jobId);
    while (ended.size < 7) {
      expect(running().length).toBeLessThanOrEqual(3);
      expect(running().filter(isGpu).length).toBeLessThanOrEqual(1);
      // The pool's job first, so the pool's limit never leaves the tenant's room unused.
      const { worker, ref } = running().find(isGpu) ?? running()[0]!;
      await endAttempt(worker, ref);
      ended.add(ref.jobId);
      worker.credits += 1;
      for (const dispatcher of dispatchers) dispatcher.capacityAvailable();
      const expected = Math.min(7, ended.size + 3);
      await eventually(() => sent().length === expected);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sent()).toHaveLength(7);
    expect(new Set(sent().map(({ ref }) => ref.jobId))).toEqual(new Set([...gpuJobs, ...otherJobs]));
  });

  it('dispatches to hundreds of one-slot workers on one replica', async () => {
    const tenantId = await newTenant();
    const workers: FakeWorker[] = [];
    for (let index = 0; index < 600; index += 1) workers.push(await connectWorker(replicas[0]!, tenantId, 1));
    const jobIds = await queueJobs(tenantId, 600, replicas.map((replica) => replica.dispatcher));
    await eventually(() => workers.every((worker) => worker.instructions.length === 1), 30_000);
    expect(new Set(workers.map((worker) => worker.instructions[0]!.jobId))).toEqual(new Set(jobIds));
  });
});

describe('NATS JetStream dispatcher under faults', () => {
  it('dispatches every queued job after NATS restarts with its store wiped', async () => {
    const replicas = [await natsReplica(), await natsReplica()];
    for (const replica of replicas) await replica.dispatcher.start();
    try {
      const tenantId = await newTenant();
      const jobIds = await queueJobs(tenantId, 20, replicas.map((replica) => replica.dispatcher));
      await nats.restart({ wipeStore: true });
      // Queued for longer than the reconciler's grace, as a job that sat in the lost store would be.
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      await replicas[0]!.dispatcher.resync();
      const worker = await connectWorker(replicas[1]!, tenantId, 8, true);
      await eventually(() => new Set(worker.instructions.map((ref) => ref.jobId)).size === 20, 30_000);
      expect(new Set(worker.instructions.map((ref) => ref.jobId))).toEqual(new Set(jobIds));
      expect(worker.instructions).toHaveLength(20);
    } finally {
      for (const replica of replicas) await replica.dispatcher.stop();
    }
  });
});
