import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { startLocalStack, type LocalStack, type WorkerHandle } from '@airlock/local-stack';
import { createDatabase, startNatsServer, startPostgresCluster, type NatsServer, type PostgresCluster } from '@airlock/testing';

/**
 * Exactly one end for every job, under every fault: three control-plane replicas behind one
 * address share a real PostgreSQL and a real nats-server; workers take a steady stream of
 * no-op jobs while, in turn, a replica is killed, a replica is drained (SIGTERM), NATS
 * restarts, PostgreSQL restarts, a worker is cut off past its lease and comes back, a worker
 * is killed mid-job, and NATS restarts with its JetStream store wiped. Afterwards every job the producer created, and every job in the
 * database, has exactly one terminal state and at most one recorded result.
 */
const WORKERS = 4;
const SLOTS_PER_WORKER = 4;
const JOBS_PER_SECOND = 10;
const LEASE_TTL_MS = 3_000;
/** The pool only the worker that is cut off serves. */
const PARTITIONED_POOL = 'partitioned';

jest.setTimeout(600_000);

describe('three replicas on NATS JetStream under faults', () => {
  let cluster: PostgresCluster;
  let nats: NatsServer;
  let stack: LocalStack;
  let baseDir: string;
  let databaseUrl: string;
  const workers: WorkerHandle[] = [];

  beforeAll(async () => {
    [cluster, nats] = await Promise.all([startPostgresCluster(), startNatsServer()]);
    databaseUrl = await createDatabase(cluster.url, 'e2e_replicas_faults');
    baseDir = mkdtempSync(join(tmpdir(), 'airlock-e2e-replicas-'));
    stack = await startLocalStack({
      baseDir,
      canary: 'replicas-faults',
      databaseUrl,
      replicas: { count: 3, natsUrl: nats.url },
      leaseTtl: `${LEASE_TTL_MS}ms`,
      heartbeatInterval: '500ms',
      workerConcurrency: SLOTS_PER_WORKER,
      allowNoop: true,
      controlPlaneEnv: { LOG_LEVEL: 'warn', AIRLOCK_GRPC_KEEPALIVE_TIME: '1s', AIRLOCK_GRPC_KEEPALIVE_TIMEOUT: '1s' },
    });
    workers.push(stack.worker);
    // The second worker is also the one worker of a pool, so that jobs can be sent to it alone while it is cut off.
    for (let index = 1; index < WORKERS; index += 1) workers.push(await stack.addWorker(`worker-${index + 1}`, index === 1 ? { labels: [PARTITIONED_POOL] } : {}));
  });

  afterAll(async () => {
    await stack?.stop();
    await Promise.all([cluster?.stop(), nats?.stop()]);
    if (process.env['AIRLOCK_E2E_KEEP'] === undefined && baseDir) rmSync(baseDir, { recursive: true, force: true });
  });

  it('ends every job exactly once while replicas, NATS, PostgreSQL and workers fail in turn', async () => {
    const created: string[] = [];
    let creationFailures = 0;
    let producing = true;
    // The steady stream: a job every 1/JOBS_PER_SECOND s; a request a fault cut off is made again.
    const producer = (async () => {
      while (producing) {
        const started = Date.now();
        try {
          created.push((await stack.api.createNoopJob()).id);
        } catch {
          creationFailures += 1;
        }
        await sleep(Math.max(0, 1000 / JOBS_PER_SECOND - (Date.now() - started)));
      }
    })();
    const phase = async (name: string, fault: () => Promise<void>): Promise<void> => {
      await sleep(3_000);
      const before = created.length;
      await fault();
      await sleep(3_000);
      process.stdout.write(`fault: ${name} (jobs created so far ${created.length}, ${created.length - before} during it)\n`);
    };

    await phase('a replica killed with SIGKILL, then started again', async () => {
      await stack.controlPlane.replicas[1]!.kill();
      await sleep(2_000);
      await stack.controlPlane.replicas[1]!.restart();
    });
    await phase('a replica drained (SIGTERM), then started again', async () => {
      await stack.controlPlane.replicas[2]!.drain();
      await sleep(1_000);
      await stack.controlPlane.replicas[2]!.restart();
    });
    await phase('NATS restarted (store kept)', () => nats.restart());
    await phase('PostgreSQL restarted', async () => {
      await cluster.stopServer();
      await sleep(1_000);
      await cluster.startServer();
    });
    const sentToPartitioned: string[] = [];
    await phase('a worker cut off past its lease, then back', async () => {
      workers[1]!.process.signal('SIGSTOP');
      // Jobs only it may run, dispatched to it before its stream is seen dead (keepalive, 1-2 s):
      // each attempt's lease runs out while it is stopped, and the job must go to it again.
      for (let index = 0; index < 4; index += 1) sentToPartitioned.push((await stack.api.createNoopJob(PARTITIONED_POOL)).id);
      created.push(...sentToPartitioned);
      await sleep(LEASE_TTL_MS + 2_000);
      workers[1]!.process.signal('SIGCONT');
    });
    await phase('a worker killed mid-job, then started again', async () => {
      workers[2]!.process.signal('SIGKILL');
      await workers[2]!.process.waitForExit();
      await sleep(1_000);
      workers[2] = await stack.addWorker('worker-replacement');
    });
    await phase('NATS restarted with its JetStream store wiped', () => nats.restart({ wipeStore: true }));

    producing = false;
    await producer;
    const database = new Client({ connectionString: databaseUrl });
    await database.connect();
    try {
      const deadline = Date.now() + 120_000;
      let open = -1;
      while (Date.now() < deadline) {
        open = Number((await database.query(`SELECT count(*) FROM "Job" WHERE "status" NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED')`)).rows[0].count);
        if (open === 0) break;
        await sleep(500);
      }
      const rows = (
        await database.query<{ id: string; status: string; attempts: string; results: string; stale: string }>(`
          SELECT j."id", j."status"::text AS "status",
                 (SELECT count(*) FROM "JobAttempt" a WHERE a."jobId" = j."id") AS "attempts",
                 (SELECT count(*) FROM "JobEvent" e WHERE e."jobId" = j."id" AND e."type" = 'RESULT_RECORDED') AS "results",
                 (SELECT count(*) FROM "JobEvent" e WHERE e."jobId" = j."id" AND e."type" = 'STALE_RESULT_REJECTED') AS "stale"
          FROM "Job" AS j`)
      ).rows;
      const byStatus = countBy(rows.map((row) => row.status));
      const inDatabase = new Set(rows.map((row) => row.id));
      const lost = created.filter((id) => !inDatabase.has(id));
      const twice = rows.filter((row) => Number(row.results) > 1);
      const retried = rows.filter((row) => Number(row.attempts) > 1).length;
      const partitioned = rows.filter((row) => sentToPartitioned.includes(row.id));
      const staleRefused = rows.reduce((sum, row) => sum + Number(row.stale), 0);
      process.stdout.write(
        [
          `jobs created by the producer: ${created.length} (requests cut off by a fault and made again: ${creationFailures})`,
          `jobs in the database: ${rows.length}; by status: ${JSON.stringify(byStatus)}`,
          `still open: ${open}; lost: ${lost.length}; with more than one recorded result: ${twice.length}`,
          `jobs that needed more than one attempt: ${retried}; stale results refused (fenced attempts): ${staleRefused}`,
          `jobs sent to the cut-off worker's pool: ${partitioned.length}, by status ${JSON.stringify(countBy(partitioned.map((row) => row.status)))}, attempts ${partitioned.map((row) => row.attempts).join(', ')}`,
          '',
        ].join('\n'),
      );
      expect(open).toBe(0);
      expect(lost).toEqual([]);
      expect(twice).toEqual([]);
      expect(Object.keys(byStatus).every((status) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(status))).toBe(true);
      expect(created.length).toBeGreaterThan(200);
      // No-op jobs fail only by running out of attempts; the faults here should never cost a job that.
      expect(byStatus['SUCCEEDED']).toBe(rows.length);
      // The partition cost those jobs an attempt each (fenced, then run again once the worker was back), and nothing more.
      expect(partitioned).toHaveLength(sentToPartitioned.length);
      expect(partitioned.filter((row) => Number(row.attempts) > 1).length).toBeGreaterThanOrEqual(1);
    } finally {
      await database.end();
    }
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
