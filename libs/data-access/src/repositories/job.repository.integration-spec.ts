import { randomUUID } from 'node:crypto';
import { createDatabase, startPostgresCluster, type PostgresCluster } from '@airlock/testing';
import { openDataAccess, type DataAccess } from '../data-access';
import { Client } from 'pg';
import { MAX_RERUNS_PER_CHAIN, type JobListFilter, type JobResultMetadata, type JobSummary, type JobTask } from './job.repository';

jest.setTimeout(60_000);

let cluster: PostgresCluster;
let data: DataAccess;
let databaseUrl: string;

beforeAll(async () => {
  cluster = await startPostgresCluster();
  databaseUrl = await createDatabase(cluster.url, 'job_repository_it');
  data = await openDataAccess({ kind: 'url', url: databaseUrl });
});

afterAll(async () => {
  await data?.close();
  await cluster?.stop();
});

let tenantCounter = 0;
async function newTenant(): Promise<string> {
  tenantCounter += 1;
  return (await data.tenants.create(`job-repository-${tenantCounter}`)).id;
}

let workerKeyByte = 40;
/** A worker enrolled in the tenant, with a key of its own. */
async function enrolledWorker(tenantId: string): Promise<string> {
  workerKeyByte += 1;
  const tokenHash = workerKeyByte.toString(16).padStart(2, '0').repeat(32);
  await data.enrollment.createToken({ tenantId, tokenHash, expiresAt: new Date(Date.now() + 60_000) });
  const worker = await data.enrollment.enroll({ tokenHash, publicKey: Buffer.alloc(32, workerKeyByte), version: '1.0.0', now: new Date() });
  return worker!.workerId;
}

const fixTask = (repoAlias: string): JobTask => ({ kind: 'FIX', repoAlias, baseRef: 'main', ticketTitle: 'Fix it', ticketDescription: 'details', ticketRef: null });
/** A fix task whose ticket is named by reference: the reference, and no text. */
const byReference = (ticketRef: string): JobTask => ({ kind: 'FIX', repoAlias: 'billing', baseRef: 'main', ticketTitle: '', ticketDescription: '', ticketRef });
const at = (iso: string) => new Date(iso);

/** A succeeded result with nothing in it but the outcome. */
const succeeded = (): JobResultMetadata => ({
  outcome: 'JOB_OUTCOME_SUCCEEDED',
  failureCode: null,
  failedPhase: null,
  phaseDurations: [],
  tokens: { requests: 0, promptTokens: 0, completionTokens: 0 },
  change: { filesChanged: 0, linesAdded: 0, linesRemoved: 0, editsProposed: 0, editsApplied: 0 },
  verification: {
    testsRan: false, testExitCode: 0, baseTestsRan: false, baseTestExitCode: 0, baseReportRead: false, reportRead: false,
    testsBefore: 0, failingBefore: 0, testsAfter: 0, failingAfter: 0, testsFixed: 0, testsRegressed: 0, agentTestRuns: 0, reproductionAdded: false,
  },
  contextFiles: 0,
  changeMac: null,
  deliveryMac: null,
});

/** Every job the filter matches, page by page of `pageSize`, following each page's `next`. */
async function listAllPages(tenantId: string, filter: Omit<JobListFilter, 'limit' | 'olderThan'>, pageSize: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let page = await data.jobs.listForTenant(tenantId, { ...filter, limit: pageSize });
  let pages = 1;
  ids.push(...page.jobs.map((job) => job.id));
  while (page.next) {
    page = await data.jobs.listForTenant(tenantId, { ...filter, limit: pageSize, olderThan: page.next });
    pages += 1;
    ids.push(...page.jobs.map((job) => job.id));
  }
  return { ids, pages };
}

/** Newest first, id breaking ties: the order the listing promises. */
function listingOrder(jobs: readonly JobSummary[]): string[] {
  return [...jobs]
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .map((job) => job.id);
}

describe('JobRepository.listForTenant', () => {
  it('filters by status, kind, repository alias and creation time, within the tenant only', async () => {
    const tenantId = await newTenant();
    const otherTenantId = await newTenant();
    const early = await data.jobs.create(tenantId, fixTask('billing'), 3, at('2026-12-01T09:00:00Z'));
    const onTheHour = await data.jobs.create(tenantId, fixTask('payments'), 3, at('2026-12-01T10:00:00Z'));
    const noop = await data.jobs.create(tenantId, { kind: 'NOOP' }, 3, at('2026-12-01T10:30:00Z'));
    const late = await data.jobs.create(tenantId, fixTask('billing'), 3, at('2026-12-01T11:00:00Z'));
    await data.jobs.create(otherTenantId, fixTask('billing'), 3, at('2026-12-01T10:15:00Z'));
    await data.jobs.requestCancel(tenantId, late.id, at('2026-12-01T11:01:00Z'));

    const ids = async (filter: Omit<JobListFilter, 'limit'>) => (await data.jobs.listForTenant(tenantId, { limit: 50, ...filter })).jobs.map((job) => job.id);
    expect(await ids({})).toEqual([late.id, noop.id, onTheHour.id, early.id]);
    expect(await ids({ status: 'CANCELLED' })).toEqual([late.id]);
    expect(await ids({ kind: 'NOOP' })).toEqual([noop.id]);
    expect(await ids({ kind: 'FIX', repoAlias: 'billing' })).toEqual([late.id, early.id]);
    expect(await ids({ repoAlias: 'bill' })).toEqual([]);
    // From is included, to is not: consecutive ranges share no job.
    expect(await ids({ createdFrom: at('2026-12-01T10:00:00Z'), createdTo: at('2026-12-01T11:00:00Z') })).toEqual([noop.id, onTheHour.id]);
    expect(await ids({ createdTo: at('2026-12-01T10:00:00Z') })).toEqual([early.id]);
    expect(await ids({ createdFrom: at('2026-12-01T11:00:00Z'), status: 'CANCELLED', repoAlias: 'billing' })).toEqual([late.id]);
  });

  it('pages through a run of jobs created in the same millisecond without skipping or repeating one', async () => {
    const tenantId = await newTenant();
    const sameInstant = at('2026-12-02T12:00:00.000Z');
    const created: JobSummary[] = [];
    created.push(await data.jobs.create(tenantId, { kind: 'NOOP' }, 3, at('2026-12-02T12:00:00.001Z')));
    for (let i = 0; i < 7; i += 1) created.push(await data.jobs.create(tenantId, { kind: 'NOOP' }, 3, sameInstant));
    created.push(await data.jobs.create(tenantId, { kind: 'NOOP' }, 3, at('2026-12-02T11:59:59.999Z')));

    // Pages of 3 over 9 jobs: both page boundaries fall inside the run of 7.
    const { ids, pages } = await listAllPages(tenantId, {}, 3);
    expect(pages).toBe(3);
    expect(ids).toEqual(listingOrder(created));
    expect(new Set(ids).size).toBe(created.length);

    // Every other page size, the same jobs in the same order.
    for (const pageSize of [1, 2, 4, 8, 9, 10]) expect((await listAllPages(tenantId, {}, pageSize)).ids).toEqual(ids);
  });

  it('says there is no next page when the last page is exactly full', async () => {
    const tenantId = await newTenant();
    for (let i = 0; i < 4; i += 1) await data.jobs.create(tenantId, { kind: 'NOOP' }, 3, new Date());
    const first = await data.jobs.listForTenant(tenantId, { limit: 2 });
    expect(first.next).not.toBeNull();
    const second = await data.jobs.listForTenant(tenantId, { limit: 2, olderThan: first.next! });
    expect(second.jobs).toHaveLength(2);
    expect(second.next).toBeNull();
  });

  it('keeps its pages stable while new jobs arrive, and applies the filters on every page', async () => {
    const tenantId = await newTenant();
    const billing: JobSummary[] = [];
    for (let i = 0; i < 5; i += 1) {
      billing.push(await data.jobs.create(tenantId, fixTask('billing'), 3, at(`2026-12-03T10:00:0${i}Z`)));
      await data.jobs.create(tenantId, fixTask('payments'), 3, at(`2026-12-03T10:00:0${i}Z`));
    }
    const first = await data.jobs.listForTenant(tenantId, { limit: 2, repoAlias: 'billing' });
    // A job created after the first page was read belongs before it, not on a later page.
    await data.jobs.create(tenantId, fixTask('billing'), 3, at('2026-12-03T10:00:09Z'));
    const second = await data.jobs.listForTenant(tenantId, { limit: 2, repoAlias: 'billing', olderThan: first.next! });
    const third = await data.jobs.listForTenant(tenantId, { limit: 2, repoAlias: 'billing', olderThan: second.next! });
    expect([...first.jobs, ...second.jobs, ...third.jobs].map((job) => job.id)).toEqual(listingOrder(billing));
    expect(third.next).toBeNull();
  });
});

describe('JobRepository.createRetry', () => {
  it('queues a new job with the task and maxAttempts of a failed one, naming the original', async () => {
    const tenantId = await newTenant();
    const workerId = await enrolledWorker(tenantId);
    const original = await data.jobs.create(tenantId, fixTask('billing'), 2, at('2026-12-04T09:00:00Z'));
    await data.jobs.claimQueued({ tenantId, workerId, candidates: [{ jobId: original.id, expectedCurrentAttempt: 0 }], leaseExpiresAt: new Date(Date.now() + 60_000), now: new Date() }).then((claims) => claims[0] ?? null);
    expect(await data.jobs.recordRejection({ workerId, jobId: original.id, attempt: 1 }, 'REPO_ALIAS_UNKNOWN', new Date())).toBe(true);

    const now = at('2026-12-04T10:00:00Z');
    const retry = await data.jobs.createRetry(tenantId, original.id, now);
    expect(retry).toEqual({
      kind: 'CREATED',
      job: expect.objectContaining({ kind: 'FIX', repoAlias: 'billing', baseRef: 'main', status: 'QUEUED', currentAttempt: 0, maxAttempts: 2, retryOfJobId: original.id, createdAt: now }),
    });
    const retryId = retry?.kind === 'CREATED' ? retry.job.id : '';
    const detail = await data.jobs.findForTenant(tenantId, retryId);
    expect(detail?.events.map((event) => event.type)).toEqual(['CREATED', 'QUEUED']);
    // The ticket travels to the new job for the worker's instruction.
    const claim = await data.jobs.claimQueued({ tenantId, workerId, candidates: [{ jobId: retryId, expectedCurrentAttempt: 0 }], leaseExpiresAt: new Date(Date.now() + 60_000), now: new Date() }).then((claims) => claims[0] ?? null);
    // It delivers to the original's branch, after it.
    expect(claim?.task).toEqual({ ...fixTask('billing'), deliveryJobId: original.id, deliveryGeneration: 1 });
    // The original stays as it ended.
    expect(await data.jobs.findForTenant(tenantId, original.id)).toMatchObject({ status: 'FAILED', retryOfJobId: null });
  });

  it('re-runs deliver to the first job of their chain, each one generation after the last made', async () => {
    const tenantId = await newTenant();
    const workerId = await enrolledWorker(tenantId);
    const first = await data.jobs.create(tenantId, fixTask('billing'), 1, new Date());
    const claimOf = async (jobId: string) =>
      (await data.jobs.claimQueued({ tenantId, workerId, candidates: [{ jobId: jobId, expectedCurrentAttempt: 0 }], leaseExpiresAt: new Date(Date.now() + 60_000), now: new Date() }).then((claims) => claims[0] ?? null))?.task;
    expect(await claimOf(first.id)).toMatchObject({ deliveryJobId: first.id, deliveryGeneration: 0 });
    await data.jobs.recordResult({ workerId, jobId: first.id, attempt: 1 }, succeeded(), new Date());
    expect(await data.jobs.findForTenant(tenantId, first.id)).toMatchObject({ status: 'SUCCEEDED' });

    // A succeeded job may be re-run (to refresh its merge request); so may a re-run, and the same job twice.
    const rerun = await data.jobs.createRetry(tenantId, first.id, new Date());
    const rerunId = rerun?.kind === 'CREATED' ? rerun.job.id : '';
    await data.jobs.requestCancel(tenantId, rerunId, new Date());
    const rerunOfRerun = await data.jobs.createRetry(tenantId, rerunId, new Date());
    const secondRerunOfFirst = await data.jobs.createRetry(tenantId, first.id, new Date());
    const generations = await Promise.all(
      [rerunOfRerun, secondRerunOfFirst].map(async (retry) => (retry?.kind === 'CREATED' ? claimOf(retry.job.id) : undefined)),
    );
    expect(generations).toEqual([
      expect.objectContaining({ deliveryJobId: first.id, deliveryGeneration: 2 }),
      expect.objectContaining({ deliveryJobId: first.id, deliveryGeneration: 3 }),
    ]);
  });

  it('refuses a re-run past the most one chain may have', async () => {
    const tenantId = await newTenant();
    const first = await data.jobs.create(tenantId, { kind: 'NOOP' }, 1, new Date());
    await data.jobs.requestCancel(tenantId, first.id, new Date());
    const rerun = await data.jobs.createRetry(tenantId, first.id, new Date());
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await client.query('UPDATE "Job" SET "deliveryGeneration" = $1 WHERE "id" = $2', [MAX_RERUNS_PER_CHAIN, rerun?.kind === 'CREATED' ? rerun.job.id : '']);
    } finally {
      await client.end();
    }
    expect(await data.jobs.createRetry(tenantId, first.id, new Date())).toEqual({ kind: 'CHAIN_TOO_LONG', maxReruns: MAX_RERUNS_PER_CHAIN });
  });

  it('retries a cancelled job, refuses one that has not finished, and finds no job of another tenant', async () => {
    const tenantId = await newTenant();
    const cancelled = await data.jobs.create(tenantId, { kind: 'NOOP' }, 3, new Date());
    await data.jobs.requestCancel(tenantId, cancelled.id, new Date());
    expect(await data.jobs.createRetry(tenantId, cancelled.id, new Date())).toMatchObject({ kind: 'CREATED', job: { kind: 'NOOP', repoAlias: null, retryOfJobId: cancelled.id } });

    const queued = await data.jobs.create(tenantId, { kind: 'NOOP' }, 3, new Date());
    expect(await data.jobs.createRetry(tenantId, queued.id, new Date())).toEqual({ kind: 'NOT_RETRYABLE', status: 'QUEUED' });
    expect(await data.jobs.createRetry(await newTenant(), cancelled.id, new Date())).toBeNull();
    expect(await data.jobs.createRetry(tenantId, '00000000-0000-4000-8000-000000000000', new Date())).toBeNull();
  });
});

describe('JobRepository lease expiry', () => {
  it("says the job's status afterwards: QUEUED when requeued, FAILED after the last attempt", async () => {
    const tenantId = await newTenant();
    const workerId = await enrolledWorker(tenantId);
    const job = await data.jobs.create(tenantId, { kind: 'NOOP' }, 2, new Date());
    const expiredLease = new Date(Date.now() - 1_000);
    await data.jobs.claimQueued({ tenantId, workerId, candidates: [{ jobId: job.id, expectedCurrentAttempt: 0 }], leaseExpiresAt: expiredLease, now: new Date() }).then((claims) => claims[0] ?? null);
    expect(await data.jobs.expireLease({ jobId: job.id, attempt: 1 }, new Date())).toMatchObject({ requeued: true, status: 'QUEUED' });
    await data.jobs.claimQueued({ tenantId, workerId, candidates: [{ jobId: job.id, expectedCurrentAttempt: 1 }], leaseExpiresAt: expiredLease, now: new Date() }).then((claims) => claims[0] ?? null);
    expect(await data.jobs.expireLease({ jobId: job.id, attempt: 2 }, new Date())).toMatchObject({ requeued: false, cancelled: false, status: 'FAILED' });
  });

  it('holds a requeued job back until its backoff ends: no claim, no resync, no count before then', async () => {
    const tenantId = await newTenant();
    const workerId = await enrolledWorker(tenantId);
    const job = await data.jobs.create(tenantId, { kind: 'NOOP' }, 3, new Date());
    const now = new Date();
    await data.jobs.claimQueued({ tenantId, workerId, candidates: [{ jobId: job.id, expectedCurrentAttempt: 0 }], leaseExpiresAt: new Date(now.getTime() - 1_000), now });
    const notBefore = new Date(now.getTime() + 30_000);
    const expiry = await data.jobs.expireLease({ jobId: job.id, attempt: 1 }, now, (attempt) => (attempt === 1 ? notBefore : null));
    expect(expiry).toMatchObject({ requeued: true, status: 'QUEUED', notBefore });

    const claim = (at: Date) => data.jobs.claimQueued({ tenantId, workerId, candidates: [{ jobId: job.id, expectedCurrentAttempt: 1 }], leaseExpiresAt: new Date(at.getTime() + 60_000), now: at });
    const listed = async (at: Date) => (await data.jobs.listQueued(10_000, at, { tenantId, pool: null })).map((queued) => queued.jobId);
    expect(await listed(now)).toEqual([]);
    expect((await data.jobs.countQueuedByPool(new Date(now.getTime() + 1_000))).filter((count) => count.tenantId === tenantId)).toEqual([]);
    expect(await claim(now)).toEqual([]);
    const later = new Date(notBefore.getTime() + 1);
    expect(await listed(later)).toEqual([job.id]);
    expect((await claim(later)).map((won) => won.attempt)).toEqual([2]);
  });
});

describe('a ticket named by reference', () => {
  const REFERENCE = 'jira:PROJ-4711';
  const DIGEST = '5e'.repeat(32);
  const lease = () => new Date(Date.now() + 60_000);
  const claim = (tenantId: string, workerId: string, jobId: string, expectedCurrentAttempt = 0, leaseExpiresAt = lease()) =>
    data.jobs.claimQueued({ tenantId, workerId, candidates: [{ jobId: jobId, expectedCurrentAttempt: expectedCurrentAttempt }], leaseExpiresAt, now: new Date() }).then((claims) => claims[0] ?? null);
  const referenceOf = async (tenantId: string, jobId: string) => {
    const job = await data.jobs.findForTenant(tenantId, jobId);
    return { status: job?.status, ticketByReference: job?.ticketByReference, ticketRef: job?.ticketRef, ticketRefMac: job?.ticketRefMac };
  };
  /** The stored ticket text of a job, which no read model returns. */
  const storedText = async (jobId: string) => {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      return (await client.query('SELECT "ticketTitle", "ticketDescription" FROM "Job" WHERE "id" = $1', [jobId])).rows[0];
    } finally {
      await client.end();
    }
  };

  it('is stored without text and dispatched as the reference while the job may still run', async () => {
    const tenantId = await newTenant();
    const workerId = await enrolledWorker(tenantId);
    const job = await data.jobs.create(tenantId, byReference(REFERENCE), 2, new Date());
    expect(job).toMatchObject({ ticketByReference: true, ticketRef: REFERENCE, ticketRefMac: null });
    expect(await storedText(job.id)).toEqual({ ticketTitle: null, ticketDescription: null });
    expect((await claim(tenantId, workerId, job.id))?.task).toMatchObject({ kind: 'FIX', ticketTitle: '', ticketDescription: '', ticketRef: REFERENCE });
    // A typed ticket has no reference.
    const typed = await data.jobs.create(tenantId, fixTask('billing'), 2, new Date());
    expect(typed).toMatchObject({ ticketByReference: false, ticketRef: null });
    expect((await claim(tenantId, workerId, typed.id))?.task).toMatchObject({ ticketTitle: 'Fix it', ticketRef: null });
  });

  it("is erased when a result ends the job, which keeps the worker's digest instead, on the job and in its result", async () => {
    const tenantId = await newTenant();
    const workerId = await enrolledWorker(tenantId);
    const job = await data.jobs.create(tenantId, byReference(REFERENCE), 2, new Date());
    await claim(tenantId, workerId, job.id);
    expect(await data.jobs.recordResult({ workerId, jobId: job.id, attempt: 1 }, { ...succeeded(), ticketRefMac: DIGEST }, new Date())).toBe('RECORDED');
    expect(await referenceOf(tenantId, job.id)).toEqual({ status: 'SUCCEEDED', ticketByReference: true, ticketRef: null, ticketRefMac: DIGEST });
    expect((await data.jobs.findForTenant(tenantId, job.id))?.result?.ticketRefMac).toBe(DIGEST);
  });

  it('is erased when a cancel ends the job: queued at once, running by its result or by its lease running out', async () => {
    const tenantId = await newTenant();
    const workerId = await enrolledWorker(tenantId);
    const queued = await data.jobs.create(tenantId, byReference(REFERENCE), 2, new Date());
    expect((await data.jobs.requestCancel(tenantId, queued.id, new Date()))?.kind).toBe('CANCELLED');
    expect(await referenceOf(tenantId, queued.id)).toMatchObject({ status: 'CANCELLED', ticketRef: null });

    const running = await data.jobs.create(tenantId, byReference(REFERENCE), 2, new Date());
    await claim(tenantId, workerId, running.id);
    expect((await data.jobs.requestCancel(tenantId, running.id, new Date()))?.kind).toBe('CANCEL_REQUESTED');
    // Only asked: the job may still run, so the reference stays until the worker reports.
    expect(await referenceOf(tenantId, running.id)).toMatchObject({ status: 'DISPATCHED', ticketRef: REFERENCE });
    const cancelled = { ...succeeded(), outcome: 'JOB_OUTCOME_CANCELLED', failureCode: 'CANCELLED' };
    expect(await data.jobs.recordResult({ workerId, jobId: running.id, attempt: 1 }, cancelled, new Date())).toBe('RECORDED');
    expect(await referenceOf(tenantId, running.id)).toMatchObject({ status: 'CANCELLED', ticketRef: null, ticketRefMac: null });

    const abandoned = await data.jobs.create(tenantId, byReference(REFERENCE), 2, new Date());
    await claim(tenantId, workerId, abandoned.id, 0, new Date(Date.now() - 1_000));
    await data.jobs.requestCancel(tenantId, abandoned.id, new Date());
    expect(await data.jobs.expireLease({ jobId: abandoned.id, attempt: 1 }, new Date())).toMatchObject({ cancelled: true, status: 'CANCELLED' });
    expect(await referenceOf(tenantId, abandoned.id)).toMatchObject({ status: 'CANCELLED', ticketRef: null });
  });

  it('stays while a lost lease requeues the job, and is erased when the last attempt runs out', async () => {
    const tenantId = await newTenant();
    const workerId = await enrolledWorker(tenantId);
    const job = await data.jobs.create(tenantId, byReference(REFERENCE), 2, new Date());
    const expired = new Date(Date.now() - 1_000);
    await claim(tenantId, workerId, job.id, 0, expired);
    expect(await data.jobs.expireLease({ jobId: job.id, attempt: 1 }, new Date())).toMatchObject({ requeued: true });
    expect(await referenceOf(tenantId, job.id)).toMatchObject({ status: 'QUEUED', ticketRef: REFERENCE });
    await claim(tenantId, workerId, job.id, 1, expired);
    expect(await data.jobs.expireLease({ jobId: job.id, attempt: 2 }, new Date())).toMatchObject({ requeued: false, status: 'FAILED' });
    expect(await referenceOf(tenantId, job.id)).toMatchObject({ status: 'FAILED', ticketRef: null });
  });

  it('is erased when the worker refuses the instruction, and when a full worker turns away the last attempt', async () => {
    const tenantId = await newTenant();
    const workerId = await enrolledWorker(tenantId);
    const refused = await data.jobs.create(tenantId, byReference(REFERENCE), 2, new Date());
    await claim(tenantId, workerId, refused.id);
    expect(await data.jobs.recordRejection({ workerId, jobId: refused.id, attempt: 1 }, 'TASK_FORBIDDEN_BY_POLICY', new Date())).toBe(true);
    expect(await referenceOf(tenantId, refused.id)).toMatchObject({ status: 'FAILED', ticketRef: null });

    const turnedAway = await data.jobs.create(tenantId, byReference(REFERENCE), 1, new Date());
    await claim(tenantId, workerId, turnedAway.id);
    expect(await data.jobs.requeueTurnedAway({ workerId, jobId: turnedAway.id, attempt: 1 }, 'WORKER_AT_CAPACITY', new Date())).toMatchObject({ requeued: false, status: 'FAILED' });
    expect(await referenceOf(tenantId, turnedAway.id)).toMatchObject({ status: 'FAILED', ticketRef: null });

    const cancelledWhileTurnedAway = await data.jobs.create(tenantId, byReference(REFERENCE), 2, new Date());
    await claim(tenantId, workerId, cancelledWhileTurnedAway.id);
    await data.jobs.requestCancel(tenantId, cancelledWhileTurnedAway.id, new Date());
    expect(await data.jobs.requeueTurnedAway({ workerId, jobId: cancelledWhileTurnedAway.id, attempt: 1 }, 'WORKER_AT_CAPACITY', new Date())).toMatchObject({ cancelled: true });
    expect(await referenceOf(tenantId, cancelledWhileTurnedAway.id)).toMatchObject({ status: 'CANCELLED', ticketRef: null });
  });

  it('must be named again by a re-run, and may not be given to a re-run of a typed ticket', async () => {
    const tenantId = await newTenant();
    const workerId = await enrolledWorker(tenantId);
    const original = await data.jobs.create(tenantId, byReference(REFERENCE), 2, new Date());
    await data.jobs.requestCancel(tenantId, original.id, new Date());
    expect(await data.jobs.createRetry(tenantId, original.id, new Date())).toEqual({ kind: 'TICKET_REF_REQUIRED' });
    const rerun = await data.jobs.createRetry(tenantId, original.id, new Date(), 'jira:PROJ-4712');
    expect(rerun).toMatchObject({ kind: 'CREATED', job: { ticketByReference: true, ticketRef: 'jira:PROJ-4712', retryOfJobId: original.id } });
    const rerunId = rerun?.kind === 'CREATED' ? rerun.job.id : '';
    expect((await claim(tenantId, workerId, rerunId))?.task).toMatchObject({ ticketRef: 'jira:PROJ-4712', ticketTitle: '', deliveryJobId: original.id, deliveryGeneration: 1 });

    const typed = await data.jobs.create(tenantId, fixTask('billing'), 2, new Date());
    await data.jobs.requestCancel(tenantId, typed.id, new Date());
    expect(await data.jobs.createRetry(tenantId, typed.id, new Date(), REFERENCE)).toEqual({ kind: 'TICKET_REF_UNEXPECTED', ticket: 'TYPED' });
    // The status is the first thing a re-run is refused for.
    const unfinished = await data.jobs.create(tenantId, byReference(REFERENCE), 2, new Date());
    expect(await data.jobs.createRetry(tenantId, unfinished.id, new Date())).toEqual({ kind: 'NOT_RETRYABLE', status: 'QUEUED' });
  });
});

describe('review and index jobs', () => {
  const reviewOf = (target: { mergeRequest: number } | { branch: string }): JobTask => ({ kind: 'REVIEW', repoAlias: 'billing', target });
  const indexOf = (ref: string): JobTask => ({ kind: 'INDEX', repoAlias: 'billing', ref });
  const claim = async (tenantId: string, workerId: string, jobId: string) =>
    data.jobs.claimQueued({ tenantId, workerId, candidates: [{ jobId: jobId, expectedCurrentAttempt: 0 }], leaseExpiresAt: new Date(Date.now() + 60_000), now: new Date() }).then((claims) => claims[0] ?? null);

  it('are stored with their target and dispatched as the task they were created with', async () => {
    const tenantId = await newTenant();
    const workerId = await enrolledWorker(tenantId);
    const byNumber = await data.jobs.create(tenantId, reviewOf({ mergeRequest: 2 ** 31 - 1 }), 2, new Date());
    const byBranch = await data.jobs.create(tenantId, reviewOf({ branch: 'feature/login' }), 2, new Date());
    const index = await data.jobs.create(tenantId, indexOf('release/2.0'), 2, new Date());
    expect(byNumber).toMatchObject({ kind: 'REVIEW', repoAlias: 'billing', baseRef: null, reviewMergeRequest: 2 ** 31 - 1, reviewBranch: null, ticketByReference: false });
    expect(byBranch).toMatchObject({ kind: 'REVIEW', reviewMergeRequest: null, reviewBranch: 'feature/login' });
    // An index job keeps its ref where a fix keeps its base ref.
    expect(index).toMatchObject({ kind: 'INDEX', baseRef: 'release/2.0', reviewMergeRequest: null, reviewBranch: null });

    expect((await claim(tenantId, workerId, byNumber.id))?.task).toEqual({ kind: 'REVIEW', repoAlias: 'billing', target: { mergeRequest: 2 ** 31 - 1 } });
    expect((await claim(tenantId, workerId, byBranch.id))?.task).toEqual({ kind: 'REVIEW', repoAlias: 'billing', target: { branch: 'feature/login' } });
    expect((await claim(tenantId, workerId, index.id))?.task).toEqual({ kind: 'INDEX', repoAlias: 'billing', ref: 'release/2.0' });
    expect((await data.jobs.listForTenant(tenantId, { limit: 10, kind: 'REVIEW' })).jobs.map((job) => job.id).sort()).toEqual([byNumber.id, byBranch.id].sort());
    expect((await data.jobs.listForTenant(tenantId, { limit: 10, kind: 'INDEX' })).jobs.map((job) => job.id)).toEqual([index.id]);
  });

  it('keep the review counts of their result', async () => {
    const tenantId = await newTenant();
    const workerId = await enrolledWorker(tenantId);
    const job = await data.jobs.create(tenantId, reviewOf({ mergeRequest: 9 }), 2, new Date());
    await claim(tenantId, workerId, job.id);
    const review = { critical: 1, major: 0, minor: 4, info: 2, dropped: 1 };
    expect(await data.jobs.recordResult({ workerId, jobId: job.id, attempt: 1 }, { ...succeeded(), review }, new Date())).toBe('RECORDED');
    expect(await data.jobs.findForTenant(tenantId, job.id)).toMatchObject({ status: 'SUCCEEDED', result: { review } });
  });

  it('are re-run with the same target and no delivery of their own, and take no ticket reference', async () => {
    const tenantId = await newTenant();
    const workerId = await enrolledWorker(tenantId);
    for (const task of [reviewOf({ mergeRequest: 9 }), reviewOf({ branch: 'feature/login' }), indexOf('main')]) {
      const original = await data.jobs.create(tenantId, task, 2, new Date());
      await data.jobs.requestCancel(tenantId, original.id, new Date());
      expect(await data.jobs.createRetry(tenantId, original.id, new Date(), 'jira:PROJ-1')).toEqual({ kind: 'TICKET_REF_UNEXPECTED', ticket: 'NONE' });
      const rerun = await data.jobs.createRetry(tenantId, original.id, new Date());
      expect(rerun).toMatchObject({ kind: 'CREATED', job: { kind: task.kind, retryOfJobId: original.id, ticketByReference: false } });
      expect((await claim(tenantId, workerId, rerun?.kind === 'CREATED' ? rerun.job.id : ''))?.task).toEqual(task);
    }
  });
});

describe('group commit of dispatch, acks and results', () => {
  const lease = () => new Date(Date.now() + 60_000);
  const queueNoops = async (tenantId: string, count: number) => {
    const jobs: string[] = [];
    for (let index = 0; index < count; index += 1) jobs.push((await data.jobs.create(tenantId, { kind: 'NOOP' }, 3, new Date())).id);
    return jobs;
  };
  const candidatesOf = (jobIds: readonly string[]) => jobIds.map((jobId) => ({ jobId, expectedCurrentAttempt: 0 }));

  it('claims a batch with one statement, leaving out what moved on, and never gives one job to two concurrent claims', async () => {
    const tenantId = await newTenant();
    const [first, second] = [await enrolledWorker(tenantId), await enrolledWorker(tenantId)];
    const jobIds = await queueNoops(tenantId, 40);
    await data.jobs.requestCancel(tenantId, jobIds[0]!, new Date()); // no longer queued
    const otherTenantJob = (await queueNoops(await newTenant(), 1))[0]!;

    const reversed = [...jobIds].reverse();
    const [byFirst, bySecond] = await Promise.all([
      data.jobs.claimQueued({ tenantId, workerId: first, candidates: candidatesOf([...jobIds, otherTenantJob, 'not-a-uuid']), leaseExpiresAt: lease(), now: new Date() }),
      data.jobs.claimQueued({ tenantId, workerId: second, candidates: candidatesOf(reversed), leaseExpiresAt: lease(), now: new Date() }),
    ]);
    const claimedIds = [...byFirst, ...bySecond].map((claim) => claim.jobId);
    expect(new Set(claimedIds).size).toBe(claimedIds.length);
    expect([...claimedIds].sort()).toEqual(jobIds.slice(1).sort());
    expect(byFirst.every((claim) => claim.attempt === 1 && claim.task.kind === 'NOOP')).toBe(true);
    // The answer keeps the candidates' order.
    expect(byFirst.map((claim) => claim.jobId)).toEqual(jobIds.filter((jobId) => byFirst.some((claim) => claim.jobId === jobId)));

    const detail = await data.jobs.findForTenant(tenantId, jobIds[1]!);
    expect(detail?.status).toBe('DISPATCHED');
    expect(detail?.attempts.map((attempt) => [attempt.attempt, attempt.status])).toEqual([[1, 'DISPATCHED']]);
    expect(detail?.events.map((event) => event.type)).toEqual(['CREATED', 'QUEUED', 'DISPATCHED']);
    // A candidate at an attempt the job is no longer at is stale.
    expect(await data.jobs.claimQueued({ tenantId, workerId: first, candidates: candidatesOf([jobIds[1]!]), leaseExpiresAt: lease(), now: new Date() })).toEqual([]);
  });

  it('records a batch of acks in one transaction: only the current attempt of the worker that holds it, each once', async () => {
    const tenantId = await newTenant();
    const [worker, stranger] = [await enrolledWorker(tenantId), await enrolledWorker(tenantId)];
    const jobIds = await queueNoops(tenantId, 3);
    await data.jobs.claimQueued({ tenantId, workerId: worker, candidates: candidatesOf(jobIds), leaseExpiresAt: lease(), now: new Date() });
    const ref = (jobId: string, attempt = 1, workerId = worker) => ({ workerId, jobId, attempt });

    const recorded = await data.jobs.recordAcks([ref(jobIds[0]!), ref(jobIds[1]!, 1, stranger), ref(jobIds[2]!, 2), ref(jobIds[0]!), ref(jobIds[1]!)], new Date());
    expect(recorded).toEqual([true, false, false, false, true]);
    const statuses = await Promise.all(jobIds.map(async (jobId) => (await data.jobs.findForTenant(tenantId, jobId))?.status));
    expect(statuses).toEqual(['RUNNING', 'RUNNING', 'DISPATCHED']);
    // Again: nothing is DISPATCHED any more, so nothing is recorded twice.
    expect(await data.jobs.recordAcks([ref(jobIds[0]!)], new Date())).toEqual([false]);
    const events = (await data.jobs.findForTenant(tenantId, jobIds[0]!))?.events.map((event) => event.type);
    expect(events?.filter((type) => type === 'ACKED')).toHaveLength(1);
  });

  it('records a batch of results with the disposition each would get alone', async () => {
    const tenantId = await newTenant();
    const worker = await enrolledWorker(tenantId);
    const jobIds = await queueNoops(tenantId, 2);
    await data.jobs.claimQueued({ tenantId, workerId: worker, candidates: candidatesOf(jobIds), leaseExpiresAt: lease(), now: new Date() });
    const item = (jobId: string, attempt = 1) => ({ ref: { workerId: worker, jobId, attempt }, result: succeeded() });

    const dispositions = await data.jobs.recordResults([item(jobIds[0]!), item(jobIds[0]!), item(jobIds[1]!, 7), item(jobIds[1]!)], new Date());
    expect(dispositions).toEqual(['RECORDED', 'DUPLICATE', 'UNKNOWN_ATTEMPT', 'RECORDED']);
    const statuses = await Promise.all(jobIds.map(async (jobId) => (await data.jobs.findForTenant(tenantId, jobId))?.status));
    expect(statuses).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  });
});

describe('claiming the best queued jobs: pools, priorities and running-jobs limits', () => {
  const ADMIN = { kind: 'USER' as const, id: randomUUID(), name: 'admin@example.test', sourceIp: null };
  const lease = () => new Date(Date.now() + 60_000);
  const queue = async (tenantId: string, pool: string | null, priority: number, count = 1) => {
    const jobs: string[] = [];
    for (let index = 0; index < count; index += 1) jobs.push((await data.jobs.create(tenantId, { kind: 'NOOP' }, 3, new Date(Date.now() + index), { pool, priority })).id);
    return jobs;
  };
  const claimNext = (tenantId: string, workerId: string, quotas: { pool: string | null; max: number }[], max: number) =>
    data.jobs.claimNext({ tenantId, workerId, quotas, max, leaseExpiresAt: lease(), now: new Date() });
  const finish = async (workerId: string, jobIds: readonly string[]) =>
    data.jobs.recordResults(
      jobIds.map((jobId) => ({ ref: { workerId, jobId, attempt: 1 }, result: succeeded() })),
      new Date(),
    );

  it('takes the best priority first, the oldest first among equals, and only from the pools it is given', async () => {
    const tenantId = await newTenant();
    const workerId = await enrolledWorker(tenantId);
    const [low] = await queue(tenantId, null, 1);
    const [oldNormal, youngNormal] = await queue(tenantId, null, 5, 2);
    const [urgent] = await queue(tenantId, null, 9);
    const [gpuUrgent] = await queue(tenantId, 'gpu', 9);
    const [gpuNormal] = await queue(tenantId, 'gpu', 5);

    const untargetedOnly = await claimNext(tenantId, workerId, [{ pool: null, max: 3 }], 3);
    expect(untargetedOnly).toEqual({ limited: false, claims: [urgent, oldNormal, youngNormal].map((jobId) => expect.objectContaining({ jobId, pool: null, attempt: 1 })) });

    // A worker of the pool takes its jobs and the untargeted ones, best first across both.
    const withGpu = await claimNext(tenantId, workerId, [{ pool: 'gpu', max: 1 }, { pool: null, max: 5 }], 5);
    expect(withGpu.claims.map((claim) => [claim.jobId, claim.pool])).toEqual([[gpuUrgent, 'gpu'], [low, null]]);
    // The pool's quota held its second job back.
    expect((await data.jobs.findForTenant(tenantId, gpuNormal!))?.status).toBe('QUEUED');
    expect(await claimNext(tenantId, workerId, [{ pool: 'other', max: 5 }], 5)).toEqual({ claims: [], limited: false });
  });

  it('never dispatches more of a tenant than its limit, and says the limit held jobs back', async () => {
    const tenantId = await newTenant();
    const workerId = await enrolledWorker(tenantId);
    await queue(tenantId, null, 5, 6);
    expect(await data.jobs.setDispatchLimits(tenantId, { maxRunningJobs: 2, pools: [] }, ADMIN, new Date())).toEqual({ maxRunningJobs: 2, pools: [] });

    const first = await claimNext(tenantId, workerId, [{ pool: null, max: 8 }], 8);
    expect(first.claims).toHaveLength(2);
    expect(first.limited).toBe(true);
    expect(await claimNext(tenantId, workerId, [{ pool: null, max: 8 }], 8)).toEqual({ claims: [], limited: true });

    await finish(workerId, [first.claims[0]!.jobId]);
    const next = await claimNext(tenantId, workerId, [{ pool: null, max: 8 }], 8);
    expect(next.claims).toHaveLength(1);

    // Lifting the limit lets the rest go in one claim.
    await data.jobs.setDispatchLimits(tenantId, { maxRunningJobs: null, pools: [] }, ADMIN, new Date());
    expect(await claimNext(tenantId, workerId, [{ pool: null, max: 8 }], 8)).toMatchObject({ limited: false, claims: { length: 3 } });
  });

  it("limits a pool's jobs without holding back the tenant's other jobs", async () => {
    const tenantId = await newTenant();
    const workerId = await enrolledWorker(tenantId);
    await queue(tenantId, 'gpu', 9, 4);
    const untargeted = await queue(tenantId, null, 5, 3);
    await data.jobs.setDispatchLimits(tenantId, { maxRunningJobs: null, pools: [{ pool: 'gpu', maxRunningJobs: 1 }] }, ADMIN, new Date());
    expect(await data.jobs.dispatchLimits(tenantId)).toEqual({ maxRunningJobs: null, pools: [{ pool: 'gpu', maxRunningJobs: 1 }] });

    const claimed = await claimNext(tenantId, workerId, [{ pool: 'gpu', max: 8 }, { pool: null, max: 8 }], 8);
    expect(claimed.claims.map((claim) => claim.pool)).toEqual(['gpu', null, null, null]);
    expect(claimed.claims.slice(1).map((claim) => claim.jobId)).toEqual(untargeted);
    expect(claimed.limited).toBe(true);
  });

  it('holds a limit under concurrent claims, and never gives one job to two claims', async () => {
    const limitedTenant = await newTenant();
    const freeTenant = await newTenant();
    await queue(limitedTenant, null, 5, 30);
    await queue(freeTenant, null, 5, 30);
    await data.jobs.setDispatchLimits(limitedTenant, { maxRunningJobs: 5, pools: [] }, ADMIN, new Date());
    const workers = async (tenantId: string) => Promise.all([1, 2, 3, 4, 5, 6].map(() => enrolledWorker(tenantId)));
    const [limitedWorkers, freeWorkers] = [await workers(limitedTenant), await workers(freeTenant)];

    const outcomes = await Promise.all([
      ...limitedWorkers.map((workerId) => claimNext(limitedTenant, workerId, [{ pool: null, max: 4 }], 4)),
      ...freeWorkers.map((workerId) => claimNext(freeTenant, workerId, [{ pool: null, max: 4 }], 4)),
    ]);
    const claimedOf = (from: number) => outcomes.slice(from, from + 6).flatMap((outcome) => outcome.claims.map((claim) => claim.jobId));
    expect(claimedOf(0)).toHaveLength(5);
    expect(new Set(claimedOf(6)).size).toBe(claimedOf(6).length);
    expect(claimedOf(6)).toHaveLength(24);
  });
});
