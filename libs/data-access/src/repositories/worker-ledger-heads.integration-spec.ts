import { createHash, randomBytes } from 'node:crypto';
import { createDatabase, startPostgresCluster, type PostgresCluster } from '@airlock/testing';
import { openDataAccess, type DataAccess } from '../data-access';
import type { AuditActor } from './admin-audit.repository';

jest.setTimeout(60_000);

let cluster: PostgresCluster;
let data: DataAccess;

beforeAll(async () => {
  cluster = await startPostgresCluster();
  data = await openDataAccess({ kind: 'url', url: await createDatabase(cluster.url, 'worker_ledger_heads_it') });
});

afterAll(async () => {
  await data?.close();
  await cluster?.stop();
});

const actor: AuditActor = { kind: 'USER', id: '6f1d2c3b-4a59-4e8f-9b7a-0c1d2e3f4a5b', name: 'Ada Admin', sourceIp: '10.0.0.7' };
const FIVE_MINUTES = 5 * 60_000;

let tenantCounter = 0;
async function newTenant(): Promise<string> {
  tenantCounter += 1;
  return (await data.tenants.create(`ledger-heads-${tenantCounter}`)).id;
}

async function enrolledWorker(tenantId: string): Promise<string> {
  const tokenHash = randomBytes(32).toString('hex');
  await data.enrollment.createAuditedToken({ tenantId, tokenHash, expiresAt: new Date(Date.now() + 60_000), actor, now: new Date() });
  return (await data.enrollment.enroll({ tokenHash, publicKey: randomBytes(32), version: '0.1.0', now: new Date() }))!.workerId;
}

/** A stand-in chain hash for line `seq` of a worker's log (any 32 bytes do for the repository). */
const hashOf = (seq: number, fork = '') => createHash('sha256').update(`line ${seq}${fork}`).digest();
const at = (ms: number) => new Date(Date.UTC(2026, 10, 30, 12, 0, 0) + ms);

describe('WorkerRepository ledger heads', () => {
  it('keeps the latest head, and a checkpoint when the last one is old enough', async () => {
    const tenantId = await newTenant();
    const workerId = await enrolledWorker(tenantId);

    expect(await data.workers.recordLedgerHeads([{ workerId, seq: 3, head: hashOf(3) }], at(0), FIVE_MINUTES)).toEqual(['RECORDED']);
    expect(await data.workers.recordLedgerHeads([{ workerId, seq: 9, head: hashOf(9) }], at(60_000), FIVE_MINUTES)).toEqual(['RECORDED']);
    expect(await data.workers.recordLedgerHeads([{ workerId, seq: 20, head: hashOf(20) }], at(FIVE_MINUTES), FIVE_MINUTES)).toEqual(['RECORDED']);

    const heads = await data.workers.ledgerHeads(tenantId, workerId, 100);
    expect(heads?.latest).toEqual({ seq: 20, head: hashOf(20), receivedAt: at(FIVE_MINUTES) });
    // seq 9 came a minute after the first checkpoint: only the latest head moved.
    expect(heads?.checkpoints).toEqual([
      { seq: 3, head: hashOf(3), receivedAt: at(0) },
      { seq: 20, head: hashOf(20), receivedAt: at(FIVE_MINUTES) },
    ]);
  });

  it('refuses a head that goes back or rewrites the line it names, and keeps the last consistent one', async () => {
    const tenantId = await newTenant();
    const workerId = await enrolledWorker(tenantId);
    await data.workers.recordLedgerHeads([{ workerId, seq: 50, head: hashOf(50) }], at(0), FIVE_MINUTES);

    const verdicts = await data.workers.recordLedgerHeads(
      [
        { workerId, seq: 50, head: hashOf(50) },
        { workerId, seq: 50, head: hashOf(50, 'rewritten') },
        { workerId, seq: 12, head: hashOf(12) },
      ],
      at(1000),
      FIVE_MINUTES,
    );
    expect(verdicts).toEqual(['UNCHANGED', 'FORKED', 'REGRESSED']);
    expect((await data.workers.ledgerHeads(tenantId, workerId, 100))?.latest).toEqual({ seq: 50, head: hashOf(50), receivedAt: at(0) });
  });

  it('judges a batch of many workers in one call, each against its own head, in order', async () => {
    const tenantId = await newTenant();
    const [first, second] = [await enrolledWorker(tenantId), await enrolledWorker(tenantId)];
    const verdicts = await data.workers.recordLedgerHeads(
      [
        { workerId: first, seq: 4, head: hashOf(4) },
        { workerId: second, seq: 7, head: hashOf(7) },
        { workerId: first, seq: 6, head: hashOf(6) },
        { workerId: first, seq: 5, head: hashOf(5) },
        { workerId: '00000000-0000-4000-8000-000000000000', seq: 1, head: hashOf(1) },
        { workerId: second, seq: 8, head: Buffer.alloc(31) },
      ],
      at(0),
      FIVE_MINUTES,
    );
    expect(verdicts).toEqual(['RECORDED', 'RECORDED', 'RECORDED', 'REGRESSED', 'UNKNOWN', 'UNKNOWN']);
    expect((await data.workers.ledgerHeads(tenantId, first, 100))?.latest?.seq).toBe(6);
    expect((await data.workers.ledgerHeads(tenantId, second, 100))?.latest?.seq).toBe(7);
  });

  it("answers only the worker's own tenant, and at most the newest checkpoints asked for", async () => {
    const tenantId = await newTenant();
    const workerId = await enrolledWorker(tenantId);
    for (let minute = 0; minute < 4; minute += 1) {
      await data.workers.recordLedgerHeads([{ workerId, seq: minute + 1, head: hashOf(minute + 1) }], at(minute * FIVE_MINUTES), FIVE_MINUTES);
    }
    expect((await data.workers.ledgerHeads(tenantId, workerId, 2))?.checkpoints.map((checkpoint) => checkpoint.seq)).toEqual([3, 4]);
    expect(await data.workers.ledgerHeads(await newTenant(), workerId, 2)).toBeNull();
  });
});
