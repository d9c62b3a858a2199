import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { createDatabase, startPostgresCluster, type PostgresCluster } from '@airlock/testing';
import { openDataAccess, type DataAccess } from '../data-access';
import type { AuditActor } from './admin-audit.repository';

jest.setTimeout(60_000);

let cluster: PostgresCluster;
let data: DataAccess;
/** Reads what the repository wrote, beside it. */
let db: pg.Client;

beforeAll(async () => {
  cluster = await startPostgresCluster();
  const url = await createDatabase(cluster.url, 'worker_repository_it');
  data = await openDataAccess({ kind: 'url', url });
  db = new pg.Client({ connectionString: url });
  await db.connect();
});

afterAll(async () => {
  await db?.end();
  await data?.close();
  await cluster?.stop();
});

const actor: AuditActor = { kind: 'USER', id: '6f1d2c3b-4a59-4e8f-9b7a-0c1d2e3f4a5b', name: 'Ada Admin', sourceIp: '10.0.0.7' };

let tenantCounter = 0;
async function newTenant(): Promise<string> {
  tenantCounter += 1;
  return (await data.tenants.create(`worker-repository-${tenantCounter}`)).id;
}

/** A worker enrolled in the tenant by a token of its own, naming `pool`. */
async function enrolledWorker(tenantId: string, pool: string | null = null): Promise<string> {
  const tokenHash = randomBytes(32).toString('hex');
  await data.enrollment.createAuditedToken({ tenantId, tokenHash, expiresAt: new Date(Date.now() + 60_000), pool, actor, now: new Date() });
  const worker = await data.enrollment.enroll({ tokenHash, publicKey: randomBytes(32), version: '0.1.0', now: new Date() });
  return worker!.workerId;
}

const hello = (workerId: string, fields: { capacity?: number; labels?: string[]; policyRevision?: number; now?: Date; version?: string } = {}) => ({
  workerId,
  version: fields.version ?? '0.1.0',
  capacity: fields.capacity ?? 2,
  localPolicyDigest: Buffer.alloc(32, 7),
  labels: fields.labels ?? ['eu'],
  policyRevision: fields.policyRevision ?? 0,
  now: fields.now ?? new Date(),
});

async function openSessions(workerIds: readonly string[]): Promise<Array<{ workerId: string; capacity: number; since: Date }>> {
  const { rows } = await db.query<{ workerId: string; capacity: number; since: Date }>(
    'SELECT "workerId"::text AS "workerId", "capacity", "since" FROM "AnalyticsWorkerSession" WHERE "workerId" = ANY($1::uuid[]) ORDER BY "capacity"',
    [workerIds],
  );
  return rows;
}

describe('WorkerRepository, many workers at once', () => {
  it("touchMany answers each worker's standing in order, and records only the workers that are not revoked as heard from", async () => {
    const tenantId = await newTenant();
    const [active, draining, revoked] = [await enrolledWorker(tenantId), await enrolledWorker(tenantId), await enrolledWorker(tenantId)];
    await data.workers.setDraining({ tenantId, workerId: draining, draining: true, actor, now: new Date() });
    await data.workers.revoke({ tenantId, workerId: revoked, actor, now: new Date() });
    const heardAt = new Date(Date.now() + 5_000);

    const standings = await data.workers.touchMany([draining, active, revoked, randomUUID(), 'not-a-worker-id', active], heardAt);

    expect(standings).toEqual(['DRAINING', 'ACTIVE', 'REVOKED', 'REVOKED', 'REVOKED', 'ACTIVE']);
    const view = async (workerId: string) => data.workers.findForTenant(tenantId, workerId);
    expect(await view(active)).toMatchObject({ status: 'ONLINE', lastSeenAt: heardAt });
    expect(await view(draining)).toMatchObject({ status: 'ONLINE', lastSeenAt: heardAt });
    expect(await view(revoked)).toMatchObject({ status: 'OFFLINE', lastSeenAt: null });
    expect(await data.workers.touchMany([], heardAt)).toEqual([]);
  });

  it('standings and findIdentities answer in order, without recording anything', async () => {
    const tenantId = await newTenant();
    const [active, revoked] = [await enrolledWorker(tenantId), await enrolledWorker(tenantId)];
    await data.workers.revoke({ tenantId, workerId: revoked, actor, now: new Date() });
    const unknown = randomUUID();

    expect(await data.workers.standings([revoked, unknown, active])).toEqual(['REVOKED', 'REVOKED', 'ACTIVE']);
    const identities = await data.workers.findIdentities([active, unknown, revoked, 'nope']);
    expect(identities.map((identity) => identity && { id: identity.id, tenantId: identity.tenantId, revoked: identity.revoked })).toEqual([
      { id: active, tenantId, revoked: false },
      null,
      { id: revoked, tenantId, revoked: true },
      null,
    ]);
    expect(identities[0]?.publicKey).toHaveLength(32);
    expect(await data.workers.findForTenant(tenantId, active)).toMatchObject({ status: 'OFFLINE', lastSeenAt: null });
  });

  it('markOnlineMany records each Hello as markOnline does, in one transaction, and answers each in order', async () => {
    const tenantId = await newTenant();
    const [kept, moved, gpu, revoked] = [await enrolledWorker(tenantId), await enrolledWorker(tenantId), await enrolledWorker(tenantId, 'gpu'), await enrolledWorker(tenantId)];
    // Both applied revision 0 with a rule kept stricter: a Hello naming 0 keeps that, one naming 3 clears it.
    for (const workerId of [kept, moved]) await data.workers.recordPolicyApplied(workerId, { revision: 0, narrowedRules: ['max-files-changed'], now: new Date() });
    await data.workers.setDraining({ tenantId, workerId: gpu, draining: true, actor, now: new Date() });
    await data.workers.revoke({ tenantId, workerId: revoked, actor, now: new Date() });
    const at = new Date(Date.now() + 1_000);

    const connections = await data.workers.markOnlineMany([
      hello(kept, { capacity: 1, now: at, labels: [] }),
      hello(moved, { capacity: 2, policyRevision: 3, now: at, labels: ['eu', 'gpu'], version: '0.2.0' }),
      hello(revoked, { capacity: 9, now: at }),
      hello(gpu, { capacity: 3, now: at }),
      hello(randomUUID(), { now: at }),
    ]);

    expect(connections).toEqual([
      { kind: 'ONLINE', pool: null, draining: false },
      { kind: 'ONLINE', pool: null, draining: false },
      { kind: 'REVOKED' },
      { kind: 'ONLINE', pool: 'gpu', draining: true },
      { kind: 'REVOKED' },
    ]);
    expect(await data.workers.findForTenant(tenantId, moved)).toMatchObject({
      status: 'ONLINE',
      version: '0.2.0',
      capacity: 2,
      labels: ['eu', 'gpu'],
      lastSeenAt: at,
      localPolicyDigest: '07'.repeat(32),
      policyRevision: 3,
      policyAppliedAt: null,
      narrowedRules: [],
    });
    expect(await data.workers.findForTenant(tenantId, kept)).toMatchObject({ status: 'ONLINE', capacity: 1, labels: [], policyRevision: 0, narrowedRules: ['max-files-changed'] });
    expect((await data.workers.findForTenant(tenantId, kept))?.policyAppliedAt).toBeInstanceOf(Date);
    expect(await data.workers.findForTenant(tenantId, revoked)).toMatchObject({ status: 'OFFLINE', lastSeenAt: null, capacity: 0 });
    // Fleet utilisation counts each online worker's slots from its Hello (analytics), not the revoked one's.
    expect(await openSessions([kept, moved, gpu, revoked])).toEqual([
      { workerId: kept, capacity: 1, since: at },
      { workerId: moved, capacity: 2, since: at },
      { workerId: gpu, capacity: 3, since: at },
    ]);
    await data.workers.markOffline(moved, new Date(at.getTime() + 60_000));
    expect((await openSessions([moved])).length).toBe(0);
  });

  it('markOnlineMany records the last of two Hellos of one worker, answering both, and reopens its session at it', async () => {
    const tenantId = await newTenant();
    const workerId = await enrolledWorker(tenantId);
    const first = new Date(Date.now() + 1_000);
    const second = new Date(first.getTime() + 500);
    await data.workers.markOnline(workerId, hello(workerId, { capacity: 1, now: new Date() }));

    const connections = await data.workers.markOnlineMany([hello(workerId, { capacity: 2, now: first }), hello(workerId, { capacity: 4, now: second })]);

    expect(connections).toEqual([
      { kind: 'ONLINE', pool: null, draining: false },
      { kind: 'ONLINE', pool: null, draining: false },
    ]);
    expect(await data.workers.findForTenant(tenantId, workerId)).toMatchObject({ capacity: 4, lastSeenAt: second });
    expect(await openSessions([workerId])).toEqual([{ workerId, capacity: 4, since: second }]);
  });

  it('lets batches of Hellos and heartbeats over the same workers, in any order, run side by side without a deadlock', async () => {
    const tenantId = await newTenant();
    const workers = await Promise.all(Array.from({ length: 12 }, () => enrolledWorker(tenantId)));
    const shuffled = () => [...workers].sort(() => Math.random() - 0.5);
    for (let round = 0; round < 10; round += 1) {
      const now = new Date(Date.now() + round * 1_000);
      const outcomes = await Promise.all([
        data.workers.markOnlineMany(shuffled().map((workerId) => hello(workerId, { now }))),
        data.workers.touchMany(shuffled(), now),
        data.workers.touchMany([...workers].reverse(), now),
        data.workers.markOnlineMany([...workers].reverse().map((workerId) => hello(workerId, { now }))),
      ]);
      expect(outcomes[1]).toEqual(workers.map(() => 'ACTIVE'));
    }
    expect((await data.workers.listForTenant(tenantId, 100)).every((worker) => worker.status === 'ONLINE')).toBe(true);
  });
});
