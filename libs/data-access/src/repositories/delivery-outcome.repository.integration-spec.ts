import { createDatabase, startPostgresCluster, type PostgresCluster } from '@airlock/testing';
import { openDataAccess, type DataAccess } from '../data-access';
import type { AnalyticsScope } from './analytics.repository';
import type { DeliveryOutcomeReport } from './delivery-outcome.repository';
import type { JobResultMetadata, JobTask } from './job.repository';

jest.setTimeout(60_000);

let cluster: PostgresCluster;
let data: DataAccess;

beforeAll(async () => {
  cluster = await startPostgresCluster();
  data = await openDataAccess({ kind: 'url', url: await createDatabase(cluster.url, 'delivery_outcome_it') });
});

afterAll(async () => {
  await data?.close();
  await cluster?.stop();
});

let tenantCounter = 0;
async function newTenant(): Promise<string> {
  tenantCounter += 1;
  return (await data.tenants.create(`delivery-outcome-${tenantCounter}`)).id;
}

let workerKeyByte = 80;
async function enrolledWorker(tenantId: string): Promise<string> {
  workerKeyByte += 1;
  const tokenHash = workerKeyByte.toString(16).padStart(2, '0').repeat(32);
  await data.enrollment.createToken({ tenantId, tokenHash, expiresAt: new Date(Date.now() + 60_000) });
  const worker = await data.enrollment.enroll({ tokenHash, publicKey: Buffer.alloc(32, workerKeyByte), version: '1.0.0', now: new Date() });
  return worker!.workerId;
}

const fixTask = (repoAlias = 'billing'): JobTask => ({ kind: 'FIX', repoAlias, baseRef: 'main', ticketTitle: 'Fix it', ticketDescription: '', ticketRef: null });

const succeeded: JobResultMetadata = {
  outcome: 'JOB_OUTCOME_SUCCEEDED',
  failureCode: null,
  failedPhase: null,
  phaseDurations: [],
  tokens: { requests: 0, promptTokens: 0, completionTokens: 0 },
  change: { filesChanged: 1, linesAdded: 1, linesRemoved: 0, editsProposed: 1, editsApplied: 1 },
  verification: {
    testsRan: true, testExitCode: 0, baseTestsRan: true, baseTestExitCode: 1, baseReportRead: false, reportRead: false,
    testsBefore: 0, failingBefore: 0, testsAfter: 0, failingAfter: 0, testsFixed: 0, testsRegressed: 0, agentTestRuns: 0, reproductionAdded: false,
  },
  contextFiles: 1,
  changeMac: 'ab'.repeat(32),
  deliveryMac: 'cd'.repeat(32),
  metadataLevel: 'METADATA_LEVEL_STANDARD',
};

/** A fix job the worker ran to a delivered result, created at `createdAt`. */
async function deliveredJob(tenantId: string, workerId: string, options: { createdAt?: Date; repoAlias?: string } = {}): Promise<string> {
  const job = await data.jobs.create(tenantId, fixTask(options.repoAlias), 1, options.createdAt ?? new Date());
  await data.jobs.claimQueued({ tenantId, workerId, candidates: [{ jobId: job.id, expectedCurrentAttempt: 0 }], leaseExpiresAt: new Date(Date.now() + 60_000), now: new Date() }).then((claims) => claims[0] ?? null);
  expect(await data.jobs.recordResult({ workerId, jobId: job.id, attempt: 1 }, succeeded, new Date())).toBe('RECORDED');
  return job.id;
}

const openRequest = (deliveryJobId: string, changes: Partial<DeliveryOutcomeReport> = {}): DeliveryOutcomeReport => ({
  deliveryJobId,
  state: 'OPEN',
  humanCommits: 0,
  reverted: false,
  firstReviewAfterS: 0,
  reviewRounds: 0,
  mergedAfterS: 0,
  final: false,
  metadataLevel: 'METADATA_LEVEL_STANDARD',
  ...changes,
});

describe('DeliveryOutcomeRepository.record', () => {
  it("stores the report of a worker that ran the chain's first job, replaces it with later ones, and shows it on every job of the chain", async () => {
    const tenantId = await newTenant();
    const workerId = await enrolledWorker(tenantId);
    const firstId = await deliveredJob(tenantId, workerId);
    const firstSeen = new Date('2026-12-10T10:00:00Z');
    expect(await data.deliveryOutcomes.record({ workerId, tenantId }, openRequest(firstId), firstSeen)).toEqual({ kind: 'RECORDED', jobStatus: 'SUCCEEDED' });

    const later = new Date('2026-12-11T10:00:00Z');
    const reviewed = openRequest(firstId, { humanCommits: 2, firstReviewAfterS: 5_400, reviewRounds: 3 });
    expect(await data.deliveryOutcomes.record({ workerId, tenantId }, reviewed, later)).toMatchObject({ kind: 'RECORDED' });
    const rerun = await data.jobs.createRetry(tenantId, firstId, new Date());
    const rerunId = rerun?.kind === 'CREATED' ? rerun.job.id : '';
    const expected = { ...reviewed, workerId, firstReportedAt: firstSeen, updatedAt: later };
    expect((await data.jobs.findForTenant(tenantId, firstId))?.deliveryOutcome).toEqual(expected);
    // A re-run delivers to the same request: it shows its chain's outcome.
    expect((await data.jobs.findForTenant(tenantId, rerunId))?.deliveryOutcome).toEqual(expected);
  });

  it('accepts a worker that ran only a re-run of the chain', async () => {
    const tenantId = await newTenant();
    const first = await enrolledWorker(tenantId);
    const second = await enrolledWorker(tenantId);
    const firstId = await deliveredJob(tenantId, first);
    const rerun = await data.jobs.createRetry(tenantId, firstId, new Date());
    const rerunId = rerun?.kind === 'CREATED' ? rerun.job.id : '';
    await data.jobs.claimQueued({ tenantId, workerId: second, candidates: [{ jobId: rerunId, expectedCurrentAttempt: 0 }], leaseExpiresAt: new Date(Date.now() + 60_000), now: new Date() }).then((claims) => claims[0] ?? null);
    expect(await data.deliveryOutcomes.record({ workerId: second, tenantId }, openRequest(firstId), new Date())).toEqual({ kind: 'NOT_RUN_BY_WORKER' });
    await data.jobs.recordAcks([{ workerId: second, jobId: rerunId, attempt: 1 }], new Date());
    expect(await data.deliveryOutcomes.record({ workerId: second, tenantId }, openRequest(firstId), new Date())).toEqual({ kind: 'RECORDED', jobStatus: 'SUCCEEDED' });
  });

  it("drops a report of another tenant's chain, of a worker the chain never ran on, or naming a job that is no chain's first", async () => {
    const tenantId = await newTenant();
    const workerId = await enrolledWorker(tenantId);
    const bystander = await enrolledWorker(tenantId);
    const otherTenantId = await newTenant();
    const stranger = await enrolledWorker(otherTenantId);
    const firstId = await deliveredJob(tenantId, workerId);

    expect(await data.deliveryOutcomes.record({ workerId: stranger, tenantId: otherTenantId }, openRequest(firstId), new Date())).toEqual({ kind: 'UNKNOWN_CHAIN' });
    expect(await data.deliveryOutcomes.record({ workerId: bystander, tenantId }, openRequest(firstId), new Date())).toEqual({ kind: 'NOT_RUN_BY_WORKER' });
    // Refused instructions do not count: the attempt never ran there.
    const refusedId = (await data.jobs.create(tenantId, fixTask(), 1, new Date())).id;
    await data.jobs.claimQueued({ tenantId, workerId: bystander, candidates: [{ jobId: refusedId, expectedCurrentAttempt: 0 }], leaseExpiresAt: new Date(Date.now() + 60_000), now: new Date() }).then((claims) => claims[0] ?? null);
    await data.jobs.recordRejection({ workerId: bystander, jobId: refusedId, attempt: 1 }, 'REPO_ALIAS_UNKNOWN', new Date());
    expect(await data.deliveryOutcomes.record({ workerId: bystander, tenantId }, openRequest(refusedId), new Date())).toEqual({ kind: 'NOT_RUN_BY_WORKER' });

    const rerun = await data.jobs.createRetry(tenantId, firstId, new Date());
    const rerunId = rerun?.kind === 'CREATED' ? rerun.job.id : '';
    expect(await data.deliveryOutcomes.record({ workerId, tenantId }, openRequest(rerunId), new Date())).toEqual({ kind: 'UNKNOWN_CHAIN' });
    expect(await data.deliveryOutcomes.record({ workerId, tenantId }, openRequest('00000000-0000-4000-8000-000000000000'), new Date())).toEqual({ kind: 'UNKNOWN_CHAIN' });
    expect((await data.jobs.findForTenant(tenantId, firstId))?.deliveryOutcome).toBeNull();
  });

  it('keeps a final outcome against every later report', async () => {
    const tenantId = await newTenant();
    const workerId = await enrolledWorker(tenantId);
    const firstId = await deliveredJob(tenantId, workerId);
    const merged = openRequest(firstId, { state: 'MERGED', mergedAfterS: 7_200, firstReviewAfterS: 3_600, reviewRounds: 1, final: true });
    await data.deliveryOutcomes.record({ workerId, tenantId }, merged, new Date());
    expect(await data.deliveryOutcomes.record({ workerId, tenantId }, openRequest(firstId), new Date())).toEqual({ kind: 'ALREADY_FINAL' });
    expect(await data.deliveryOutcomes.record({ workerId, tenantId }, { ...merged, reverted: true }, new Date())).toEqual({ kind: 'ALREADY_FINAL' });
    expect((await data.jobs.findForTenant(tenantId, firstId))?.deliveryOutcome).toMatchObject({ state: 'MERGED', reverted: false, final: true, mergedAfterS: 7_200 });
  });

  it('stores nothing for a figure no column can hold', async () => {
    const tenantId = await newTenant();
    const workerId = await enrolledWorker(tenantId);
    const firstId = await deliveredJob(tenantId, workerId);
    expect(await data.deliveryOutcomes.record({ workerId, tenantId }, openRequest(firstId, { firstReviewAfterS: 2 ** 32 - 1 }), new Date())).toEqual({ kind: 'OUT_OF_RANGE' });
    expect((await data.jobs.findForTenant(tenantId, firstId))?.deliveryOutcome).toBeNull();
  });
});

describe('merge requests in the analytics aggregates', () => {
  it("counts each chain once by its first job's creation day and filters, the same read from the rollups or by scanning", async () => {
    const tenantId = await newTenant();
    const workerId = await enrolledWorker(tenantId);
    const reporter = { workerId, tenantId };
    const inRange = new Date('2026-09-10T12:00:00Z');
    const report = async (repoAlias: string, changes: Partial<DeliveryOutcomeReport>, createdAt = inRange) => {
      const jobId = await deliveredJob(tenantId, workerId, { createdAt, repoAlias });
      expect(await data.deliveryOutcomes.record(reporter, openRequest(jobId, changes), new Date())).toMatchObject({ kind: 'RECORDED' });
    };
    await report('billing', { firstReviewAfterS: 600, reviewRounds: 1 });
    await report('billing', { state: 'MERGED', humanCommits: 1, firstReviewAfterS: 3_000, reviewRounds: 2, mergedAfterS: 9_000, final: true });
    await report('billing', { state: 'MERGED', reverted: true, firstReviewAfterS: 1_200, reviewRounds: 1, mergedAfterS: 4_000, final: true });
    await report('billing', { state: 'CLOSED', final: true });
    // At the minimal level nothing but the state, reverted and final is sent: no figure counts.
    await report('payments', { state: 'MERGED', metadataLevel: 'METADATA_LEVEL_MINIMAL', final: true });
    // Created outside the range: in no figure.
    await report('billing', { state: 'MERGED', humanCommits: 4, mergedAfterS: 60, final: true }, new Date('2026-08-31T23:59:59Z'));

    const scope: AnalyticsScope = { tenantId, from: '2026-09-01', to: '2026-09-30' };
    const options = { now: new Date('2026-10-01T00:00:00Z'), spendFrom: '2026-09-01', spendTo: '2026-09-30' };
    const all = await data.analytics.aggregate(scope, options);
    expect(all.mergeRequests).toEqual({
      reported: 5,
      open: 1,
      merged: 3,
      closedUnmerged: 1,
      reverted: 1,
      withFigures: 4,
      reworkedByPeople: 1,
      reviewed: 3,
      // Nearest rank of 600, 1 200, 3 000.
      firstReviewP50S: 1_200,
      firstReviewP90S: 3_000,
      mergedWithFigures: 2,
      mergeP50S: 4_000,
      mergeP90S: 9_000,
    });
    expect((await data.analytics.aggregateByScanning(scope, options)).mergeRequests).toEqual(all.mergeRequests);
    expect((await data.analytics.aggregate({ ...scope, repoAlias: 'payments' }, options)).mergeRequests).toMatchObject({ reported: 1, merged: 1, withFigures: 0, mergeP50S: null });
    expect((await data.analytics.aggregate({ ...scope, kind: 'NOOP' }, options)).mergeRequests.reported).toBe(0);
    expect((await data.analytics.aggregate({ ...scope, pool: '(none)' }, options)).mergeRequests.reported).toBe(5);
    expect((await data.analytics.aggregate({ ...scope, pool: 'elsewhere' }, options)).mergeRequests.reported).toBe(0);
    expect((await data.analytics.aggregate({ ...scope, tenantId: await newTenant() }, options)).mergeRequests.reported).toBe(0);
  });
});
