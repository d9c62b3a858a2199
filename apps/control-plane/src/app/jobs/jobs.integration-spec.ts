import { randomInt } from 'node:crypto';
import type { JobStatus } from '@airlock/data-access';
import { createDatabase, findInDatabase, startPostgresCluster, type PostgresCluster } from '@airlock/testing';
import { decodeInstructionPayload, type WorkerGatewayClient } from '@airlock/protocol';
import { createApiToken, createTenantWithAdminToken } from '../../test-support/tenant.fixture';
import { testAppConfig } from '../../test-support/test-app-config';
import { eventually, gatewayClient, TestWorker } from '../../test-support/test-worker';
import type { Clock } from '../common/clock';
import { startControlPlane, type RunningControlPlane } from '../control-plane';
import { EVENT_BUS, type DashboardEvent, type EventBus } from '../events/event-bus';
import type { JobDetailResponse, JobResponse } from './dto/job.response';

jest.setTimeout(60_000);

let cluster: PostgresCluster;
let databaseUrl: string;
let controlPlane: RunningControlPlane;
let client: WorkerGatewayClient;
let tenantCounter = 0;
const unsubscribers: (() => void)[] = [];

beforeAll(async () => {
  cluster = await startPostgresCluster();
  databaseUrl = await createDatabase(cluster.url, 'jobs_api_it');
  controlPlane = await startControlPlane(
    testAppConfig(databaseUrl, { AIRLOCK_LEASE_TTL: '1s', AIRLOCK_HEARTBEAT_INTERVAL: '200ms', AIRLOCK_MAX_ATTEMPTS: '2' }),
    { clock: strictlyIncreasingClock() },
  );
  client = gatewayClient(controlPlane.grpcAddress);
});

afterAll(async () => {
  for (const unsubscribe of unsubscribers) unsubscribe();
  client?.close();
  await controlPlane?.stop();
  await cluster?.stop();
});

/**
 * The system's time, but never the same millisecond twice: jobs created one after another
 * then list in the order they were created, which the listing assertions rely on.
 */
function strictlyIncreasingClock(): Clock {
  let last = 0;
  return {
    now: () => {
      last = Math.max(Date.now(), last + 1);
      return new Date(last);
    },
  };
}

function newTenant(): Promise<{ token: string; tenantId: string }> {
  tenantCounter += 1;
  return createTenantWithAdminToken(controlPlane.dataAccess, `jobs-tenant-${tenantCounter}`);
}

async function api<T = Record<string, unknown>>(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T; headers: Headers }> {
  const response = await fetch(`${controlPlane.httpUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as T, headers: response.headers };
}

/** Every job.changed event of the tenant from now on, as the event bus delivers them to the event streams. */
function jobEventsOf(tenantId: string): { statusesOf(jobId: string): JobStatus[]; until(jobId: string, statuses: readonly JobStatus[]): Promise<JobStatus[]> } {
  const heard: Extract<DashboardEvent, { type: 'job.changed' }>[] = [];
  unsubscribers.push(controlPlane.app.get<EventBus>(EVENT_BUS).subscribe(tenantId, (event) => (event.type === 'job.changed' ? heard.push(event) : undefined)));
  const statusesOf = (jobId: string) => heard.filter((event) => event.jobId === jobId).map((event) => event.status);
  return {
    statusesOf,
    /** Waits until the job's events number as many as `statuses`, and returns them to compare. */
    until: (jobId, statuses) => eventually(() => (statusesOf(jobId).length >= statuses.length ? statusesOf(jobId) : undefined), `events ${statuses.join(', ')} of ${jobId}`),
  };
}

async function connectedWorker(token: string, capacity = 4): Promise<TestWorker> {
  const worker = new TestWorker(client);
  const { body } = await api<{ token: string }>(token, 'POST', '/enrollment-tokens', {});
  await worker.enroll(body.token);
  await worker.connect({ capacity });
  await eventually(() => worker.received.find((frame) => frame.frame === 'welcome'), 'welcome');
  return worker;
}

/** Gives the worker one credit and waits for the instruction it brings. */
async function nextInstruction(worker: TestWorker): Promise<void> {
  const before = worker.instructions().length;
  worker.send({ credit: { credits: 1 } });
  await eventually(() => (worker.instructions().length > before ? true : undefined), 'an instruction');
}

const createJob = async (token: string, body: object = { kind: 'noop' }): Promise<string> => (await api<JobResponse>(token, 'POST', '/jobs', body)).body.id;
const fixJob = (repoAlias: string) => ({ kind: 'fix', repoAlias, baseRef: 'main', ticket: { title: 'Fix the off-by-one' } });

function result(jobId: string, attempt: number, outcome: 'JOB_OUTCOME_SUCCEEDED' | 'JOB_OUTCOME_FAILED' | 'JOB_OUTCOME_CANCELLED') {
  const failureCode: 'FAILURE_CODE_UNSPECIFIED' | 'CANCELLED' | 'TESTS_FAILED' =
    outcome === 'JOB_OUTCOME_SUCCEEDED' ? 'FAILURE_CODE_UNSPECIFIED' : outcome === 'JOB_OUTCOME_CANCELLED' ? 'CANCELLED' : 'TESTS_FAILED';
  return {
    result: {
      attempt: { jobId, attempt },
      outcome,
      failureCode,
      failedPhase: 'PHASE_UNSPECIFIED' as const,
      phaseDurations: [],
      tokens: { requests: 0, promptTokens: 0, completionTokens: 0 },
      change: { filesChanged: 0, linesAdded: 0, linesRemoved: 0, editsProposed: 0, editsApplied: 0 },
      verification: { testsRan: false, testExitCode: 0 },
      contextFiles: 0,
      changeMac: Buffer.alloc(0),
      deliveryMac: Buffer.alloc(0),
      metadataLevel: 'METADATA_LEVEL_STANDARD' as const,
    },
  };
}

describe('job.changed events', () => {
  it('announce creation and the cancel of a queued job', async () => {
    const { token, tenantId } = await newTenant();
    const events = jobEventsOf(tenantId);
    const jobId = await createJob(token);
    expect((await api(token, 'POST', `/jobs/${jobId}/cancel`)).status).toBe(200);
    expect(await events.until(jobId, ['QUEUED', 'CANCELLED'])).toEqual(['QUEUED', 'CANCELLED']);
  });

  it('announce dispatch, ack, the first cancel request (not a repeat) and the CANCELLED result', async () => {
    const { token, tenantId } = await newTenant();
    const events = jobEventsOf(tenantId);
    const worker = await connectedWorker(token);
    const jobId = await createJob(token);
    await nextInstruction(worker);
    worker.send({ ack: { attempt: { jobId, attempt: 1 } } });
    await events.until(jobId, ['QUEUED', 'DISPATCHED', 'RUNNING']);
    expect((await api(token, 'POST', `/jobs/${jobId}/cancel`)).status).toBe(202);
    expect((await api(token, 'POST', `/jobs/${jobId}/cancel`)).status).toBe(202);
    worker.send(result(jobId, 1, 'JOB_OUTCOME_CANCELLED'));
    // The second RUNNING is the cancel request: the job still runs until its worker stops.
    expect(await events.until(jobId, ['QUEUED', 'DISPATCHED', 'RUNNING', 'RUNNING', 'CANCELLED'])).toEqual(['QUEUED', 'DISPATCHED', 'RUNNING', 'RUNNING', 'CANCELLED']);
    worker.close();
  });

  it('announce a SUCCEEDED and a FAILED result, and a rejected instruction', async () => {
    const { token, tenantId } = await newTenant();
    const events = jobEventsOf(tenantId);
    const worker = await connectedWorker(token);
    const outcomes = [
      ['JOB_OUTCOME_SUCCEEDED', 'SUCCEEDED'],
      ['JOB_OUTCOME_FAILED', 'FAILED'],
    ] as const;
    for (const [outcome, status] of outcomes) {
      const jobId = await createJob(token);
      await nextInstruction(worker);
      worker.send({ ack: { attempt: { jobId, attempt: 1 } } });
      worker.send(result(jobId, 1, outcome));
      expect(await events.until(jobId, ['QUEUED', 'DISPATCHED', 'RUNNING', status])).toEqual(['QUEUED', 'DISPATCHED', 'RUNNING', status]);
    }
    const rejectedId = await createJob(token, fixJob('unknown-repo'));
    await nextInstruction(worker);
    worker.send({ rejected: { attempt: { jobId: rejectedId, attempt: 1 }, failureCode: 'REPO_ALIAS_UNKNOWN' } });
    expect(await events.until(rejectedId, ['QUEUED', 'DISPATCHED', 'FAILED'])).toEqual(['QUEUED', 'DISPATCHED', 'FAILED']);
    worker.close();
  });

  it('announce a job a full worker turned away going back to the queue', async () => {
    const { token, tenantId } = await newTenant();
    const events = jobEventsOf(tenantId);
    const worker = await connectedWorker(token);
    const jobId = await createJob(token);
    await nextInstruction(worker);
    worker.send({ rejected: { attempt: { jobId, attempt: 1 }, failureCode: 'WORKER_AT_CAPACITY' } });
    expect(await events.until(jobId, ['QUEUED', 'DISPATCHED', 'QUEUED'])).toEqual(['QUEUED', 'DISPATCHED', 'QUEUED']);
    await nextInstruction(worker);
    expect(await events.until(jobId, ['QUEUED', 'DISPATCHED', 'QUEUED', 'DISPATCHED'])).toHaveLength(4);
    worker.close();
  });

  it('announce lease expiries: requeued, then FAILED after the last attempt', async () => {
    const { token, tenantId } = await newTenant();
    const events = jobEventsOf(tenantId);
    const worker = await connectedWorker(token);
    const jobId = await createJob(token);
    // No heartbeats: each 1 s lease runs out, and AIRLOCK_MAX_ATTEMPTS is 2.
    await nextInstruction(worker);
    await events.until(jobId, ['QUEUED', 'DISPATCHED', 'QUEUED']);
    await nextInstruction(worker);
    expect(await events.until(jobId, ['QUEUED', 'DISPATCHED', 'QUEUED', 'DISPATCHED', 'FAILED'])).toEqual(['QUEUED', 'DISPATCHED', 'QUEUED', 'DISPATCHED', 'FAILED']);
    expect((await api<JobResponse>(token, 'GET', `/jobs/${jobId}`)).body).toMatchObject({ status: 'FAILED', failureCode: 'LEASE_EXPIRED' });
    worker.close();
  });

  it('announce a job its worker left ending CANCELLED when its lease expires after a cancel request', async () => {
    const { token, tenantId } = await newTenant();
    const events = jobEventsOf(tenantId);
    const worker = await connectedWorker(token);
    const jobId = await createJob(token);
    await nextInstruction(worker);
    worker.close();
    expect((await api(token, 'POST', `/jobs/${jobId}/cancel`)).status).toBe(202);
    expect(await events.until(jobId, ['QUEUED', 'DISPATCHED', 'DISPATCHED', 'CANCELLED'])).toEqual(['QUEUED', 'DISPATCHED', 'DISPATCHED', 'CANCELLED']);
  });

  it('announce a stored job that can never be dispatched failing at dispatch', async () => {
    const { token, tenantId } = await newTenant();
    const events = jobEventsOf(tenantId);
    const worker = await connectedWorker(token);
    worker.send({ credit: { credits: 1 } });
    // Stored before creation checked instructions: no ticket title. The queue picks it up on its next resync.
    const job = await controlPlane.dataAccess.jobs.create(tenantId, { kind: 'FIX', repoAlias: 'demo', baseRef: 'main', ticketTitle: '', ticketDescription: '', ticketRef: null }, 2, new Date());
    expect(await events.until(job.id, ['DISPATCHED', 'FAILED'])).toEqual(['DISPATCHED', 'FAILED']);
    worker.close();
  });
});

describe('POST /api/v1/jobs/:id/retry', () => {
  it('queues a new job with the same task and maxAttempts, naming the original, and announces it', async () => {
    const { token, tenantId } = await newTenant();
    const events = jobEventsOf(tenantId);
    const originalId = await createJob(token, fixJob('billing'));
    await api(token, 'POST', `/jobs/${originalId}/cancel`);

    const retried = await api<JobResponse>(token, 'POST', `/jobs/${originalId}/retry`);
    expect(retried.status).toBe(201);
    expect(retried.body).toMatchObject({ kind: 'fix', repoAlias: 'billing', baseRef: 'main', status: 'QUEUED', currentAttempt: 0, maxAttempts: 2, retryOfJobId: originalId });
    expect(retried.body.id).not.toBe(originalId);
    expect(await events.until(retried.body.id, ['QUEUED'])).toEqual(['QUEUED']);
    expect((await api<JobDetailResponse>(token, 'GET', `/jobs/${retried.body.id}`)).body).toMatchObject({ retryOfJobId: originalId, events: [{ type: 'CREATED' }, { type: 'QUEUED' }] });
    expect((await api<JobDetailResponse>(token, 'GET', `/jobs/${originalId}`)).body).toMatchObject({ status: 'CANCELLED', retryOfJobId: null });

    // The retry is dispatched like any job, with the original's ticket, to the original's branch, after it.
    const worker = await connectedWorker(token);
    await nextInstruction(worker);
    expect(await events.until(retried.body.id, ['QUEUED', 'DISPATCHED'])).toEqual(['QUEUED', 'DISPATCHED']);
    const payload = decodeInstructionPayload(worker.instructions().at(-1)!.payload);
    expect(payload).toMatchObject({ jobId: retried.body.id, fix: { ticket: { title: 'Fix the off-by-one' }, deliveryJobId: originalId, deliveryGeneration: 1 } });
    worker.close();
  });

  it('answers 409 JOB_NOT_RETRYABLE naming the status of a job that has not finished', async () => {
    const { token } = await newTenant();
    const jobId = await createJob(token);
    const refused = await api(token, 'POST', `/jobs/${jobId}/retry`);
    expect(refused).toMatchObject({
      status: 409,
      body: { statusCode: 409, code: 'JOB_NOT_RETRYABLE', message: `job ${jobId} is QUEUED; only a finished job (SUCCEEDED, FAILED or CANCELLED) can be re-run` },
    });
  });

  it("answers 404 for another tenant's job, 400 for a malformed id and 403 without jobs:write", async () => {
    const owner = await newTenant();
    const stranger = await newTenant();
    const jobId = await createJob(owner.token);
    await api(owner.token, 'POST', `/jobs/${jobId}/cancel`);
    expect(await api(stranger.token, 'POST', `/jobs/${jobId}/retry`)).toMatchObject({ status: 404, body: { code: 'JOB_NOT_FOUND', message: `job ${jobId} not found` } });
    expect(await api(owner.token, 'POST', '/jobs/not-a-uuid/retry')).toMatchObject({ status: 400, body: { message: 'id: expected a UUID' } });
    const reader = await createApiToken(controlPlane.dataAccess, owner.tenantId, ['jobs:read'], 'reader');
    expect(await api(reader, 'POST', `/jobs/${jobId}/retry`)).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
  });
});

describe('review and index jobs', () => {
  const reviewByNumber = { kind: 'review', repoAlias: 'billing', mergeRequest: 42 };
  const reviewByBranch = { kind: 'review', repoAlias: 'billing', branch: 'feature/login' };
  const indexJob = { kind: 'index', repoAlias: 'billing', ref: 'release/2.0' };

  it('are created with their target, and their instruction carries the task a worker validates', async () => {
    const { token } = await newTenant();
    const byNumber = await api<JobResponse>(token, 'POST', '/jobs', reviewByNumber);
    expect(byNumber).toMatchObject({ status: 201, body: { kind: 'review', repoAlias: 'billing', mergeRequest: 42, branch: null, baseRef: null, ref: null, ticketByReference: false } });
    const byBranch = await api<JobResponse>(token, 'POST', '/jobs', reviewByBranch);
    expect(byBranch.body).toMatchObject({ kind: 'review', mergeRequest: null, branch: 'feature/login', ref: null });
    const index = await api<JobResponse>(token, 'POST', '/jobs', indexJob);
    expect(index).toMatchObject({ status: 201, body: { kind: 'index', repoAlias: 'billing', ref: 'release/2.0', baseRef: null, mergeRequest: null, branch: null } });

    const worker = await connectedWorker(token);
    for (let i = 0; i < 3; i += 1) await nextInstruction(worker);
    const payloads = worker.instructions().map((instruction) => decodeInstructionPayload(instruction.payload));
    const payloadOf = (jobId: string) => payloads.find((payload) => payload.jobId === jobId);
    expect(payloadOf(byNumber.body.id)).toMatchObject({ task: 'review', review: { repoAlias: 'billing', target: 'mergeRequest', mergeRequest: 42 } });
    expect(payloadOf(byBranch.body.id)).toMatchObject({ task: 'review', review: { repoAlias: 'billing', target: 'branch', branch: 'feature/login' } });
    expect(payloadOf(index.body.id)).toMatchObject({ task: 'index', index: { repoAlias: 'billing', ref: 'release/2.0' } });
    // Nothing of a fix rides along: no ticket, no delivery chain.
    for (const payload of payloads) expect(payload.fix).toBeUndefined();
    worker.close();
  });

  it('record a review result with its comments by severity, and show an index job plainly', async () => {
    const { token } = await newTenant();
    const worker = await connectedWorker(token);
    const reviewId = await createJob(token, reviewByNumber);
    await nextInstruction(worker);
    worker.send({ ack: { attempt: { jobId: reviewId, attempt: 1 } } });
    const review = { critical: 1, major: 2, minor: 5, info: 3, dropped: 4 };
    worker.send({ result: { ...result(reviewId, 1, 'JOB_OUTCOME_SUCCEEDED').result, review } });
    const indexId = await createJob(token, indexJob);
    await nextInstruction(worker);
    worker.send(result(indexId, 1, 'JOB_OUTCOME_SUCCEEDED'));
    await eventually(() => (worker.resultAcks().length === 2 ? true : undefined), 'both result acks');

    const reviewed = (await api<JobDetailResponse>(token, 'GET', `/jobs/${reviewId}`)).body;
    expect(reviewed).toMatchObject({ kind: 'review', status: 'SUCCEEDED', mergeRequest: 42, implausible: [], result: { review } });
    const indexed = (await api<JobDetailResponse>(token, 'GET', `/jobs/${indexId}`)).body;
    // Neither tests nor a change: nothing implausible about that.
    expect(indexed).toMatchObject({ kind: 'index', status: 'SUCCEEDED', ref: 'release/2.0', implausible: [], result: { review: null }, deliveryOutcome: null });
    worker.close();
  });

  it('are refused with 400 naming the field: a missing or doubled target, a malformed ref, a field of another kind', async () => {
    const { token } = await newTenant();
    const refused = async (body: object) => {
      const response = await api<{ code: string; message: string }>(token, 'POST', '/jobs', body);
      expect(response.status).toBe(400);
      return response.body.message;
    };
    expect(await refused({ kind: 'review', repoAlias: 'billing' })).toBe('mergeRequest: expected an integer (required for a review job, unless branch names its merge request)');
    expect(await refused({ ...reviewByNumber, branch: 'main' })).toBe('branch: expected absent when mergeRequest is given: name the merge request by number or by branch, not both');
    expect(await refused({ ...reviewByNumber, mergeRequest: 2 ** 31 })).toBe('mergeRequest: expected an integer in 1..2147483647');
    expect(await refused({ ...reviewByBranch, branch: 'feature..login' })).toBe('branch: expected a git ref name of at most 200 characters');
    expect(await refused({ ...indexJob, ref: undefined })).toBe('ref: expected a string (required for an index job)');
    expect(await refused({ ...indexJob, ref: '-main' })).toBe('ref: expected a git ref name of at most 200 characters');
    expect(await refused({ ...indexJob, baseRef: 'main' })).toBe('baseRef: expected absent: an index job has no baseRef');
    expect(await refused({ ...reviewByNumber, ticket: { title: 'Review it' } })).toBe('ticket: expected absent: a review job has no ticket');
    expect((await api<JobResponse[]>(token, 'GET', '/jobs')).body).toEqual([]);
  });

  it('are re-run with the same target, and refuse a ticket reference', async () => {
    const { token } = await newTenant();
    const reviewId = await createJob(token, reviewByBranch);
    const indexId = await createJob(token, indexJob);
    await api(token, 'POST', `/jobs/${reviewId}/cancel`);
    await api(token, 'POST', `/jobs/${indexId}/cancel`);
    expect(await api(token, 'POST', `/jobs/${reviewId}/retry`, { ticketRef: 'jira:PROJ-1' })).toMatchObject({
      status: 400,
      body: { code: 'INVALID_REQUEST', message: `ticketRef: expected absent: job ${reviewId} has no ticket` },
    });
    const rerunReview = await api<JobResponse>(token, 'POST', `/jobs/${reviewId}/retry`);
    expect(rerunReview).toMatchObject({ status: 201, body: { kind: 'review', branch: 'feature/login', mergeRequest: null, retryOfJobId: reviewId } });
    const rerunIndex = await api<JobResponse>(token, 'POST', `/jobs/${indexId}/retry`);
    expect(rerunIndex).toMatchObject({ status: 201, body: { kind: 'index', ref: 'release/2.0', retryOfJobId: indexId } });

    const worker = await connectedWorker(token);
    await nextInstruction(worker);
    await nextInstruction(worker);
    const tasks = worker.instructions().map((instruction) => decodeInstructionPayload(instruction.payload));
    expect(tasks.find((payload) => payload.jobId === rerunReview.body.id)).toMatchObject({ review: { repoAlias: 'billing', branch: 'feature/login' } });
    expect(tasks.find((payload) => payload.jobId === rerunIndex.body.id)).toMatchObject({ index: { repoAlias: 'billing', ref: 'release/2.0' } });
    worker.close();
  });
});

describe('GET /api/v1/jobs', () => {
  it('filters by kind, repository alias, status and creation time', async () => {
    const { token } = await newTenant();
    const billing = await createJob(token, fixJob('billing'));
    const payments = await createJob(token, fixJob('payments'));
    const noop = await createJob(token);
    await api(token, 'POST', `/jobs/${payments}/cancel`);
    const ids = async (query: string) => (await api<JobResponse[]>(token, 'GET', `/jobs?${query}`)).body.map((job) => job.id);

    expect(await ids('')).toEqual([noop, payments, billing]);
    expect(await ids('kind=noop')).toEqual([noop]);
    expect(await ids('kind=fix')).toEqual([payments, billing]);
    expect(await ids('repoAlias=billing')).toEqual([billing]);
    expect(await ids('status=CANCELLED&kind=fix')).toEqual([payments]);
    // As the JSON carries it: an ISO timestamp.
    const created = (await api<{ createdAt: string }>(token, 'GET', `/jobs/${payments}`)).body.createdAt;
    expect(await ids(`createdFrom=${encodeURIComponent(created)}`)).toEqual([noop, payments]);
    expect(await ids(`createdTo=${encodeURIComponent(created)}`)).toEqual([billing]);
    expect(await ids('createdFrom=2000-01-01T00:00:00%2B01:00&createdTo=2000-01-02T00:00:00Z')).toEqual([]);
  });

  it('filters by the review and index kinds, each job with its target', async () => {
    const { token } = await newTenant();
    const fix = await createJob(token, fixJob('billing'));
    const review = await createJob(token, { kind: 'review', repoAlias: 'billing', mergeRequest: 7 });
    const index = await createJob(token, { kind: 'index', repoAlias: 'billing', ref: 'main' });
    const listed = async (query: string) => (await api<JobResponse[]>(token, 'GET', `/jobs?${query}`)).body;
    expect((await listed('')).map((job) => job.id)).toEqual([index, review, fix]);
    expect(await listed('kind=review')).toEqual([expect.objectContaining({ id: review, kind: 'review', mergeRequest: 7, branch: null })]);
    expect(await listed('kind=index')).toEqual([expect.objectContaining({ id: index, kind: 'index', ref: 'main', baseRef: null })]);
    expect((await listed('kind=fix&repoAlias=billing')).map((job) => [job.id, job.baseRef, job.ref])).toEqual([[fix, 'main', null]]);
  });

  it('pages with the X-Next-Cursor header, absent on the last page', async () => {
    const { token } = await newTenant();
    const created: string[] = [];
    for (let i = 0; i < 5; i += 1) created.push(await createJob(token));

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { body: JobResponse[]; headers: Headers } = await api<JobResponse[]>(token, 'GET', `/jobs?limit=2${cursor ? `&before=${encodeURIComponent(cursor)}` : ''}`);
      seen.push(...page.body.map((job) => job.id));
      cursor = page.headers.get('x-next-cursor');
      pages += 1;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...created].reverse());
  });

  it('names each bad parameter and what it expects', async () => {
    const { token } = await newTenant();
    const message = async (query: string) => {
      const response = await api<{ code: string; message: string }>(token, 'GET', `/jobs?${query}`);
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('INVALID_REQUEST');
      return response.body.message;
    };
    expect(await message('kind=FIXX')).toBe('kind: expected one of fix, noop, review, index');
    expect(await message('repoAlias=Not%20An%20Alias')).toMatch(/^repoAlias: expected a repository alias matching/);
    expect(await message('createdFrom=2026-02-30T00:00:00Z')).toBe('createdFrom: expected an ISO 8601 timestamp with a time zone, e.g. 2026-12-01T00:00:00Z');
    expect(await message('createdTo=2026-12-01T10:00:00')).toBe('createdTo: expected an ISO 8601 timestamp with a time zone, e.g. 2026-12-01T00:00:00Z');
    expect(await message('createdFrom=2026-12-02T00:00:00Z&createdTo=2026-12-01T00:00:00Z')).toBe('createdTo: expected a time after createdFrom');
    expect(await message('before=not-a-cursor')).toBe('before: expected the X-Next-Cursor header of a previous page, unchanged');
    expect(await message('before=a&before=b')).toBe('before: expected the X-Next-Cursor header of a previous page, unchanged');
    expect(await message('limit=201')).toBe('limit: expected an integer in 1..200');
  });

  it('is documented with its filters and the X-Next-Cursor header', async () => {
    type Operation = { parameters: { name: string }[]; responses: Record<string, { headers?: Record<string, unknown> }> };
    const document = (await (await fetch(`${controlPlane.httpUrl}/api/docs-json`)).json()) as { paths: Record<string, { get?: Operation; post?: Operation }> };
    const list = document.paths['/api/v1/jobs']?.get;
    expect(list?.parameters.map((parameter) => parameter.name).sort()).toEqual(['before', 'createdFrom', 'createdTo', 'kind', 'limit', 'repoAlias', 'status']);
    expect(Object.keys(list?.responses['200']?.headers ?? {})).toEqual(['X-Next-Cursor']);
    expect(Object.keys(document.paths['/api/v1/jobs/{id}/retry']?.post?.responses ?? {}).sort()).toEqual(['201', '400', '404', '409']);
  });
});

describe('GET /api/v1/jobs/:id', () => {
  it('gives each completed or failed phase the time since it started, for a phase timeline, announcing each phase live', async () => {
    const { token, tenantId } = await newTenant();
    const events = jobEventsOf(tenantId);
    const worker = await connectedWorker(token);
    const jobId = await createJob(token);
    await nextInstruction(worker);
    const attempt = { jobId, attempt: 1 };
    worker.send({ ack: { attempt } });
    worker.send({ progress: { attempt, phase: 'PHASE_WORKSPACE', state: 'PHASE_STATE_STARTED' } });
    worker.send({ progress: { attempt, phase: 'PHASE_WORKSPACE', state: 'PHASE_STATE_COMPLETED' } });
    worker.send({ progress: { attempt, phase: 'PHASE_TEST', state: 'PHASE_STATE_STARTED' } });
    worker.send({ progress: { attempt, phase: 'PHASE_TEST', state: 'PHASE_STATE_FAILED' } });
    worker.send(result(jobId, 1, 'JOB_OUTCOME_FAILED'));
    await eventually(() => (worker.resultAcks().length === 1 ? true : undefined), 'the result ack');

    const { body } = await api<JobDetailResponse>(token, 'GET', `/jobs/${jobId}`);
    expect(body.events.map((event) => [event.type, event.phase, event.durationMs === null ? null : 'measured'])).toEqual([
      ['CREATED', null, null],
      ['QUEUED', null, null],
      ['DISPATCHED', null, null],
      ['ACKED', null, null],
      ['PHASE_STARTED', 'PHASE_WORKSPACE', null],
      ['PHASE_COMPLETED', 'PHASE_WORKSPACE', 'measured'],
      ['PHASE_STARTED', 'PHASE_TEST', null],
      ['PHASE_FAILED', 'PHASE_TEST', 'measured'],
      ['RESULT_RECORDED', null, null],
    ]);
    for (const event of body.events) if (event.durationMs !== null) expect(event.durationMs).toBeGreaterThanOrEqual(0);
    // Each phase step is a job.changed (status still RUNNING) so a job page redraws its timeline.
    expect(await events.until(jobId, ['QUEUED', 'DISPATCHED', 'RUNNING', 'RUNNING', 'RUNNING', 'RUNNING', 'RUNNING', 'FAILED'])).toEqual([
      'QUEUED',
      'DISPATCHED',
      'RUNNING',
      'RUNNING',
      'RUNNING',
      'RUNNING',
      'RUNNING',
      'FAILED',
    ]);
    worker.close();
  });
});

describe('a ticket named by reference', () => {
  /** A reference no other scenario uses, so a scan of the whole database finds only this one's. */
  const uniqueReference = () => `jira:PROJ-${randomInt(1_000_000, 9_999_999)}`;
  const byReference = (ticketRef: string) => ({ kind: 'fix', repoAlias: 'billing', baseRef: 'main', ticketRef });

  it('travels to the worker as the reference alone, and is in no table once the job ended, where its digest stays', async () => {
    const { token } = await newTenant();
    const reference = uniqueReference();
    const created = await api<JobResponse>(token, 'POST', '/jobs', byReference(reference));
    expect(created).toMatchObject({ status: 201, body: { kind: 'fix', ticketByReference: true, ticketRef: reference, ticketRefMac: null } });
    const jobId = created.body.id;

    const worker = await connectedWorker(token);
    await nextInstruction(worker);
    const payload = decodeInstructionPayload(worker.instructions().at(-1)!.payload);
    expect(payload).toMatchObject({ jobId, fix: { ticketRef: reference, ticket: { title: '', description: '' }, deliveryJobId: jobId } });
    // The scan finds the reference while the job holds it: its finding nothing later means something.
    expect((await findInDatabase(databaseUrl, reference)).map((hit) => hit.split(':')[0])).toEqual(['Job']);

    const digest = Buffer.alloc(32, 0x3c);
    worker.send({ ack: { attempt: { jobId, attempt: 1 } } });
    const finished = result(jobId, 1, 'JOB_OUTCOME_SUCCEEDED');
    worker.send({ result: { ...finished.result, ticketRefMac: digest } });
    await eventually(() => (worker.resultAcks().length === 1 ? true : undefined), 'the result ack');

    const detail = await api<JobDetailResponse>(token, 'GET', `/jobs/${jobId}`);
    expect(detail.body).toMatchObject({ status: 'SUCCEEDED', ticketByReference: true, ticketRef: null, ticketRefMac: digest.toString('hex'), result: { ticketRefMac: digest.toString('hex') } });
    expect((await api<JobResponse[]>(token, 'GET', '/jobs')).body).toEqual([expect.objectContaining({ id: jobId, ticketRef: null, ticketRefMac: digest.toString('hex') })]);
    expect(await findInDatabase(databaseUrl, reference)).toEqual([]);
    worker.close();
  });

  it('is in no table once a cancel ended the queued job', async () => {
    const { token } = await newTenant();
    const reference = uniqueReference();
    const jobId = await createJob(token, byReference(reference));
    expect((await api(token, 'POST', `/jobs/${jobId}/cancel`)).status).toBe(200);
    expect((await api<JobDetailResponse>(token, 'GET', `/jobs/${jobId}`)).body).toMatchObject({ status: 'CANCELLED', ticketByReference: true, ticketRef: null, ticketRefMac: null });
    expect(await findInDatabase(databaseUrl, reference)).toEqual([]);
  });

  it('is refused with 400 naming ticketRef when malformed or given beside a typed ticket; one of the two is required', async () => {
    const { token } = await newTenant();
    expect(await api(token, 'POST', '/jobs', byReference('PROJ-123'))).toMatchObject({
      status: 400,
      body: { code: 'INVALID_JOB_REQUEST', message: 'ticketRef: expected a ticket reference <tracker>:<key>, such as jira:PROJ-123 (in the instruction a worker would receive)' },
    });
    expect(await api(token, 'POST', '/jobs', { ...byReference('jira:PROJ-123'), ticket: { title: 'Fix it' } })).toMatchObject({
      status: 400,
      body: { code: 'INVALID_REQUEST', message: 'ticketRef: expected absent when ticket is given: name the ticket by reference or type it in, not both' },
    });
    expect(await api(token, 'POST', '/jobs', { kind: 'fix', repoAlias: 'billing', baseRef: 'main' })).toMatchObject({
      status: 400,
      body: { code: 'INVALID_REQUEST', message: 'ticket: expected an object (required for a fix job, unless ticketRef names the ticket)' },
    });
    expect((await api(token, 'POST', '/jobs', { kind: 'noop', ticketRef: 'jira:PROJ-123' })).status).toBe(400);
    expect((await api<JobResponse[]>(token, 'GET', '/jobs')).body).toEqual([]);
  });

  it('must be named again to re-run a job whose reference was erased, and is refused for a typed ticket', async () => {
    const { token } = await newTenant();
    const originalId = await createJob(token, byReference(uniqueReference()));
    await api(token, 'POST', `/jobs/${originalId}/cancel`);
    const required = `ticketRef: expected the ticket reference (required): job ${originalId} named its ticket by reference, which the control plane erased when the job ended`;
    expect(await api(token, 'POST', `/jobs/${originalId}/retry`)).toMatchObject({ status: 400, body: { code: 'INVALID_REQUEST', message: required } });
    expect(await api(token, 'POST', `/jobs/${originalId}/retry`, {})).toMatchObject({ status: 400, body: { message: required } });
    expect(await api(token, 'POST', `/jobs/${originalId}/retry`, { ticketRef: 'not a reference' })).toMatchObject({
      status: 400,
      body: { code: 'INVALID_REQUEST', message: 'ticketRef: expected a ticket reference <tracker>:<key>, such as jira:PROJ-123' },
    });

    const again = uniqueReference();
    const rerun = await api<JobResponse>(token, 'POST', `/jobs/${originalId}/retry`, { ticketRef: again });
    expect(rerun).toMatchObject({ status: 201, body: { retryOfJobId: originalId, ticketByReference: true, ticketRef: again } });
    const worker = await connectedWorker(token);
    await nextInstruction(worker);
    expect(decodeInstructionPayload(worker.instructions().at(-1)!.payload)).toMatchObject({
      jobId: rerun.body.id,
      fix: { ticketRef: again, ticket: { title: '' }, deliveryJobId: originalId, deliveryGeneration: 1 },
    });
    worker.close();

    const typedId = await createJob(token, fixJob('billing'));
    await api(token, 'POST', `/jobs/${typedId}/cancel`);
    expect(await api(token, 'POST', `/jobs/${typedId}/retry`, { ticketRef: again })).toMatchObject({
      status: 400,
      body: { code: 'INVALID_REQUEST', message: `ticketRef: expected absent: job ${typedId} has its ticket typed in, and the re-run reuses that text` },
    });
    expect((await api(token, 'POST', `/jobs/${typedId}/retry`)).status).toBe(201);
  });
});

describe('pools, priorities and running-jobs limits', () => {
  it('sends a job targeted at a pool only to a worker of that pool, the higher priority first', async () => {
    const { token } = await newTenant();
    const plain = await connectedWorker(token);
    const gpu = new TestWorker(client);
    await gpu.enroll((await api<{ token: string }>(token, 'POST', '/enrollment-tokens', {})).body.token);
    await gpu.connect({ capacity: 4, labels: ['gpu'] });
    await eventually(() => gpu.received.find((frame) => frame.frame === 'welcome'), 'welcome');

    const created = await api<JobResponse>(token, 'POST', '/jobs', { kind: 'noop', pool: 'gpu', priority: 2 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ pool: 'gpu', priority: 2 });
    const urgent = await createJob(token, { kind: 'noop', pool: 'gpu', priority: 9 });
    const untargeted = await createJob(token);
    expect((await api<JobResponse>(token, 'GET', `/jobs/${untargeted}`)).body).toMatchObject({ pool: null, priority: 5 });

    await nextInstruction(plain);
    await new Promise((resolve) => setTimeout(resolve, 200));
    plain.send({ credit: { credits: 2 } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(plain.instructions().map((instruction) => decodeInstructionPayload(instruction.payload as Uint8Array).jobId)).toEqual([untargeted]);

    await nextInstruction(gpu);
    expect(decodeInstructionPayload(gpu.instructions()[0]!.payload as Uint8Array).jobId).toBe(urgent);
    await nextInstruction(gpu);
    expect(decodeInstructionPayload(gpu.instructions()[1]!.payload as Uint8Array).jobId).toBe(created.body.id);
    plain.close();
    gpu.close();
  });

  it('holds jobs back at the limit, dispatches the next when a job ends, and audits the change of limits', async () => {
    const { token } = await newTenant();
    const limits = await api(token, 'PUT', '/dispatch-limits', { maxRunningJobs: 1, pools: [{ pool: 'gpu', maxRunningJobs: 1 }] });
    expect(limits).toMatchObject({ status: 200, body: { maxRunningJobs: 1, pools: [{ pool: 'gpu', maxRunningJobs: 1 }] } });
    expect((await api(token, 'GET', '/dispatch-limits')).body).toEqual(limits.body);
    const audit = await api<{ action: string; details: Record<string, unknown> }[]>(token, 'GET', '/audit-log?action=dispatch.limits-changed');
    expect(audit.body.map((entry) => [entry.action, entry.details])).toEqual([['dispatch.limits-changed', { maxRunningJobs: 1, pools: 'gpu=1' }]]);

    const worker = await connectedWorker(token, 4);
    const [first, second] = [await createJob(token), await createJob(token)];
    worker.send({ credit: { credits: 4 } });
    await eventually(() => (worker.instructions().length === 1 ? true : undefined), 'the first instruction');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(worker.instructions()).toHaveLength(1);
    expect(decodeInstructionPayload(worker.instructions()[0]!.payload as Uint8Array).jobId).toBe(first);

    worker.send({ ack: { attempt: { jobId: first, attempt: 1 } } });
    worker.send(result(first, 1, 'JOB_OUTCOME_SUCCEEDED'));
    await eventually(() => (worker.instructions().length === 2 ? true : undefined), 'the second instruction, once the first job ended');
    expect(decodeInstructionPayload(worker.instructions()[1]!.payload as Uint8Array).jobId).toBe(second);
    worker.close();
  });

  it('refuses a malformed pool, priority or limit with 400 naming the field', async () => {
    const { token } = await newTenant();
    const refused = async (method: string, path: string, body: object) => {
      const response = await api<{ message: string }>(token, method, path, body);
      expect(response.status).toBe(400);
      return response.body.message;
    };
    expect(await refused('POST', '/jobs', { kind: 'noop', pool: 'GPU pool' })).toBe('pool: expected a pool label matching ^[a-z0-9][a-z0-9._-]{0,62}$ (lower case, at most 63 characters)');
    expect(await refused('POST', '/jobs', { kind: 'noop', priority: 10 })).toBe('priority: expected an integer in 0..9');
    expect(await refused('POST', '/jobs', { kind: 'noop', priority: 1.5 })).toBe('priority: expected an integer in 0..9');
    expect(await refused('PUT', '/dispatch-limits', { maxRunningJobs: 0, pools: [] })).toBe('maxRunningJobs: expected an integer in 1..100000');
    expect(await refused('PUT', '/dispatch-limits', { pools: [] })).toBe('maxRunningJobs: expected an integer or null (required)');
    expect(await refused('PUT', '/dispatch-limits', { maxRunningJobs: null, pools: [{ pool: 'gpu', maxRunningJobs: 2 }, { pool: 'gpu', maxRunningJobs: 3 }] })).toBe(
      'pools: expected each pool at most once',
    );
    expect(await refused('PUT', '/dispatch-limits', { maxRunningJobs: null, pools: [{ pool: 'gpu' }] })).toBe('pools."0".maxRunningJobs: expected an integer (required)');
    expect((await api(token, 'GET', '/dispatch-limits')).body).toEqual({ maxRunningJobs: null, pools: [] });
  });
});
