import { createDatabase, startPostgresCluster, type PostgresCluster } from '@airlock/testing';
import { openDataAccess, type DataAccess } from './data-access';
import { applyMigrations } from './migrations/migration-runner';
import { parsePostgresUrl } from './postgres/postgres-connection';

jest.setTimeout(60_000);

let cluster: PostgresCluster;
let data: DataAccess;
let url: string;

beforeAll(async () => {
  cluster = await startPostgresCluster();
  url = await createDatabase(cluster.url, 'data_access_it');
  data = await openDataAccess({ kind: 'url', url });
});

afterAll(async () => {
  await data?.close();
  await cluster?.stop();
});

describe('data access', () => {
  it('applies the committed migrations once', async () => {
    expect(await applyMigrations(parsePostgresUrl(url))).toEqual([]);
  });

  it('lets exactly one of two concurrent dispatchers claim a job', async () => {
    const { tenant } = await data.tenants.ensure('concurrency');
    const enrolled = await Promise.all(
      [1, 2].map(async (n) => {
        const tokenHash = String(n).repeat(64);
        await data.enrollment.createToken({ tenantId: tenant.id, tokenHash, expiresAt: new Date(Date.now() + 60_000) });
        return data.enrollment.enroll({ tokenHash, publicKey: Buffer.alloc(32, n), version: '1.0.0', now: new Date() });
      }),
    );
    const job = await data.jobs.create(tenant.id, { kind: 'NOOP' }, 3, new Date());
    const claims = await Promise.all(
      enrolled.map((worker) =>
        data.jobs.claimForDispatch({
          jobId: job.id,
          tenantId: tenant.id,
          workerId: worker!.workerId,
          expectedCurrentAttempt: 0,
          leaseExpiresAt: new Date(Date.now() + 60_000),
          now: new Date(),
        }),
      ),
    );
    expect(claims.filter((claim) => claim !== null)).toHaveLength(1);
  });

  it('records a result and the lease expiry of the same attempt exactly once between them', async () => {
    const { tenant } = await data.tenants.ensure('race');
    await data.enrollment.createToken({ tenantId: tenant.id, tokenHash: 'f'.repeat(64), expiresAt: new Date(Date.now() + 60_000) });
    const worker = await data.enrollment.enroll({ tokenHash: 'f'.repeat(64), publicKey: Buffer.alloc(32, 3), version: '1.0.0', now: new Date() });
    const job = await data.jobs.create(tenant.id, { kind: 'NOOP' }, 1, new Date());
    const past = new Date(Date.now() - 1_000);
    await data.jobs.claimForDispatch({ jobId: job.id, tenantId: tenant.id, workerId: worker!.workerId, expectedCurrentAttempt: 0, leaseExpiresAt: past, now: past });
    const result = {
      outcome: 'JOB_OUTCOME_SUCCEEDED', failureCode: null, failedPhase: null, phaseDurations: [],
      tokens: { requests: 0, promptTokens: 0, completionTokens: 0 },
      change: { filesChanged: 0, linesAdded: 0, linesRemoved: 0, editsProposed: 0, editsApplied: 0 },
      verification: { testsRan: false, testExitCode: 0 }, contextFiles: 0, changeMac: null, deliveryMac: null,
    };
    const [disposition, expiry] = await Promise.all([
      data.jobs.recordResult({ workerId: worker!.workerId, jobId: job.id, attempt: 1 }, result, new Date()),
      data.jobs.expireLease({ jobId: job.id, attempt: 1 }, new Date()),
    ]);
    const final = await data.jobs.findForTenant(tenant.id, job.id);
    if (disposition === 'RECORDED') {
      expect(expiry).toBeNull();
      expect(final?.status).toBe('SUCCEEDED');
    } else {
      expect(disposition).toBe('STALE_ATTEMPT');
      expect(final).toMatchObject({ status: 'FAILED', failureCode: 'LEASE_EXPIRED' });
    }
  });
});
