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

let workerKeyByte = 10;

/** A worker enrolled in the tenant, with a key of its own. */
async function enrolledWorker(tenantId: string): Promise<string> {
  workerKeyByte += 1;
  const tokenHash = workerKeyByte.toString(16).padStart(2, '0').repeat(32);
  await data.enrollment.createToken({ tenantId, tokenHash, expiresAt: new Date(Date.now() + 60_000) });
  const worker = await data.enrollment.enroll({ tokenHash, publicKey: Buffer.alloc(32, workerKeyByte), version: '1.0.0', now: new Date() });
  return worker!.workerId;
}

/** A noop job claimed by the worker as attempt `expectedCurrentAttempt + 1`, its lease running until `leaseExpiresAt`. */
async function claimedJob(tenantId: string, workerId: string, leaseExpiresAt: Date, maxAttempts = 3): Promise<string> {
  const job = await data.jobs.create(tenantId, { kind: 'NOOP' }, maxAttempts, new Date());
  const claim = await data.jobs.claimQueued({ tenantId, workerId, candidates: [{ jobId: job.id, expectedCurrentAttempt: 0 }], leaseExpiresAt, now: new Date() }).then((claims) => claims[0] ?? null);
  expect(claim?.attempt).toBe(1);
  return job.id;
}

const NO_TESTS_RUN = {
  testsRan: false, testExitCode: 0, baseTestsRan: false, baseTestExitCode: 0, baseReportRead: false, reportRead: false,
  testsBefore: 0, failingBefore: 0, testsAfter: 0, failingAfter: 0, testsFixed: 0, testsRegressed: 0, agentTestRuns: 0, reproductionAdded: false,
};

function cancelledResult() {
  return {
    outcome: 'JOB_OUTCOME_CANCELLED', failureCode: 'CANCELLED', failedPhase: null, phaseDurations: [],
    tokens: { requests: 0, promptTokens: 0, completionTokens: 0 },
    change: { filesChanged: 0, linesAdded: 0, linesRemoved: 0, editsProposed: 0, editsApplied: 0 },
    verification: NO_TESTS_RUN, contextFiles: 0, changeMac: null, deliveryMac: null,
  };
}

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
        data.jobs.claimQueued({ tenantId: tenant.id, workerId: worker!.workerId, candidates: [{ jobId: job.id, expectedCurrentAttempt: 0 }], leaseExpiresAt: new Date(Date.now() + 60_000), now: new Date() }).then((claims) => claims[0] ?? null),
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
    await data.jobs.claimQueued({ tenantId: tenant.id, workerId: worker!.workerId, candidates: [{ jobId: job.id, expectedCurrentAttempt: 0 }], leaseExpiresAt: past, now: past }).then((claims) => claims[0] ?? null);
    const result = {
      outcome: 'JOB_OUTCOME_SUCCEEDED', failureCode: null, failedPhase: null, phaseDurations: [],
      tokens: { requests: 0, promptTokens: 0, completionTokens: 0 },
      change: { filesChanged: 0, linesAdded: 0, linesRemoved: 0, editsProposed: 0, editsApplied: 0 },
      verification: NO_TESTS_RUN, contextFiles: 0, changeMac: null, deliveryMac: null,
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

describe('lease renewal (the heartbeat contract)', () => {
  it('renews only attempts the worker owns and still runs, and names every other listed attempt to cancel', async () => {
    const { tenant } = await data.tenants.ensure('renewal');
    const [owner, other] = [await enrolledWorker(tenant.id), await enrolledWorker(tenant.id)];
    const soon = new Date(Date.now() + 5_000);
    const running = await claimedJob(tenant.id, owner, soon);
    const cancelRequested = await claimedJob(tenant.id, owner, soon);
    const othersJob = await claimedJob(tenant.id, other, soon);
    const finished = await claimedJob(tenant.id, owner, soon);
    const fenced = await claimedJob(tenant.id, owner, new Date(Date.now() - 1_000));
    await data.jobs.recordResult({ workerId: owner, jobId: finished, attempt: 1 }, cancelledResult(), new Date());
    expect(await data.jobs.expireLease({ jobId: fenced, attempt: 1 }, new Date())).toMatchObject({ requeued: true });
    expect(await data.jobs.requestCancel(tenant.id, cancelRequested, new Date())).toMatchObject({ kind: 'CANCEL_REQUESTED' });
    const unknown = { jobId: '00000000-0000-4000-8000-000000000000', attempt: 1 };

    const later = new Date(Date.now() + 60_000);
    const listed = [
      { jobId: running, attempt: 1 },
      { jobId: running, attempt: 2 }, // an attempt the job never had
      { jobId: cancelRequested, attempt: 1 },
      { jobId: othersJob, attempt: 1 },
      { jobId: finished, attempt: 1 },
      { jobId: fenced, attempt: 1 },
      unknown,
      { jobId: 'not-a-uuid', attempt: 1 },
      { jobId: running, attempt: 1 }, // listed twice, renewed once
    ];
    const renewal = await data.jobs.renewLeases(owner, listed, later);

    expect(renewal.renewed).toEqual([{ jobId: running, attempt: 1 }, { jobId: cancelRequested, attempt: 1 }]);
    expect(renewal.cancel).toEqual([
      { jobId: running, attempt: 2 },
      { jobId: cancelRequested, attempt: 1 },
      { jobId: othersJob, attempt: 1 },
      { jobId: finished, attempt: 1 },
      { jobId: fenced, attempt: 1 },
      unknown,
      { jobId: 'not-a-uuid', attempt: 1 },
    ]);
    const leaseOf = async (jobId: string) => (await data.jobs.findForTenant(tenant.id, jobId))?.attempts[0]?.leaseExpiresAt.getTime();
    expect(await leaseOf(running)).toBe(later.getTime());
    expect(await leaseOf(cancelRequested)).toBe(later.getTime());
    expect(await leaseOf(othersJob)).toBe(soon.getTime());
  });

  it('answers an empty list with nothing to renew and nothing to cancel', async () => {
    expect(await data.jobs.renewLeases('00000000-0000-4000-8000-000000000000', [], new Date())).toEqual({ renewed: [], cancel: [] });
  });
});

describe('cancel', () => {
  it('ends a queued job at once, so no dispatcher can claim it afterwards', async () => {
    const { tenant } = await data.tenants.ensure('cancel-queued');
    const worker = await enrolledWorker(tenant.id);
    const job = await data.jobs.create(tenant.id, { kind: 'NOOP' }, 3, new Date());
    const cancellation = await data.jobs.requestCancel(tenant.id, job.id, new Date());
    expect(cancellation).toMatchObject({ kind: 'CANCELLED', job: { status: 'CANCELLED', failureCode: 'CANCELLED', cancelRequestedAt: expect.any(Date) } });
    const claim = await data.jobs.claimQueued({ tenantId: tenant.id, workerId: worker, candidates: [{ jobId: job.id, expectedCurrentAttempt: 0 }], leaseExpiresAt: new Date(), now: new Date() }).then((claims) => claims[0] ?? null);
    expect(claim).toBeNull();
    expect(await data.jobs.listQueued(10_000, new Date())).not.toContainEqual(expect.objectContaining({ jobId: job.id }));
    expect(await data.jobs.requestCancel(tenant.id, job.id, new Date())).toMatchObject({ kind: 'ALREADY_FINISHED', job: { status: 'CANCELLED' } });
  });

  it("is tenant-scoped: another tenant's job is not found", async () => {
    const { tenant: owner } = await data.tenants.ensure('cancel-owner');
    const { tenant: stranger } = await data.tenants.ensure('cancel-stranger');
    const job = await data.jobs.create(owner.id, { kind: 'NOOP' }, 3, new Date());
    expect(await data.jobs.requestCancel(stranger.id, job.id, new Date())).toBeNull();
    expect((await data.jobs.findForTenant(owner.id, job.id))?.status).toBe('QUEUED');
  });

  it('records the request for a running job once, and names the worker holding the attempt', async () => {
    const { tenant } = await data.tenants.ensure('cancel-running');
    const worker = await enrolledWorker(tenant.id);
    const jobId = await claimedJob(tenant.id, worker, new Date(Date.now() + 60_000));
    const first = await data.jobs.requestCancel(tenant.id, jobId, new Date());
    const again = await data.jobs.requestCancel(tenant.id, jobId, new Date(Date.now() + 1_000));
    expect(first).toMatchObject({ kind: 'CANCEL_REQUESTED', job: { status: 'DISPATCHED' }, attempt: { workerId: worker, jobId, attempt: 1 } });
    expect(again).toMatchObject({ kind: 'CANCEL_REQUESTED', attempt: { workerId: worker, jobId, attempt: 1 } });
    expect(again?.job.cancelRequestedAt).toEqual(first?.job.cancelRequestedAt);
    const events = (await data.jobs.findForTenant(tenant.id, jobId))!.events.map((event) => event.type);
    expect(events.filter((type) => type === 'CANCEL_REQUESTED')).toHaveLength(1);
  });

  it('records what the worker reports after a cancel request, truthfully', async () => {
    const { tenant } = await data.tenants.ensure('cancel-result');
    const worker = await enrolledWorker(tenant.id);
    const stopped = await claimedJob(tenant.id, worker, new Date(Date.now() + 60_000));
    const finishedFirst = await claimedJob(tenant.id, worker, new Date(Date.now() + 60_000));
    await data.jobs.requestCancel(tenant.id, stopped, new Date());
    await data.jobs.requestCancel(tenant.id, finishedFirst, new Date());

    expect(await data.jobs.recordResult({ workerId: worker, jobId: stopped, attempt: 1 }, cancelledResult(), new Date())).toBe('RECORDED');
    const succeeded = { ...cancelledResult(), outcome: 'JOB_OUTCOME_SUCCEEDED', failureCode: null };
    expect(await data.jobs.recordResult({ workerId: worker, jobId: finishedFirst, attempt: 1 }, succeeded, new Date())).toBe('RECORDED');

    expect(await data.jobs.findForTenant(tenant.id, stopped)).toMatchObject({ status: 'CANCELLED', failureCode: 'CANCELLED' });
    expect(await data.jobs.findForTenant(tenant.id, finishedFirst)).toMatchObject({ status: 'SUCCEEDED', failureCode: null });
  });

  it('ends a cancel-requested job CANCELLED when its lease expires, instead of requeueing it', async () => {
    const { tenant } = await data.tenants.ensure('cancel-expiry');
    const worker = await enrolledWorker(tenant.id);
    const jobId = await claimedJob(tenant.id, worker, new Date(Date.now() - 1_000));
    await data.jobs.requestCancel(tenant.id, jobId, new Date());
    expect(await data.jobs.expireLease({ jobId, attempt: 1 }, new Date())).toMatchObject({ jobId, attempt: 1, requeued: false, cancelled: true });
    const job = await data.jobs.findForTenant(tenant.id, jobId);
    expect(job).toMatchObject({ status: 'CANCELLED', failureCode: 'CANCELLED', currentAttempt: 1 });
    expect(job?.attempts).toEqual([expect.objectContaining({ attempt: 1, status: 'LEASE_EXPIRED' })]);
    expect(job?.events.map((event) => event.type)).toEqual(['CREATED', 'QUEUED', 'DISPATCHED', 'CANCEL_REQUESTED', 'LEASE_EXPIRED', 'CANCELLED']);
    expect(await data.jobs.listQueued(10_000, new Date())).not.toContainEqual(expect.objectContaining({ jobId }));
  });
});
