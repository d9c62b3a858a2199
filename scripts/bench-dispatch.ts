/**
 * `npm run bench:dispatch`: one table from one run. Airlock's dispatch latency (no-op job
 * enqueued → started by a worker) next to the floor, a bare @grpc/grpc-js bidirectional
 * ping-pong (plain and TLS), and next to the same enqueue → start latency of two queues a
 * team might pick instead, measured in the same run at the same rate: pg-boss on the same
 * PostgreSQL server and BullMQ on Debian's redis-server. Then Airlock's sustained no-op jobs
 * per second end to end with one control-plane replica and one worker.
 *
 * Flags: --rate R jobs per second for the latency rows (default 100); --jobs N measured jobs
 * per latency row (default 2000); --warmup N jobs offered first and left out (default 100);
 * --pings N (default 5000); --burst-rate R (default 1000) and --burst-jobs N (default 3000)
 * for the throughput run, with at most --burst-in-flight N create requests unanswered
 * (default 64); --keep leaves the temporary folder (the stack's logs). Progress goes to
 * stderr, the report to stdout.
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
import { createThrowawayCertificates, startLocalStack, type LocalStack } from '@airlock/local-stack';
import { createDatabase, startPostgresCluster } from '@airlock/testing';
import { cpuSeconds, postgresCpuSeconds, serverOnPort } from './bench-process';
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


/** CPU seconds used so far by each process of the Airlock path. */
interface CpuSnapshot {
  readonly controlPlane: number;
  readonly worker: number;
  readonly postgres: number;
  readonly benchmark: number;
  readonly at: number;
}

function cpuSnapshot(stack: LocalStack, postgresPort: number): CpuSnapshot {
  const usage = process.cpuUsage();
  return {
    controlPlane: cpuSeconds(stack.controlPlane.process.pid ?? -1),
    worker: cpuSeconds(stack.worker.process.pid ?? -1),
    postgres: postgresCpuSeconds(serverOnPort('/postgres', postgresPort)),
    benchmark: (usage.user + usage.system) / 1e6,
    at: performance.now(),
  };
}

function describeCpu(before: CpuSnapshot, after: CpuSnapshot, jobs: number): string {
  const wall = (after.at - before.at) / 1000;
  const part = (name: string, key: Exclude<keyof CpuSnapshot, 'at'>): string => {
    const used = after[key] - before[key];
    return `${name} ${used.toFixed(1)} s (${((used / wall) * 100).toFixed(0)}% of a core, ${((used * 1000 * 1000) / jobs).toFixed(0)} ms per 1,000 jobs)`;
  };
  return `CPU over ${wall.toFixed(1)} s: ${part('control plane', 'controlPlane')}; ${part('worker', 'worker')}; ${part('PostgreSQL', 'postgres')}; ${part('this benchmark (REST client, SQL)', 'benchmark')}`;
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
  readonly cpu: string;
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
async function runAirlock(
  stack: LocalStack,
  db: pg.Client,
  postgresPort: number,
  count: number,
  rate: number,
  label: string,
  maxInFlight = Infinity,
): Promise<AirlockRun> {
  const ids: string[] = [];
  progress(`${label}: ${count} no-op jobs at ${rate}/s`);
  const cpuBefore = cpuSnapshot(stack, postgresPort);
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
  const cpu = describeCpu(cpuBefore, cpuSnapshot(stack, postgresPort), ids.length);
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

async function main(): Promise<void> {
  const began = performance.now();
  const cpuList = cpus();
  const header =
    `bench:dispatch — ${new Date().toISOString().slice(0, 10)}; Node ${process.version}; ${cpuList.length} × ${cpuList[0]?.model.trim() ?? 'unknown CPU'}; ` +
    `load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}\n` +
    `latency rows: ${JOBS} no-op jobs each at ${RATE}/s after ${WARMUP} warm-up jobs; floor: ${PINGS} ping-pongs; throughput: ${BURST_JOBS} jobs offered at ${BURST_RATE}/s`;
  process.stderr.write(`${header}\n`);
  const baseDir = mkdtempSync(join(tmpdir(), 'airlock-bench-'));
  const certificates = await createThrowawayCertificates(join(baseDir, 'floor-tls'));
  progress(`floor: ${PINGS} grpc-js ping-pongs, plain text then TLS`);
  const floor = summarise(await grpcPingPong(PINGS));
  const floorTls = summarise(
    await grpcPingPong(PINGS, { ca: readFileSync(certificates.caFile), cert: readFileSync(certificates.certFile), key: readFileSync(certificates.keyFile) }),
  );

  const cluster = await startPostgresCluster({ durable: true });
  const admin = new pg.Client({ connectionString: cluster.url });
  let stack: LocalStack | undefined;
  let db: pg.Client | undefined;
  try {
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
    progress('starting the stack: control plane and one worker with 8 slots');
    stack = await startLocalStack({
      baseDir,
      canary: 'bench',
      databaseUrl,
      workerConcurrency: WORKER_SLOTS,
      allowNoop: true,
      controlPlaneEnv: { LOG_LEVEL: 'warn' },
    });
    db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    const postgresPort = Number(new URL(cluster.url).port);
    if (WARMUP > 0) await runAirlock(stack, db, postgresPort, WARMUP, RATE, 'Airlock warm-up');
    const airlock = await runAirlock(stack, db, postgresPort, JOBS, RATE, 'Airlock');
    const burst = await runAirlock(stack, db, postgresPort, BURST_JOBS, BURST_RATE, 'Airlock throughput', BURST_IN_FLIGHT);
    await db.end();
    db = undefined;
    await stack.stop();
    stack = undefined;

    const airlockLatency = summarise(airlock.createdToAcked);
    const pgBossPollingLatency = summarise(pgBossPolling.samples);
    const pgBossNotifyLatency = summarise(pgBossNotify.samples);
    const bullAofLatency = summarise(bullAof.samples);
    const bullNoneLatency = summarise(bullNone.samples);
    const burstLatency = summarise(burst.createdToAcked);
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
    out.push(
      '',
      `throughput, one control-plane replica, one worker with ${WORKER_SLOTS} slots:`,
      ...table([
        [`Airlock under load: created → ack recorded, ${BURST_RATE}/s offered`, burstLatency],
        ['  of which created → dispatched', summarise(burst.createdToDispatched)],
        ['  of which dispatched → ack recorded', summarise(burst.dispatchedToAcked)],
        ['  (dispatched → result recorded)', summarise(burst.dispatchedToFinished)],
      ]),
      describeRun('  latency run', airlock, RATE),
      `    ${airlock.cpu}`,
      describeRun('  throughput run', burst, BURST_RATE),
      `    ${burst.cpu}`,
      `  sustained end to end: ${burst.finishedPerSecond.toFixed(0)} no-op jobs/s (${burst.offered - burst.createFailures} jobs, first created → last finished in ${burst.wallSeconds.toFixed(1)} s)`,
    );
    const ratio = (a: number, b: number): string => `${(a / b).toFixed(a / b < 10 ? 2 : 1)}×`;
    const met = (ok: boolean): string => (ok ? 'met' : 'not met');
    const within5 = airlockLatency.p99 <= 5 && airlockLatency.p99 <= 5 * floorTls.p99;
    out.push(
      '',
      'targets named by the issue, against this run (the benchmark reports; it does not pass or fail):',
      `  dispatch p99 ≤ 5 ms at ${RATE}/s, within 5× the TLS floor: p99 ${airlockLatency.p99.toFixed(1)} ms, ${ratio(airlockLatency.p99, floorTls.p99)} the floor's p99 — ${met(within5)}`,
      `  ahead of pg-boss at p99 by 50×: pg-boss p99 ÷ Airlock p99 = ${ratio(pgBossPollingLatency.p99, airlockLatency.p99)} polling, ${ratio(pgBossNotifyLatency.p99, airlockLatency.p99)} LISTEN/NOTIFY — ${met(pgBossPollingLatency.p99 >= 50 * airlockLatency.p99)} against polling, ${met(pgBossNotifyLatency.p99 >= 50 * airlockLatency.p99)} against LISTEN/NOTIFY`,
      `  within 2× of BullMQ at p50 and p99: Airlock ÷ BullMQ (AOF fsync always) p50 ${ratio(airlockLatency.p50, bullAofLatency.p50)}, p99 ${ratio(airlockLatency.p99, bullAofLatency.p99)}; (no persistence) p50 ${ratio(airlockLatency.p50, bullNoneLatency.p50)}, p99 ${ratio(airlockLatency.p99, bullNoneLatency.p99)} — ${met(airlockLatency.p50 <= 2 * bullAofLatency.p50 && airlockLatency.p99 <= 2 * bullAofLatency.p99)} (AOF), ${met(airlockLatency.p50 <= 2 * bullNoneLatency.p50 && airlockLatency.p99 <= 2 * bullNoneLatency.p99)} (no persistence)`,
      `  ≥ 1,000 no-op jobs/s per replica end to end: ${burst.finishedPerSecond.toFixed(0)} jobs/s — ${met(burst.finishedPerSecond >= 1000)}`,
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
      ...(earlyNote.length > 0
        ? [`  jobs whose handler started before their enqueue call had resolved in this process (kept, as negative samples): ${earlyNote.join(', ')}.`]
        : []),
      '',
      `bench:dispatch took ${((performance.now() - began) / 1000).toFixed(0)} s; load average at the end ${loadavg().map((v) => v.toFixed(2)).join(' ')}`,
    );
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    await db?.end().catch(() => undefined);
    await stack?.stop();
    await cluster.stop();
    if (KEEP) process.stderr.write(`kept ${baseDir} (the stack's logs are in logs/)\n`);
    else rmSync(baseDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`bench:dispatch failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
