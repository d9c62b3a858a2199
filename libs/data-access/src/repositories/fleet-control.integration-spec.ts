import { randomBytes } from 'node:crypto';
import { createDatabase, startPostgresCluster, type PostgresCluster } from '@airlock/testing';
import { openDataAccess, type DataAccess } from '../data-access';
import type { AuditActor } from './admin-audit.repository';

jest.setTimeout(60_000);

let cluster: PostgresCluster;
let data: DataAccess;

beforeAll(async () => {
  cluster = await startPostgresCluster();
  data = await openDataAccess({ kind: 'url', url: await createDatabase(cluster.url, 'fleet_control_it') });
});

afterAll(async () => {
  await data?.close();
  await cluster?.stop();
});

const actor: AuditActor = { kind: 'USER', id: '6f1d2c3b-4a59-4e8f-9b7a-0c1d2e3f4a5b', name: 'Ada Admin', sourceIp: '10.0.0.7' };

let tenantCounter = 0;
async function newTenant(): Promise<string> {
  tenantCounter += 1;
  return (await data.tenants.create(`fleet-control-${tenantCounter}`)).id;
}

const newTokenHash = () => randomBytes(32).toString('hex');
const inAMinute = () => new Date(Date.now() + 60_000);

/** A worker enrolled in the tenant by a token of its own, naming `pool`. */
async function enrolledWorker(tenantId: string, pool: string | null = null): Promise<string> {
  const tokenHash = newTokenHash();
  await data.enrollment.createAuditedToken({ tenantId, tokenHash, expiresAt: inAMinute(), pool, actor, now: new Date() });
  const worker = await data.enrollment.enroll({ tokenHash, publicKey: randomBytes(32), version: '0.1.0', now: new Date() });
  return worker!.workerId;
}

const hello = (now = new Date()) => ({ version: '0.1.0', capacity: 2, localPolicyDigest: Buffer.alloc(32, 7), labels: ['eu'], policyRevision: 0, now });

describe('EnrollmentRepository', () => {
  it('enrolls the worker into the pool its token names, and records who created the token', async () => {
    const tenantId = await newTenant();
    const tokenHash = newTokenHash();
    const created = await data.enrollment.createAuditedToken({ tenantId, tokenHash, expiresAt: inAMinute(), pool: 'gpu', actor, now: new Date() });
    expect(created.pool).toBe('gpu');
    const enrolled = await data.enrollment.enroll({ tokenHash, publicKey: randomBytes(32), version: '0.1.0', now: new Date() });
    expect(enrolled).toMatchObject({ tenantId, pool: 'gpu' });
    expect((await data.workers.findForTenant(tenantId, enrolled!.workerId))?.pool).toBe('gpu');
    const [listed] = await data.enrollment.listForTenant(tenantId, 10, new Date());
    expect(listed).toMatchObject({ id: created.id, state: 'USED', pool: 'gpu', workerId: enrolled!.workerId, createdByName: 'Ada Admin' });
  });

  it('tells an unused token ACTIVE until it expires, and a revoked or used one by that whatever the time', async () => {
    const tenantId = await newTenant();
    const created = await data.enrollment.createAuditedToken({ tenantId, tokenHash: newTokenHash(), expiresAt: inAMinute(), actor, now: new Date() });
    const inTwoMinutes = new Date(Date.now() + 120_000);
    expect((await data.enrollment.listForTenant(tenantId, 10, new Date()))[0]?.state).toBe('ACTIVE');
    expect((await data.enrollment.listForTenant(tenantId, 10, inTwoMinutes))[0]?.state).toBe('EXPIRED');
    const revoked = await data.enrollment.revokeAudited({ tenantId, tokenId: created.id, actor, now: new Date() });
    expect(revoked).toMatchObject({ kind: 'REVOKED', token: { state: 'REVOKED' } });
    expect((await data.enrollment.listForTenant(tenantId, 10, inTwoMinutes))[0]?.state).toBe('REVOKED');
    expect(await data.enrollment.revokeAudited({ tenantId, tokenId: created.id, actor, now: new Date() })).toMatchObject({ kind: 'ALREADY_REVOKED' });
    expect(await data.enrollment.revokeAudited({ tenantId: await newTenant(), tokenId: created.id, actor, now: new Date() })).toBeNull();
    // Created and revoked once: revoking again appended nothing.
    expect(await data.audit.verify(tenantId)).toEqual({ ok: true, entries: 2 });
  });

  it('lets exactly one of an enrollment and a revocation of the same token win', async () => {
    const tenantId = await newTenant();
    for (let round = 0; round < 10; round += 1) {
      const tokenHash = newTokenHash();
      const token = await data.enrollment.createAuditedToken({ tenantId, tokenHash, expiresAt: inAMinute(), actor, now: new Date() });
      const [enrolled, revocation] = await Promise.all([
        data.enrollment.enroll({ tokenHash, publicKey: randomBytes(32), version: '0.1.0', now: new Date() }),
        data.enrollment.revokeAudited({ tenantId, tokenId: token.id, actor, now: new Date() }),
      ]);
      if (enrolled) expect(revocation).toMatchObject({ kind: 'ALREADY_USED', token: { state: 'USED', workerId: enrolled.workerId } });
      else expect(revocation).toMatchObject({ kind: 'REVOKED' });
    }
    const workers = await data.workers.listForTenant(tenantId, 100);
    const tokens = await data.enrollment.listForTenant(tenantId, 100, new Date());
    expect(tokens.filter((token) => token.state === 'USED').map((token) => token.workerId).sort()).toEqual(workers.map((worker) => worker.id).sort());
    expect(tokens.every((token) => token.state === 'USED' || token.state === 'REVOKED')).toBe(true);
  });
});

describe('WorkerRepository', () => {
  it('marks offline only the online workers no replica heard from since the cutoff, and online again one heard from later', async () => {
    const tenantId = await newTenant();
    const [silent, heard] = [await enrolledWorker(tenantId), await enrolledWorker(tenantId)];
    const longAgo = new Date(Date.now() - 120_000);
    await data.workers.markOnline(silent, hello(longAgo));
    await data.workers.markOnline(heard, hello(longAgo));
    await data.workers.touch(heard, new Date());

    expect(await data.workers.markStaleOffline(new Date(Date.now() - 60_000))).toBeGreaterThanOrEqual(1);
    const statusOf = async (workerId: string) => (await data.workers.findForTenant(tenantId, workerId))?.status;
    expect([await statusOf(silent), await statusOf(heard)]).toEqual(['OFFLINE', 'ONLINE']);
    // Heard from again (its stream was only paused): online again.
    await data.workers.touch(silent, new Date());
    expect(await statusOf(silent)).toBe('ONLINE');
  });

  it('leaves a revoked worker offline whatever its Hello says, and tells heartbeats it is revoked', async () => {
    const tenantId = await newTenant();
    const workerId = await enrolledWorker(tenantId, 'gpu');
    expect(await data.workers.markOnline(workerId, hello())).toEqual({ kind: 'ONLINE', pool: 'gpu', draining: false });
    expect(await data.workers.touch(workerId, new Date())).toBe('ACTIVE');
    await data.workers.markOffline(workerId, new Date());

    expect(await data.workers.revoke({ tenantId, workerId, actor, now: new Date() })).toMatchObject({ kind: 'REVOKED' });
    const lastSeen = (await data.workers.findForTenant(tenantId, workerId))?.lastSeenAt;
    expect(await data.workers.markOnline(workerId, hello(new Date(Date.now() + 1_000)))).toEqual({ kind: 'REVOKED' });
    expect(await data.workers.touch(workerId, new Date(Date.now() + 2_000))).toBe('REVOKED');
    expect(await data.workers.findForTenant(tenantId, workerId)).toMatchObject({ status: 'OFFLINE', lastSeenAt: lastSeen });
    expect((await data.workers.findIdentity(workerId))?.revoked).toBe(true);
    const again = await data.workers.revoke({ tenantId, workerId, actor, now: new Date() });
    expect(again?.kind).toBe('ALREADY_REVOKED');
    expect(await data.workers.revoke({ tenantId: await newTenant(), workerId, actor, now: new Date() })).toBeNull();
  });

  it("ends the leases of a revoked worker's live attempts only, so that expiring them requeues their jobs", async () => {
    const tenantId = await newTenant();
    const workerId = await enrolledWorker(tenantId);
    const job = await data.jobs.create(tenantId, { kind: 'NOOP' }, 3, new Date());
    const farAway = new Date(Date.now() + 3_600_000);
    await data.jobs.claimQueued({ tenantId, workerId, candidates: [{ jobId: job.id, expectedCurrentAttempt: 0 }], leaseExpiresAt: farAway, now: new Date() }).then((claims) => claims[0] ?? null);
    expect(await data.workers.endLeasesOfRevoked(workerId, new Date())).toEqual([]);
    expect((await data.workers.findForTenant(tenantId, workerId))?.activeAttempts).toBe(1);

    await data.workers.revoke({ tenantId, workerId, actor, now: new Date() });
    const now = new Date();
    const ended = await data.workers.endLeasesOfRevoked(workerId, now);
    expect(ended).toEqual([{ jobId: job.id, attempt: 1 }]);
    expect(await data.jobs.expireLease(ended[0]!, now)).toMatchObject({ jobId: job.id, requeued: true, status: 'QUEUED' });
    expect((await data.workers.findForTenant(tenantId, workerId))?.activeAttempts).toBe(0);
    expect(await data.workers.endLeasesOfRevoked(workerId, new Date())).toEqual([]);
  });

  it('drains and undrains, audited once per change, and not a revoked worker', async () => {
    const tenantId = await newTenant();
    const workerId = await enrolledWorker(tenantId);
    const entriesBefore = (await data.audit.verify(tenantId)).entries;
    expect(await data.workers.setDraining({ tenantId, workerId, draining: true, actor, now: new Date() })).toEqual({ kind: 'CHANGED' });
    expect(await data.workers.setDraining({ tenantId, workerId, draining: true, actor, now: new Date() })).toEqual({ kind: 'UNCHANGED' });
    expect(await data.workers.standing(workerId)).toBe('DRAINING');
    expect(await data.workers.markOnline(workerId, hello())).toMatchObject({ kind: 'ONLINE', draining: true });
    expect(await data.workers.touch(workerId, new Date())).toBe('DRAINING');
    expect(await data.workers.setDraining({ tenantId, workerId, draining: false, actor, now: new Date() })).toEqual({ kind: 'CHANGED' });
    expect(await data.workers.standing(workerId)).toBe('ACTIVE');
    expect(await data.audit.verify(tenantId)).toEqual({ ok: true, entries: entriesBefore + 2 });

    await data.workers.revoke({ tenantId, workerId, actor, now: new Date() });
    expect(await data.workers.setDraining({ tenantId, workerId, draining: true, actor, now: new Date() })).toEqual({ kind: 'REVOKED' });
    expect(await data.workers.setDraining({ tenantId: await newTenant(), workerId, draining: true, actor, now: new Date() })).toBeNull();
  });

  it('finds a worker of its tenant only, with the level of its last recorded result', async () => {
    const tenantId = await newTenant();
    const workerId = await enrolledWorker(tenantId);
    expect(await data.workers.findForTenant(await newTenant(), workerId)).toBeNull();
    expect(await data.workers.findForTenant(tenantId, workerId)).toMatchObject({ lastResultMetadataLevel: null, appliedRevisionLayers: [], localPolicyDigest: null });

    const job = await data.jobs.create(tenantId, { kind: 'NOOP' }, 3, new Date());
    await data.jobs.claimQueued({ tenantId, workerId, candidates: [{ jobId: job.id, expectedCurrentAttempt: 0 }], leaseExpiresAt: inAMinute(), now: new Date() }).then((claims) => claims[0] ?? null);
    await data.jobs.recordResult(
      { workerId, jobId: job.id, attempt: 1 },
      {
        outcome: 'JOB_OUTCOME_SUCCEEDED', failureCode: null, failedPhase: null, phaseDurations: [],
        tokens: { requests: 0, promptTokens: 0, completionTokens: 0 },
        change: { filesChanged: 0, linesAdded: 0, linesRemoved: 0, editsProposed: 0, editsApplied: 0 },
        verification: {
          testsRan: false, testExitCode: 0, baseTestsRan: false, baseTestExitCode: 0, baseReportRead: false, reportRead: false,
          testsBefore: 0, failingBefore: 0, testsAfter: 0, failingAfter: 0, testsFixed: 0, testsRegressed: 0, agentTestRuns: 0, reproductionAdded: false,
        },
        contextFiles: 0, changeMac: null, deliveryMac: null, metadataLevel: 'METADATA_LEVEL_STANDARD_BUCKETED',
      },
      new Date(),
    );
    await data.workers.markOnline(workerId, hello());
    expect(await data.workers.findForTenant(tenantId, workerId)).toMatchObject({ lastResultMetadataLevel: 'METADATA_LEVEL_STANDARD_BUCKETED', localPolicyDigest: '07'.repeat(32) });
  });
});
