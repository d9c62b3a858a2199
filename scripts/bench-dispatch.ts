/**
 * `npm run bench:dispatch`: one table from one run. Airlock's dispatch latency (no-op job
 * enqueued → started by a worker) next to the floor, a bare @grpc/grpc-js bidirectional
 * ping-pong (plain and TLS), and next to the same enqueue → start latency of two queues a
 * team might pick instead, measured in the same run at the same rate: pg-boss on the same
 * PostgreSQL server and BullMQ on Debian's redis-server. Then Airlock's sustained no-op jobs
 * per second end to end with one control-plane replica and one worker, and with three
 * replicas behind one TCP balancer sharing a real nats-server, their workers holding the same
 * worker slots in all (four workers with two slots each).
 *
 * Flags: --rate R jobs per second for the latency rows (default 100); --jobs N measured jobs
 * per latency row (default 2000); --warmup N jobs offered first and left out (default 100);
 * --pings N (default 5000); --burst-rate R (default 1000) and --burst-jobs N (default 3000)
 * for the throughput run, with at most --burst-in-flight N create requests unanswered
 * (default 64); --replica-workers N (default 4) and --replica-worker-slots N (default 2) for
 * the three-replica throughput run; --keep leaves the temporary folder (the stacks' logs).
 * Progress goes to stderr, the report to stdout. A SIGINT or SIGTERM stops every server and
 * process the run started before it exits.
 *
 * PostgreSQL runs durably (fsync and synchronous_commit on), as in production. Airlock's
 * timestamps are read from its tables with SQL after each run; nothing polls the REST API.
 */
import { cpus, loadavg, tmpdir } from 'node:os';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import pg from 'pg';
import { createThrowawayCertificates, startLocalStack, type LocalStack, type WorkerHandle } from '@airlock/local-stack';
import { createDatabase, startNatsServer, startPostgresCluster } from '@airlock/testing';
import { cpuSeconds, establishedConnectionsOnPort, postgresCpuSeconds, serverOnPort, stopEverythingOnSignals, stopOnSignal } from './bench-process';
import { summarise, type Summary } from './bench-summary';
import {
  measureBullMq,
  measurePgBoss,
  offerAtRate,
  packageVersion,
  PG_BOSS_WORK_OPTIONS,
  REDIS_PERSISTENCE_FLAGS,
  redisServerVersion,
  waitUntil,
  WORKER_SLOTS,
  type RateOptions,
} from './bench-queues';

const flag = (name: string, fallback: number, { allowZero = false } = {}): number => {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isFinite(value) || value < 0 || (value === 0 && !allowZero)) throw new Error(`--${name} expects a ${allowZero ? 'non-negative' : 'positive'} number`);
  return value;
};
const RATE = flag('rate', 100);
const JOBS = flag('jobs', 2000);
const WARMUP = flag('warmup', 100, { allowZero: true });
const PINGS = flag('pings', 5000);
const BURST_RATE = flag('burst-rate', 1000);
const BURST_JOBS = flag('burst-jobs', 3000);
const BURST_IN_FLIGHT = flag('burst-in-flight', 64);
/** The three-replica run's workers: by default as many slots in all as the one-replica run's one worker (4 × 2 = 8). */
const REPLICA_WORKERS = flag('replica-workers', 4);
const REPLICA_WORKER_SLOTS = flag('replica-worker-slots', WORKER_SLOTS / 4);
const REPLICAS = 3;
const KEEP = process.argv.includes('--keep');
const TERMINAL_STATUSES = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

const progress = (line: string): void => void process.stderr.write(`  ${line}\n`);

/** PEM material for the TLS floor; absent for the plain-text floor. */
interface FloorTls {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
}

/**
 * The floor: a raw bidirectional stream echoing small frames on loopback, in plain text or
 * over TLS (the worker gateway runs TLS, so that is the fair comparison).
 */
async function grpcPingPong(pings: number, tls?: FloorTls): Promise<number[]> {
  const definition: grpc.ServiceDefinition = {
    Ping: {
      path: '/bench.Echo/Ping',
      requestStream: true,
      responseStream: true,
      requestSerialize: (value: Buffer) => value,
      requestDeserialize: (value: Buffer) => value,
      responseSerialize: (value: Buffer) => value,
      responseDeserialize: (value: Buffer) => value,
    },
  };
  const server = new grpc.Server();
  server.addService(definition, {
    Ping: (stream: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      stream.on('data', (frame: Buffer) => stream.write(frame));
      stream.on('end', () => stream.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      '127.0.0.1:0',
      tls ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: tls.cert, private_key: tls.key }], false) : grpc.ServerCredentials.createInsecure(),
      (error, bound) => (error ? reject(error) : resolve(bound)),
    ),
  );
  const Client = grpc.makeGenericClientConstructor(definition, 'Echo');
  const client = new Client(`localhost:${port}`, tls ? grpc.credentials.createSsl(tls.ca) : grpc.credentials.createInsecure());
  const stream = (client as unknown as { Ping(): grpc.ClientDuplexStream<Buffer, Buffer> }).Ping();
  const samples: number[] = [];
  const payload = randomBytes(200);
  for (let i = 0; i < pings + 200; i += 1) {
    const started = performance.now();
    await new Promise<void>((resolve) => {
      stream.once('data', () => resolve());
      stream.write(payload);
    });
    if (i >= 200) samples.push(performance.now() - started); // the first 200 warm up the JIT and the connection
  }
  stream.end();
  client.close();
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  return samples;
}


/** What an Airlock stack is made of: control-plane replicas (with NATS past one) and workers. */
interface AirlockShape {
  /** Several control-plane replicas behind one address, sharing the database and this nats-server. */
  readonly replicas?: { readonly count: number; readonly natsUrl: string };
  readonly workers: number;
  readonly slotsPerWorker: number;
}

/** A running Airlock stack as the runs drive it: the processes whose CPU they read, and SQL on its database. */
interface AirlockSetup {
  readonly stack: LocalStack;
  /** Every worker: the stack's first and those added. */
  readonly workers: readonly WorkerHandle[];
  readonly db: pg.Client;
  readonly postgresPort: number;
  /** The nats-server's port with replicas; undefined with one control plane. */
  readonly natsPort: number | undefined;
  /** Ends the SQL connection and stops the stack (every control plane and worker). */
  stop(): Promise<void>;
}

/** Starts the stack (the control planes, then the workers one after another) on `databaseUrl`, a database of its own. */
async function startAirlock(baseDir: string, databaseUrl: string, postgresPort: number, shape: AirlockShape): Promise<AirlockSetup> {
  const stack = await startLocalStack({
    baseDir,
    canary: 'bench',
    databaseUrl,
    workerConcurrency: shape.slotsPerWorker,
    allowNoop: true,
    controlPlaneEnv: { LOG_LEVEL: 'warn' },
    ...(shape.replicas ? { replicas: shape.replicas } : {}),
  });
  const db = new pg.Client({ connectionString: databaseUrl });
  // Without a listener, PostgreSQL going away (stopped on a signal, or failing) would throw from an 'error' event; queries reject anyway.
  db.on('error', () => undefined);
  const stop = stopOnSignal(async () => {
    await db.end().catch(() => undefined);
    await stack.stop();
  });
  try {
    const workers = [stack.worker];
    // As the replicas e2e test does: each added worker enrolls and dials the one address; the balancer hands its stream to the next replica.
    for (let index = 1; index < shape.workers; index += 1) workers.push(await stack.addWorker(`worker-${index + 1}`));
    await db.connect();
    return { stack, workers, db, postgresPort, natsPort: shape.replicas ? Number(new URL(shape.replicas.natsUrl).port) : undefined, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Each replica's worker streams: the ESTABLISHED connections on its gRPC port (the balancer's, one per worker). */
function streamsPerReplica(stack: LocalStack): number[] {
  return stack.controlPlane.replicas.map((replica) => {
    const ready = replica.process.allEvents().find((event) => event.event === 'ready');
    return establishedConnectionsOnPort(Number(String(ready?.['grpcAddress'] ?? '').split(':').pop()));
  });
}

/** CPU seconds used so far by each process of the Airlock path. */
interface CpuSnapshot {
  /** Each control-plane replica's. */
  readonly controlPlanes: readonly number[];
  /** Every worker's, summed. */
  readonly workers: number;
  readonly workerCount: number;
  /** nats-server's (every thread); undefined with one control plane. */
  readonly nats: number | undefined;
  readonly postgres: number;
  readonly benchmark: number;
  readonly at: number;
}

function cpuSnapshot(setup: AirlockSetup): CpuSnapshot {
  const usage = process.cpuUsage();
  return {
    controlPlanes: setup.stack.controlPlane.replicas.map((replica) => cpuSeconds(replica.process.pid ?? -1)),
    workers: setup.workers.reduce((sum, worker) => sum + cpuSeconds(worker.process.pid ?? -1), 0),
    workerCount: setup.workers.length,
    nats: setup.natsPort === undefined ? undefined : cpuSeconds(serverOnPort('nats-server', setup.natsPort) ?? -1),
    postgres: postgresCpuSeconds(serverOnPort('/postgres', setup.postgresPort)),
    benchmark: (usage.user + usage.system) / 1e6,
    at: performance.now(),
  };
}

/** CPU seconds each process used between two snapshots, for `jobs` jobs over `wall` seconds. */
interface CpuUse {
  readonly jobs: number;
  readonly wall: number;
  readonly controlPlanes: readonly number[];
  /** Summed over the replicas. */
  readonly controlPlane: number;
  readonly workers: number;
  readonly workerCount: number;
  readonly nats: number | undefined;
  readonly postgres: number;
  readonly benchmark: number;
}

function cpuUse(before: CpuSnapshot, after: CpuSnapshot, jobs: number): CpuUse {
  const controlPlanes = after.controlPlanes.map((used, index) => used - (before.controlPlanes[index] ?? 0));
  return {
    jobs,
    wall: (after.at - before.at) / 1000,
    controlPlanes,
    controlPlane: controlPlanes.reduce((sum, used) => sum + used, 0),
    workers: after.workers - before.workers,
    workerCount: after.workerCount,
    nats: after.nats === undefined || before.nats === undefined ? undefined : after.nats - before.nats,
    postgres: after.postgres - before.postgres,
    benchmark: after.benchmark - before.benchmark,
  };
}

/** Milliseconds of CPU per 1,000 jobs for `seconds` of CPU. */
const perThousandJobs = (seconds: number, use: CpuUse): number => (seconds * 1000 * 1000) / use.jobs;
/** Every process's CPU over the run, summed. */
const totalCpu = (use: CpuUse): number => use.controlPlane + use.workers + (use.nats ?? 0) + use.postgres + use.benchmark;

function describeCpu(use: CpuUse): string {
  const part = (name: string, used: number, detail = ''): string =>
    `${name} ${used.toFixed(1)} s (${((used / use.wall) * 100).toFixed(0)}% of a core, ${perThousandJobs(used, use).toFixed(0)} ms per 1,000 jobs${detail})`;
  const replicated = use.controlPlanes.length > 1;
  return [
    `CPU over ${use.wall.toFixed(1)} s: ` +
      (replicated
        ? part(`${use.controlPlanes.length} control planes, summed,`, use.controlPlane, `; by replica ${use.controlPlanes.map((used) => used.toFixed(1)).join(' + ')} s`)
        : part('control plane', use.controlPlane)),
    use.workerCount > 1 ? part(`${use.workerCount} workers, summed,`, use.workers) : part('worker', use.workers),
    ...(use.nats === undefined ? [] : [part('nats-server', use.nats)]),
    part('PostgreSQL', use.postgres),
    part(replicated ? 'this benchmark (REST client, SQL, the two TCP balancers)' : 'this benchmark (REST client, SQL)', use.benchmark),
    `all together ${perThousandJobs(totalCpu(use), use).toFixed(0)} ms per 1,000 jobs`,
  ].join('; ');
}

/** One Airlock run: its jobs' timestamps as the control plane recorded them. */
interface AirlockRun {
  readonly offered: number;
  readonly createFailures: number;
  readonly issuedSeconds: number;
  readonly createdToAcked: number[];
  readonly createdToDispatched: number[];
  readonly dispatchedToAcked: number[];
  /** Its first attempt's dispatchedAt → the job's finishedAt (the worker's result recorded). */
  readonly dispatchedToFinished: number[];
  /** Jobs whose first attempt has no ack recorded (never started on it). */
  readonly notAcked: number;
  readonly statuses: Record<string, number>;
  /** created per second: jobs / (last createdAt − first createdAt). */
  readonly createdPerSecond: number;
  /** finished per second end to end: jobs / (last finishedAt − first createdAt). */
  readonly finishedPerSecond: number;
  readonly wallSeconds: number;
  /** CPU each process used from the first request to the last job terminal. */
  readonly cpu: CpuUse;
}

interface JobTimes {
  readonly status: string;
  readonly createdAt: Date;
  readonly finishedAt: Date | null;
  readonly dispatchedAt: Date | null;
  readonly ackedAt: Date | null;
}

/**
 * Creates `count` no-op jobs through the REST API at `rate` per second, waits until every
 * one is terminal (a COUNT over "Job" every 100 ms), then reads their timestamps with one
 * query: the job's createdAt and finishedAt, its first attempt's dispatchedAt and ackedAt.
 */
async function runAirlock(setup: AirlockSetup, count: number, rate: number, label: string, maxInFlight = Infinity): Promise<AirlockRun> {
  const { stack, db } = setup;
  const ids: string[] = [];
  progress(`${label}: ${count} no-op jobs at ${rate}/s`);
  const cpuBefore = cpuSnapshot(setup);
  const { errors, issuedSeconds } = await offerAtRate(
    count,
    rate,
    async () => {
      const job = await stack.api.createNoopJob();
      ids.push(job.id);
    },
    maxInFlight,
  );
  if (ids.length === 0) throw new Error(`${label}: no job was created; first error: ${String(errors[0])}`);
  const countTerminal = async (): Promise<number> =>
    (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM "Job" WHERE id = ANY($1::uuid[]) AND status::text = ANY($2::text[])', [ids, TERMINAL_STATUSES])).rows[0]!.n;
  let terminal = 0;
  await waitUntil(
    async () => (terminal = await countTerminal()) === ids.length,
    (ids.length / Math.min(rate, 50)) * 1000 + 60_000,
    () => `${label}: ${terminal} of ${ids.length} jobs terminal`,
  );
  const cpu = cpuUse(cpuBefore, cpuSnapshot(setup), ids.length);
  const { rows } = await db.query<JobTimes>(
    `SELECT j.status::text AS status, j."createdAt", j."finishedAt", a."dispatchedAt", a."ackedAt"
       FROM "Job" j LEFT JOIN "JobAttempt" a ON a."jobId" = j.id AND a.attempt = 1
      WHERE j.id = ANY($1::uuid[])`,
    [ids],
  );
  const ms = (date: Date | null): number => (date ? date.getTime() : NaN);
  const acked = rows.filter((row) => row.ackedAt && row.dispatchedAt);
  const statuses: Record<string, number> = {};
  for (const row of rows) statuses[row.status] = (statuses[row.status] ?? 0) + 1;
  const firstCreated = Math.min(...rows.map((row) => ms(row.createdAt)));
  const lastCreated = Math.max(...rows.map((row) => ms(row.createdAt)));
  const lastFinished = Math.max(...rows.map((row) => ms(row.finishedAt)));
  return {
    offered: count,
    createFailures: errors.length,
    issuedSeconds,
    createdToAcked: acked.map((row) => ms(row.ackedAt) - ms(row.createdAt)),
    createdToDispatched: acked.map((row) => ms(row.dispatchedAt) - ms(row.createdAt)),
    dispatchedToAcked: acked.map((row) => ms(row.ackedAt) - ms(row.dispatchedAt)),
    dispatchedToFinished: acked.map((row) => ms(row.finishedAt) - ms(row.dispatchedAt)),
    notAcked: rows.length - acked.length,
    statuses,
    createdPerSecond: (rows.length * 1000) / Math.max(1, lastCreated - firstCreated),
    finishedPerSecond: (rows.length * 1000) / (lastFinished - firstCreated),
    wallSeconds: (lastFinished - firstCreated) / 1000,
    cpu,
  };
}

const cell = (value: number): string => (Number.isFinite(value) ? value.toFixed(2) : '-').padStart(9);
const times = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(value < 10 ? 2 : 1)}×` : '-');

/** A Markdown table of latency rows; with `floor`, two more columns divide p50 and p99 by the floor's. */
function table(rows: ReadonlyArray<readonly [string, Summary]>, floor?: Summary): string[] {
  const width = Math.max(...rows.map(([label]) => label.length), 'measure (milliseconds)'.length);
  const lines = [
    `| ${'measure (milliseconds)'.padEnd(width)} |      n |       p50 |       p90 |       p99 |       max |${floor ? ' p50 × TLS floor | p99 × TLS floor |' : ''}`,
    `|${'-'.repeat(width + 2)}|--------|-----------|-----------|-----------|-----------|${floor ? '-----------------|-----------------|' : ''}`,
  ];
  for (const [label, s] of rows) {
    const ratios = floor ? ` ${times(s.p50 / floor.p50).padStart(15)} | ${times(s.p99 / floor.p99).padStart(15)} |` : '';
    lines.push(`| ${label.padEnd(width)} | ${String(s.n).padStart(6)} | ${cell(s.p50)} | ${cell(s.p90)} | ${cell(s.p99)} | ${cell(s.max)} |${ratios}`);
  }
  return lines;
}

/** Command-line flags as a shell would need them typed (an empty argument as ''). */
const shellWords = (words: readonly string[]): string => words.map((word) => (word === '' ? "''" : word)).join(' ');

function describeRun(label: string, run: AirlockRun, offeredRate: number): string {
  const statuses = Object.entries(run.statuses).map(([status, n]) => `${n} ${status}`).join(', ');
  const problems = [
    run.createFailures > 0 ? `${run.createFailures} of ${run.offered} create requests failed` : '',
    run.notAcked > 0 ? `${run.notAcked} jobs have no ack on their first attempt` : '',
  ].filter(Boolean);
  return (
    `${label}: ${run.offered} offered at ${offeredRate}/s (the client issued them in ${run.issuedSeconds.toFixed(1)} s); ${statuses}; ` +
    `created ${run.createdPerSecond.toFixed(0)}/s, finished ${run.finishedPerSecond.toFixed(0)}/s end to end${problems.length > 0 ? `; ${problems.join('; ')}` : ''}`
  );
}

/** The throughput run: BURST_JOBS no-op jobs offered at BURST_RATE, at most BURST_IN_FLIGHT create requests unanswered. */
const runThroughput = (setup: AirlockSetup, label: string): Promise<AirlockRun> => runAirlock(setup, BURST_JOBS, BURST_RATE, label, BURST_IN_FLIGHT);

/** A throughput run as the report prints it: the stack it ran on, its latency split, `notes`, the run, its CPU and the sustained rate. */
function throughputSection(title: string, run: AirlockRun, notes: readonly string[]): string[] {
  return [
    title,
    ...table([
      [`Airlock under load: created → ack recorded, ${BURST_RATE}/s offered`, summarise(run.createdToAcked)],
      ['  of which created → dispatched', summarise(run.createdToDispatched)],
      ['  of which dispatched → ack recorded', summarise(run.dispatchedToAcked)],
      ['  (dispatched → result recorded)', summarise(run.dispatchedToFinished)],
    ]),
    ...notes,
    describeRun('  throughput run', run, BURST_RATE),
    `    ${describeCpu(run.cpu)}`,
    `  sustained end to end: ${run.finishedPerSecond.toFixed(0)} no-op jobs/s (${run.offered - run.createFailures} jobs, first created → last finished in ${run.wallSeconds.toFixed(1)} s)`,
  ];
}

/** The three-replica runs, and each replica's worker streams at their start and at their end. */
interface ReplicatedRun {
  /** The same latency run the one-replica stack had before its throughput run. */
  readonly latency: AirlockRun;
  readonly run: AirlockRun;
  readonly streamsBefore: readonly number[];
  readonly streamsAfter: readonly number[];
}

/**
 * The throughput run again on REPLICAS control-plane replicas behind one TCP balancer,
 * sharing a database of their own on the same PostgreSQL server and a nats-server started
 * for this run, with REPLICA_WORKERS workers of REPLICA_WORKER_SLOTS slots. Before the
 * burst the stack gets what the one-replica stack had before its own: WARMUP jobs, then the
 * latency run's JOBS, at RATE.
 */
async function throughputOnReplicas(clusterUrl: string, postgresPort: number, baseDir: string): Promise<ReplicatedRun> {
  const nats = await startNatsServer();
  const stopNats = stopOnSignal(() => nats.stop());
  let setup: AirlockSetup | undefined;
  try {
    const databaseUrl = await createDatabase(clusterUrl, 'bench_dispatch_replicas');
    progress(`starting the stack: ${REPLICAS} control-plane replicas (NATS ${nats.url}), ${REPLICA_WORKERS} workers with ${REPLICA_WORKER_SLOTS} slots each`);
    setup = await startAirlock(baseDir, databaseUrl, postgresPort, {
      replicas: { count: REPLICAS, natsUrl: nats.url },
      workers: REPLICA_WORKERS,
      slotsPerWorker: REPLICA_WORKER_SLOTS,
    });
    const streamsBefore = streamsPerReplica(setup.stack);
    progress(`worker streams per replica: ${streamsBefore.join(', ')}`);
    if (streamsBefore.some((streams) => streams === 0)) {
      throw new Error(`a replica holds no worker stream (worker streams per replica: ${streamsBefore.join(', ')}); give more --replica-workers`);
    }
    if (WARMUP > 0) await runAirlock(setup, WARMUP, RATE, `Airlock, ${REPLICAS} replicas, warm-up`);
    const latency = await runAirlock(setup, JOBS, RATE, `Airlock, ${REPLICAS} replicas`);
    const run = await runThroughput(setup, `Airlock throughput, ${REPLICAS} replicas`);
    return { latency, run, streamsBefore, streamsAfter: streamsPerReplica(setup.stack) };
  } finally {
    await setup?.stop();
    await stopNats();
  }
}

async function main(): Promise<void> {
  stopEverythingOnSignals();
  const began = performance.now();
  const cpuList = cpus();
  const header =
    `bench:dispatch — ${new Date().toISOString().slice(0, 10)}; Node ${process.version}; ${cpuList.length} × ${cpuList[0]?.model.trim() ?? 'unknown CPU'}; ` +
    `load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}\n` +
    `latency rows: ${JOBS} no-op jobs each at ${RATE}/s after ${WARMUP} warm-up jobs; floor: ${PINGS} ping-pongs; throughput: ${BURST_JOBS} jobs offered at ${BURST_RATE}/s, on one replica then on ${REPLICAS}`;
  process.stderr.write(`${header}\n`);
  const baseDir = mkdtempSync(join(tmpdir(), 'airlock-bench-'));
  const removeBaseDir = stopOnSignal(async () => {
    if (KEEP) process.stderr.write(`kept ${baseDir} (the stacks' logs are in logs/ and ${REPLICAS}-replicas/logs/)\n`);
    else rmSync(baseDir, { recursive: true, force: true });
  });
  let stopCluster: (() => Promise<void>) | undefined;
  let setup: AirlockSetup | undefined;
  try {
    const certificates = await createThrowawayCertificates(join(baseDir, 'floor-tls'));
    progress(`floor: ${PINGS} grpc-js ping-pongs, plain text then TLS`);
    const floor = summarise(await grpcPingPong(PINGS));
    const floorTls = summarise(
      await grpcPingPong(PINGS, { ca: readFileSync(certificates.caFile), cert: readFileSync(certificates.certFile), key: readFileSync(certificates.keyFile) }),
    );

    const cluster = await startPostgresCluster({ durable: true });
    stopCluster = stopOnSignal(() => cluster.stop());
    const admin = new pg.Client({ connectionString: cluster.url });
    admin.on('error', () => undefined);
    await admin.connect();
    const setting = async (name: string): Promise<string> => (await admin.query<{ v: string }>(`SELECT current_setting('${name}') AS v`)).rows[0]!.v;
    const postgres = `PostgreSQL ${await setting('server_version')} (fsync=${await setting('fsync')}, synchronous_commit=${await setting('synchronous_commit')}, wal_sync_method=${await setting('wal_sync_method')})`;
    await admin.end();

    const rateOptions: RateOptions = { jobs: JOBS, rate: RATE, warmup: WARMUP };
    const pgBossUrl = await createDatabase(cluster.url, 'bench_pgboss');
    progress(`pg-boss, polling: ${JOBS} jobs at ${RATE}/s`);
    const pgBossPolling = await measurePgBoss(pgBossUrl, 'polling', rateOptions);
    progress(`pg-boss, LISTEN/NOTIFY: ${JOBS} jobs at ${RATE}/s`);
    const pgBossNotify = await measurePgBoss(pgBossUrl, 'listen-notify', rateOptions);
    progress(`BullMQ, redis appendfsync always: ${JOBS} jobs at ${RATE}/s`);
    const bullAof = await measureBullMq('aof-always', rateOptions);
    progress(`BullMQ, redis without persistence: ${JOBS} jobs at ${RATE}/s`);
    const bullNone = await measureBullMq('none', rateOptions);

    const databaseUrl = await createDatabase(cluster.url, 'bench_dispatch');
    const postgresPort = Number(new URL(cluster.url).port);
    progress(`starting the stack: control plane and one worker with ${WORKER_SLOTS} slots`);
    setup = await startAirlock(baseDir, databaseUrl, postgresPort, { workers: 1, slotsPerWorker: WORKER_SLOTS });
    if (WARMUP > 0) await runAirlock(setup, WARMUP, RATE, 'Airlock warm-up');
    const airlock = await runAirlock(setup, JOBS, RATE, 'Airlock');
    const burst = await runThroughput(setup, 'Airlock throughput');
    await setup.stop();
    setup = undefined;
    const replicated = await throughputOnReplicas(cluster.url, postgresPort, join(baseDir, `${REPLICAS}-replicas`));

    const airlockLatency = summarise(airlock.createdToAcked);
    const pgBossPollingLatency = summarise(pgBossPolling.samples);
    const pgBossNotifyLatency = summarise(pgBossNotify.samples);
    const bullAofLatency = summarise(bullAof.samples);
    const bullNoneLatency = summarise(bullNone.samples);
    const pgBoss = `pg-boss ${packageVersion('pg-boss')}`;
    const bull = `BullMQ ${packageVersion('bullmq')}`;
    const out: string[] = [header, `${postgres}; redis-server ${redisServerVersion()}`, ''];
    out.push(
      ...table(
        [
          ['floor: grpc-js bidi ping-pong, plain text', floor],
          ['floor: grpc-js bidi ping-pong, TLS', floorTls],
          [`Airlock: enqueue → start (created → ack recorded), ${RATE}/s`, airlockLatency],
          ['  of which created → dispatched', summarise(airlock.createdToDispatched)],
          ['  of which dispatched → ack recorded', summarise(airlock.dispatchedToAcked)],
          ['  (dispatched → result recorded)', summarise(airlock.dispatchedToFinished)],
          [`${pgBoss}: enqueue → start, ${RATE}/s, polling`, pgBossPollingLatency],
          [`${pgBoss}: enqueue → start, ${RATE}/s, LISTEN/NOTIFY`, pgBossNotifyLatency],
          [`${bull}: enqueue → start, ${RATE}/s, AOF fsync always`, bullAofLatency],
          [`${bull}: enqueue → start, ${RATE}/s, no persistence`, bullNoneLatency],
        ],
        floorTls,
      ),
    );
    const ratio = (a: number, b: number): string => `${(a / b).toFixed(a / b < 10 ? 2 : 1)}×`;
    const three = replicated.run;
    const replicaSlots = REPLICA_WORKERS * REPLICA_WORKER_SLOTS;
    const streams =
      `  worker streams per replica (ESTABLISHED connections on each replica's gRPC port): ${replicated.streamsBefore.join(', ')}` +
      (replicated.streamsAfter.join() === replicated.streamsBefore.join() ? '' : ` at the start, ${replicated.streamsAfter.join(', ')} at the end`) +
      `; before the burst, as the one-replica stack: ${WARMUP} warm-up jobs, then the latency run, at ${RATE}/s`;
    const cpuPerThousand = (run: AirlockRun, seconds: (use: CpuUse) => number): string => perThousandJobs(seconds(run.cpu), run.cpu).toFixed(0);
    out.push(
      '',
      ...throughputSection(`throughput, one control-plane replica, one worker with ${WORKER_SLOTS} slots:`, burst, [
        describeRun('  latency run', airlock, RATE),
        `    ${describeCpu(airlock.cpu)}`,
      ]),
      '',
      ...throughputSection(
        `throughput, ${REPLICAS} control-plane replicas behind one TCP balancer sharing PostgreSQL and one nats-server (JetStream), ` +
          `${REPLICA_WORKERS} workers with ${REPLICA_WORKER_SLOTS} slots each: ${replicaSlots} slots in all, ` +
          (replicaSlots === WORKER_SLOTS ? 'as the one-replica run has' : `NOT the one-replica run's ${WORKER_SLOTS}: not the same worker capacity`) +
          ':',
        three,
        [streams, describeRun('  latency run', replicated.latency, RATE), `    ${describeCpu(replicated.latency.cpu)}`],
      ),
      `  ${REPLICAS} replicas against one: ${ratio(three.finishedPerSecond, burst.finishedPerSecond)} the jobs/s end to end (${three.finishedPerSecond.toFixed(0)} against ${burst.finishedPerSecond.toFixed(0)}); ` +
        `control-plane CPU per 1,000 jobs ${cpuPerThousand(three, (use) => use.controlPlane)} ms summed over the ${REPLICAS} against ${cpuPerThousand(burst, (use) => use.controlPlane)} ms; ` +
        `every process together ${cpuPerThousand(three, totalCpu)} against ${cpuPerThousand(burst, totalCpu)} ms per 1,000 jobs`,
    );
    const met = (ok: boolean): string => (ok ? 'met' : 'not met');
    const within5 = airlockLatency.p99 <= 5 && airlockLatency.p99 <= 5 * floorTls.p99;
    out.push(
      '',
      'targets named by the issue, against this run (the benchmark reports; it does not pass or fail):',
      `  dispatch p99 ≤ 5 ms at ${RATE}/s, within 5× the TLS floor: p99 ${airlockLatency.p99.toFixed(1)} ms, ${ratio(airlockLatency.p99, floorTls.p99)} the floor's p99 — ${met(within5)}`,
      `  ahead of pg-boss at p99 by 50×: pg-boss p99 ÷ Airlock p99 = ${ratio(pgBossPollingLatency.p99, airlockLatency.p99)} polling, ${ratio(pgBossNotifyLatency.p99, airlockLatency.p99)} LISTEN/NOTIFY — ${met(pgBossPollingLatency.p99 >= 50 * airlockLatency.p99)} against polling, ${met(pgBossNotifyLatency.p99 >= 50 * airlockLatency.p99)} against LISTEN/NOTIFY`,
      `  within 2× of BullMQ at p50 and p99: Airlock ÷ BullMQ (AOF fsync always) p50 ${ratio(airlockLatency.p50, bullAofLatency.p50)}, p99 ${ratio(airlockLatency.p99, bullAofLatency.p99)}; (no persistence) p50 ${ratio(airlockLatency.p50, bullNoneLatency.p50)}, p99 ${ratio(airlockLatency.p99, bullNoneLatency.p99)} — ${met(airlockLatency.p50 <= 2 * bullAofLatency.p50 && airlockLatency.p99 <= 2 * bullAofLatency.p99)} (AOF), ${met(airlockLatency.p50 <= 2 * bullNoneLatency.p50 && airlockLatency.p99 <= 2 * bullNoneLatency.p99)} (no persistence)`,
      `  ≥ 1,000 no-op jobs/s per replica end to end: one replica ${burst.finishedPerSecond.toFixed(0)} jobs/s — ${met(burst.finishedPerSecond >= 1000)}; ` +
        `${REPLICAS} replicas ${three.finishedPerSecond.toFixed(0)} jobs/s, ${(three.finishedPerSecond / REPLICAS).toFixed(0)} per replica — ${met(three.finishedPerSecond >= 1000 * REPLICAS)}`,
    );
    const early = [
      ['pg-boss polling', pgBossPolling],
      ['pg-boss LISTEN/NOTIFY', pgBossNotify],
      ['BullMQ AOF fsync always', bullAof],
      ['BullMQ no persistence', bullNone],
    ] as const;
    const earlyNote = early.filter(([, run]) => run.startedBeforeEnqueued > 0).map(([name, run]) => `${run.startedBeforeEnqueued} (${name})`);
    out.push(
      '',
      'definitions, the same for the three queues:',
      '  enqueue → start: from the moment the job is durably enqueued to the moment a worker starts it.',
      '    Airlock: "Job"."createdAt" (the control plane reads its clock for the commit that inserts the job, just before it) →',
      '      the first attempt\'s "ackedAt" (read when the worker\'s Ack, sent once it verified the signed instruction, reaches the',
      '      control plane, for the commit that records the attempt RUNNING). Both from PostgreSQL after the run, millisecond',
      '      resolution; dispatchedAt is read for the commit that claims the job for the worker, before the instruction is signed and sent.',
      `    pg-boss / BullMQ: send() / queue.add() resolved → first line of the handler, both performance.now() in the benchmark's process`,
      '      (producer and workers in one process, as the Airlock worker is one process).',
      `  pg-boss: its own database on the same PostgreSQL server; work() with ${JSON.stringify(PG_BOSS_WORK_OPTIONS)} (at most`,
      `    ${WORKER_SLOTS} jobs in flight; 0.5 s is the lowest polling interval pg-boss accepts); "LISTEN/NOTIFY": useListenNotify on the`,
      '    instance and notify: true on the queue, so a send wakes the worker (the poll stays as a backstop). Other options at defaults.',
      `  BullMQ: a Worker with concurrency ${WORKER_SLOTS}, other options at defaults, on a redis-server started for the row on a free`,
      `    loopback port: "AOF fsync always" = ${shellWords(REDIS_PERSISTENCE_FLAGS['aof-always'])} (each write fsynced before Redis answers,`,
      `    as PostgreSQL commits here); "no persistence" = ${shellWords(REDIS_PERSISTENCE_FLAGS.none)}. Redis client: ioredis.`,
      `  Every latency row: ${WARMUP} warm-up jobs at the same rate first, left out; jobs offered on a fixed schedule (open loop).`,
      `  Throughput: create requests on the ${BURST_RATE}/s schedule, at most ${BURST_IN_FLIGHT} unanswered at a time (past that the schedule waits);`,
      '    finished/s = jobs ÷ (last finishedAt − first createdAt), from the same SQL timestamps.',
      `  ${REPLICAS} replicas: the same warm-up, latency run and burst, on a fresh database of the same PostgreSQL server and a`,
      '    nats-server -js started for the run; the REST requests and the worker streams pass through two TCP balancers in this',
      '    process (round robin by connection), so "this benchmark" CPU includes moving their bytes.',
      ...(earlyNote.length > 0
        ? [`  jobs whose handler started before their enqueue call had resolved in this process (kept, as negative samples): ${earlyNote.join(', ')}.`]
        : []),
      '',
      `bench:dispatch took ${((performance.now() - began) / 1000).toFixed(0)} s; load average at the end ${loadavg().map((v) => v.toFixed(2)).join(' ')}`,
    );
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    await setup?.stop();
    await stopCluster?.();
    await removeBaseDir();
  }
}

main().catch((error: unknown) => {
  if (process.exitCode) return void console.error('bench:dispatch stopped on a signal'); // what failed then failed because of the stop
  console.error(`bench:dispatch failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
