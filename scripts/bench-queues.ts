/**
 * The queues `npm run bench:dispatch` compares Airlock's dispatch with, measured the same
 * way: jobs offered at a fixed rate, and for each the time from "durably enqueued" (the
 * enqueue call resolved) to "a worker starts it" (the first line of the handler), both read
 * from `performance.now()` in this process, which runs the producer and the workers alike.
 *
 * - pg-boss on the benchmark's PostgreSQL server (a database of its own), polling at the
 *   lowest interval it accepts, or woken by LISTEN/NOTIFY.
 * - BullMQ on a redis-server this module starts on a free loopback port, with or without
 *   an append-only file fsynced on every write.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Queue, Worker } from 'bullmq';
import { PgBoss } from 'pg-boss';
import { findFreePort, waitForTcpListener } from '@airlock/testing';
import { Redis } from 'ioredis';
import { stopOnSignal } from './bench-process';

/** Slots that take jobs at once, as the Airlock worker's `concurrency` in the same benchmark. */
export const WORKER_SLOTS = 8;
/** pg-boss refuses a pollingIntervalSeconds below 0.5 (node_modules/pg-boss/dist/types.d.ts, JobPollingOptions). */
export const PG_BOSS_MIN_POLLING_SECONDS = 0.5;

export interface QueueRun {
  /** enqueue → start of each job, milliseconds. */
  readonly samples: number[];
  /** Jobs whose handler ran before their enqueue call had resolved (counted, and kept as a negative sample). */
  readonly startedBeforeEnqueued: number;
}

export interface RateOptions {
  readonly jobs: number;
  readonly rate: number;
  /** Jobs offered first at the same rate and left out of the samples (connections, JIT, caches). */
  readonly warmup: number;
}

/** The version of a package in node_modules, for the table's labels. */
export function packageVersion(name: string): string {
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `submit(i)` for i in [0, count) on a fixed schedule, `rate` per second from now,
 * without waiting for earlier calls (an open loop: a slow system gets the offered load, not
 * less), but with at most `maxInFlight` calls unsettled: past that the schedule waits for
 * one to settle, so a system that cannot take the rate sees a steady queue of requests
 * rather than thousands of them timing out. Resolves when every call settled, with the
 * errors of those that failed and how long issuing them took.
 */
export async function offerAtRate(
  count: number,
  rate: number,
  submit: (index: number) => Promise<unknown>,
  maxInFlight = Infinity,
): Promise<{ errors: unknown[]; issuedSeconds: number }> {
  const interval = 1000 / rate;
  const started = performance.now();
  const errors: unknown[] = [];
  const calls: Array<Promise<void>> = [];
  let inFlight = 0;
  let slotFreed: (() => void) | undefined;
  for (let i = 0; i < count; i += 1) {
    const wait = started + i * interval - performance.now();
    if (wait > 0) await sleep(wait);
    while (inFlight >= maxInFlight) await new Promise<void>((resolve) => (slotFreed = resolve));
    inFlight += 1;
    calls.push(
      submit(i).then(
        () => undefined,
        (error: unknown) => void errors.push(error),
      ).finally(() => {
        inFlight -= 1;
        slotFreed?.();
        slotFreed = undefined;
      }),
    );
  }
  const issuedSeconds = (performance.now() - started) / 1000;
  await Promise.all(calls);
  return { errors, issuedSeconds };
}

/** Polls `done` every 100 ms until it is true; throws with `progress()` after `timeoutMs`. */
export async function waitUntil(done: () => boolean | Promise<boolean>, timeoutMs: number, progress: () => string | Promise<string>): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await done())) {
    if (performance.now() > deadline) throw new Error(`gave up after ${(timeoutMs / 1000).toFixed(0)} s: ${await progress()}`);
    await sleep(100);
  }
}

/** How long to wait for a run's last job: the offering time, then a minute. */
const completionTimeout = (jobs: number, rate: number): number => (jobs / rate) * 1000 + 60_000;

/**
 * Offers warm-up jobs then measured jobs through `enqueue`, which resolves with the job's
 * id once the queue answered; the handler puts the time of its first line in `starts`.
 */
async function measureQueue(
  name: string,
  options: RateOptions,
  enqueue: (index: number) => Promise<string>,
  starts: ReadonlyMap<string, number>,
): Promise<QueueRun> {
  const offer = async (count: number): Promise<Map<string, number>> => {
    const enqueued = new Map<string, number>();
    const { errors } = await offerAtRate(count, options.rate, async (i) => {
      const id = await enqueue(i);
      enqueued.set(id, performance.now());
    });
    if (errors.length > 0) throw new Error(`${name}: ${errors.length} of ${count} enqueues failed, first: ${String(errors[0])}`);
    await waitUntil(
      () => [...enqueued.keys()].every((id) => starts.has(id)),
      completionTimeout(count, options.rate),
      () => `${name}: ${[...enqueued.keys()].filter((id) => starts.has(id)).length} of ${count} jobs started`,
    );
    return enqueued;
  };
  if (options.warmup > 0) await offer(options.warmup);
  const enqueued = await offer(options.jobs);
  const samples = [...enqueued].map(([id, at]) => starts.get(id)! - at);
  return { samples, startedBeforeEnqueued: samples.filter((sample) => sample < 0).length };
}

export type PgBossDelivery = 'polling' | 'listen-notify';

/**
 * What `work()` is given: one fetch loop taking up to WORKER_SLOTS jobs a fetch, so at most
 * as many jobs in flight as the Airlock worker has slots, polling at the lowest interval
 * pg-boss accepts and fetching again at once while fetches come back full (else a backlog
 * at 100 jobs/s could never drain: 8 jobs per 0.5 s poll is 16 jobs/s). Eight loops of one
 * job each (localConcurrency 8, batchSize 1) measured about the same with LISTEN/NOTIFY and
 * cannot keep up at 100 jobs/s polling, for the same reason.
 */
export const PG_BOSS_WORK_OPTIONS = {
  batchSize: WORKER_SLOTS,
  localConcurrency: 1,
  pollingIntervalSeconds: PG_BOSS_MIN_POLLING_SECONDS,
  burstWhenBatchFull: true,
} as const;

/**
 * pg-boss 12 on `databaseUrl` with PG_BOSS_WORK_OPTIONS; with 'listen-notify' the queue is
 * created with `notify: true` and the instance listens (useListenNotify), so a send wakes
 * the worker at once instead of at its next poll. Everything else at pg-boss's defaults.
 */
export async function measurePgBoss(databaseUrl: string, delivery: PgBossDelivery, options: RateOptions): Promise<QueueRun> {
  const boss = new PgBoss({ connectionString: databaseUrl, useListenNotify: delivery === 'listen-notify' });
  const failures: unknown[] = [];
  boss.on('error', (error: unknown) => failures.push(error));
  await boss.start();
  const queue = `bench-noop-${delivery}`;
  try {
    await boss.createQueue(queue, delivery === 'listen-notify' ? { notify: true } : {});
    const starts = new Map<string, number>();
    await boss.work(queue, { ...PG_BOSS_WORK_OPTIONS }, async (jobs) => {
      const at = performance.now();
      for (const job of jobs) starts.set(job.id, at);
    });
    const run = await measureQueue(`pg-boss (${delivery})`, options, async () => {
      const id = await boss.send(queue, {});
      if (!id) throw new Error('pg-boss send returned no id');
      return id;
    }, starts);
    if (failures.length > 0) throw new Error(`pg-boss reported ${failures.length} errors, first: ${String(failures[0])}`);
    return run;
  } finally {
    await boss.stop({ graceful: true, timeout: 10_000 });
  }
}

export type RedisPersistence = 'aof-always' | 'none';

/** A redis-server child process on a free 127.0.0.1 port, its files in a temporary folder. */
interface RedisServer {
  readonly port: number;
  stop(): Promise<void>;
}

/** The flags each persistence mode passes to redis-server. */
export const REDIS_PERSISTENCE_FLAGS: Readonly<Record<RedisPersistence, readonly string[]>> = {
  // Durability parity with PostgreSQL's fsync at each commit: every write is in the
  // append-only file, fsynced, before Redis answers it. No RDB snapshots.
  'aof-always': ['--appendonly', 'yes', '--appendfsync', 'always', '--save', ''],
  // Nothing on disk: the fastest Redis can be, and a restart loses every job.
  none: ['--appendonly', 'no', '--save', ''],
};

export function redisServerVersion(): string {
  const output = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (output.status !== 0) throw new Error(`redis-server --version failed (is Debian's redis-server installed?): ${output.stderr || output.error?.message}`);
  return /v=(\S+)/.exec(output.stdout)?.[1] ?? output.stdout.trim();
}

async function startRedisServer(persistence: RedisPersistence): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-bench-redis-'));
  const port = await findFreePort();
  const child: ChildProcess = spawn(
    'redis-server',
    ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--daemonize', 'no', '--protected-mode', 'yes', '--maxmemory-policy', 'noeviction', ...REDIS_PERSISTENCE_FLAGS[persistence]],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let exited = false;
  child.once('exit', () => (exited = true));
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (error) => reject(new Error(`redis-server did not start: ${error.message}`)));
  });
  const stop = stopOnSignal(async () => {
    if (!exited) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    }
    await rm(dir, { recursive: true, force: true });
  });
  try {
    await waitForTcpListener(port, 10_000, () => !exited);
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, stop };
}

/**
 * BullMQ 6 on a redis-server started here with `persistence`: a Queue and a Worker with
 * concurrency WORKER_SLOTS, everything else at BullMQ's defaults.
 */
export async function measureBullMq(persistence: RedisPersistence, options: RateOptions): Promise<QueueRun> {
  const server = await startRedisServer(persistence);
  // ioredis, the driver BullMQ is most often run with; a Worker's blocking reads need maxRetriesPerRequest null.
  const connection = new Redis({ host: '127.0.0.1', port: server.port, maxRetriesPerRequest: null });
  const queueName = 'bench-noop';
  const queue = new Queue(queueName, { connection });
  const starts = new Map<string, number>();
  const worker = new Worker(
    queueName,
    async (job) => {
      starts.set(job.id!, performance.now());
    },
    { connection, concurrency: WORKER_SLOTS },
  );
  const failures: unknown[] = [];
  worker.on('error', (error) => failures.push(error));
  queue.on('error', (error) => failures.push(error));
  try {
    await queue.waitUntilReady();
    await worker.waitUntilReady();
    const run = await measureQueue(`BullMQ (${persistence})`, options, async (i) => {
      const job = await queue.add('noop', { i });
      if (!job.id) throw new Error('BullMQ add returned a job without an id');
      return job.id;
    }, starts);
    if (failures.length > 0) throw new Error(`BullMQ reported ${failures.length} errors, first: ${String(failures[0])}`);
    return run;
  } finally {
    await worker.close();
    await queue.close();
    await connection.quit();
    await server.stop();
  }
}
