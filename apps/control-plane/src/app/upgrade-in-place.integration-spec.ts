import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { applyMigrations, MIGRATIONS_DIR, parsePostgresUrl } from '@airlock/data-access';
import { InstructionVerifier, MemoryNonceStore } from '@airlock/envelope';
import { decodeInstructionPayload, type EnrollResponse__Output, type WorkerGatewayClient } from '@airlock/protocol';
import { createDatabase, startNatsServer, startPostgresCluster, type NatsServer, type PostgresCluster } from '@airlock/testing';
import { createTenantWithAdminToken } from '../test-support/tenant.fixture';
import { testAppConfig } from '../test-support/test-app-config';
import { eventually, gatewayClient, succeededResult, TestWorker } from '../test-support/test-worker';
import { startControlPlane, type RunningControlPlane } from './control-plane';
import type { JobDetailResponse, JobResponse } from './jobs/dto/job.response';

/*
 * An upgrade in place (docs/operations/upgrade.md): a database on the schema of an earlier
 * release — every committed migration but the newest RELEASES_BEHIND — holding that release's
 * data, and two replicas of the current control plane started on it at the same moment. They
 * must apply the newer migrations once between them and serve the old data, and a worker
 * enrolled before the upgrade must still connect and verify what it is sent with the key it
 * pinned then.
 *
 * The earlier release's data: a control plane made it through its API and a worker's stream
 * (on a database of the current schema), and every row was then copied into the earlier
 * schema, column by column as that schema has them. The migrations since only add (columns
 * with defaults or nullable, tables, indexes, and derived values), so those rows are what the
 * earlier release itself would have written for the same requests.
 */

jest.setTimeout(180_000);

const RELEASES_BEHIND = 3;

let cluster: PostgresCluster;
let nats: NatsServer;
let scratch: string;
const running: RunningControlPlane[] = [];
const clients: WorkerGatewayClient[] = [];

beforeAll(async () => {
  [cluster, nats] = await Promise.all([startPostgresCluster(), startNatsServer()]);
  scratch = await mkdtemp(path.join(tmpdir(), 'airlock-upgrade-'));
});

afterAll(async () => {
  for (const client of clients) client.close();
  for (const controlPlane of running) await controlPlane.stop();
  await Promise.all([cluster?.stop(), nats?.stop()]);
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function committedMigrations(): Promise<string[]> {
  return (await readdir(MIGRATIONS_DIR, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
}

/** A folder with the committed migrations but the newest `behind`, for the runner to apply: the earlier release's schema. */
async function migrationsOfEarlierRelease(behind: number): Promise<string> {
  const dir = path.join(scratch, 'earlier-release-migrations');
  for (const name of (await committedMigrations()).slice(0, -behind)) await cp(path.join(MIGRATIONS_DIR, name), path.join(dir, name), { recursive: true });
  return dir;
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(parsePostgresUrl(url));
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/**
 * Copies every row of every table the target's (earlier) schema has from the source, keeping
 * the columns the target has, and carries the sequences over. Foreign keys are not checked
 * while copying (session_replication_role), since the rows arrive table by table.
 */
async function copyRowsIntoEarlierSchema(sourceUrl: string, targetUrl: string): Promise<Record<string, number>> {
  const copied: Record<string, number> = {};
  await withClient(sourceUrl, (source) =>
    withClient(targetUrl, async (target) => {
      const tables = (await target.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> '_prisma_migrations' ORDER BY tablename")).rows;
      await target.query('BEGIN');
      await target.query('SET LOCAL session_replication_role = replica');
      for (const { tablename } of tables) {
        const rows = (await source.query<{ row: unknown }>(`SELECT to_jsonb(t) AS row FROM "${tablename}" t`)).rows.map((r) => r.row);
        if (rows.length === 0) continue;
        await target.query(`INSERT INTO "${tablename}" SELECT * FROM jsonb_populate_recordset(NULL::"${tablename}", $1::jsonb)`, [JSON.stringify(rows)]);
        copied[tablename] = rows.length;
      }
      const sequences = (await source.query<{ name: string; last: string | null }>("SELECT sequencename AS name, last_value::text AS last FROM pg_sequences WHERE schemaname = 'public'")).rows;
      for (const { name, last } of sequences) if (last !== null) await target.query(`SELECT setval('"${name}"', $1::bigint)`, [last]);
      await target.query('COMMIT');
    }),
  );
  return copied;
}

type Body = Record<string, unknown>;

async function api<T = Body>(controlPlane: RunningControlPlane, token: string, method: string, route: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${controlPlane.httpUrl}/api/v1${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as T };
}


async function runNextJob(worker: TestWorker): Promise<{ jobId: string; attempt: number }> {
  const before = worker.instructions().length;
  const acksBefore = worker.resultAcks().length;
  worker.send({ credit: { credits: 1 } });
  const instruction = await eventually(() => worker.instructions()[before], 'an instruction', 20_000);
  const { jobId, attempt } = decodeInstructionPayload(instruction.payload);
  worker.send({ ack: { attempt: { jobId, attempt } } });
  worker.send(succeededResult(jobId, attempt));
  expect((await eventually(() => worker.resultAcks()[acksBefore], 'result ack')).disposition).toBe('RESULT_DISPOSITION_RECORDED');
  return { jobId, attempt };
}

interface AuditEntryBody {
  seq: number;
  action: string;
  hash: string;
}

describe(`an upgrade in place from the schema ${RELEASES_BEHIND} migrations behind`, () => {
  it('applies the newer migrations once while two replicas start together, serves the old data, and the old worker still connects', async () => {
    const all = await committedMigrations();
    const newer = all.slice(-RELEASES_BEHIND);

    // The earlier release's database: its schema, then its data.
    const earlierUrl = await createDatabase(cluster.url, 'earlier_release');
    expect(await applyMigrations(parsePostgresUrl(earlierUrl), await migrationsOfEarlierRelease(RELEASES_BEHIND))).toEqual(all.slice(0, -RELEASES_BEHIND));

    const sourceUrl = await createDatabase(cluster.url, 'earlier_release_source');
    const source = await startControlPlane(testAppConfig(sourceUrl));
    const sourceClient = gatewayClient(source.grpcAddress);
    clients.push(sourceClient);
    const { token } = await createTenantWithAdminToken(source.dataAccess, 'upgrade-drill');
    const worker = new TestWorker(sourceClient);
    const pinned: EnrollResponse__Output = await worker.enroll((await api<{ token: string }>(source, token, 'POST', '/enrollment-tokens', {})).body.token);
    await worker.connect({ capacity: 2 });
    await eventually(() => worker.received.find((f) => f.frame === 'welcome'), 'welcome');
    const policy = await api<{ id: string }>(source, token, 'POST', '/policies', { name: 'baseline', document: { schemaVersion: 1, rules: { 'max-files-changed': { max: 10 } } } });
    expect((await api(source, token, 'POST', `/policies/${policy.body.id}/versions/1/publish`, { scope: 'tenant', mode: 'enforce' })).status).toBe(200);
    for (let n = 0; n < 2; n += 1) {
      await api(source, token, 'POST', '/jobs', { kind: 'noop' });
      await runNextJob(worker);
    }
    expect((await api(source, token, 'POST', `/workers/${worker.workerId}/drain`)).status).toBe(200);
    const queuedBeforeUpgrade = (await api<JobDetailResponse>(source, token, 'POST', '/jobs', { kind: 'noop' })).body.id;
    const jobsBefore = (await api<JobResponse[]>(source, token, 'GET', '/jobs?limit=100')).body;
    const auditBefore = (await api<AuditEntryBody[]>(source, token, 'GET', '/audit-log?limit=500')).body;
    worker.close();
    await source.stop();
    const copied = await copyRowsIntoEarlierSchema(sourceUrl, earlierUrl);
    expect(copied).toMatchObject({ Job: 3, Worker: 1, SigningKey: 1, AdminAuditEntry: auditBefore.length });

    // The upgrade: two replicas of the current release, started at the same moment.
    const upgradeStarted = new Date();
    const vars = { AIRLOCK_NATS_URL: nats.url, AIRLOCK_LEASE_TTL: '5s', AIRLOCK_HEARTBEAT_INTERVAL: '1s' };
    const replicas = await Promise.all([startControlPlane(testAppConfig(earlierUrl, vars)), startControlPlane(testAppConfig(earlierUrl, vars))]);
    const upgradeMs = Date.now() - upgradeStarted.getTime();
    running.push(...replicas);
    const [first, second] = replicas as [RunningControlPlane, RunningControlPlane];

    const recorded = await withClient(earlierUrl, async (client) =>
      (await client.query<{ migration_name: string; finished_at: Date }>('SELECT migration_name, finished_at FROM "_prisma_migrations" ORDER BY migration_name')).rows,
    );
    expect(recorded.map((row) => row.migration_name)).toEqual(all);
    for (const row of recorded.filter((r) => newer.includes(r.migration_name))) expect(row.finished_at.getTime()).toBeGreaterThanOrEqual(upgradeStarted.getTime() - 1_000);

    for (const replica of replicas) {
      expect((await api<JobResponse[]>(replica, token, 'GET', '/jobs?limit=100')).body).toEqual(jobsBefore);
      expect((await api(replica, token, 'GET', '/audit-log/verify')).body).toEqual({ ok: true, entries: auditBefore.length });
    }
    expect((await api<AuditEntryBody[]>(second, token, 'GET', '/audit-log?limit=500')).body).toEqual(auditBefore);

    // The worker enrolled before the upgrade connects to one replica; an admin undrains it through the other.
    const firstClient = gatewayClient(first.grpcAddress);
    clients.push(firstClient);
    worker.useClient(firstClient);
    const welcomes = worker.received.filter((f) => f.frame === 'welcome').length;
    await worker.connect({ capacity: 2 });
    await eventually(() => (worker.received.filter((f) => f.frame === 'welcome').length > welcomes ? true : undefined), 'welcome after the upgrade');
    expect((await api<{ draining: boolean }>(second, token, 'POST', `/workers/${worker.workerId}/undrain`)).body.draining).toBe(false);

    const instructionsBefore = worker.instructions().length;
    const ran = await runNextJob(worker);
    expect(ran).toEqual({ jobId: queuedBeforeUpgrade, attempt: 1 });
    const verifier = new InstructionVerifier({
      trustedKeys: new Map(pinned.signingKeys.map((key) => [key.keyId, key.publicKey])),
      workerId: worker.workerId,
      tenantId: worker.tenantId,
      clock: Date.now,
      maxClockSkewMs: 30_000,
      maxValidityWindowMs: 3_600_000,
      nonceStore: new MemoryNonceStore(Date.now),
    });
    expect(verifier.verify(worker.instructions()[instructionsBefore]!)).toMatchObject({ ok: true, payload: { jobId: queuedBeforeUpgrade } });
    expect(worker.frameRefusals).toEqual([]);
    expect((await api<JobDetailResponse>(second, token, 'GET', `/jobs/${queuedBeforeUpgrade}`)).body).toMatchObject({ status: 'SUCCEEDED', currentAttempt: 1 });
    worker.close();
    process.stdout.write(`upgrade-in-place: ${all.length - RELEASES_BEHIND} migrations before; two replicas started together applied ${newer.join(', ')} and were ready in ${upgradeMs} ms (this machine)\n`);
  });
});
