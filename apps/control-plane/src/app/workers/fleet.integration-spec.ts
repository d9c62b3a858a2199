import { createHash, randomBytes, randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import pg from 'pg';
import { parsePostgresUrl } from '@airlock/data-access';
import { applyMetadataLevel } from '@airlock/policy';
import { decodeInstructionPayload, isWorkerRevokedRefusal, type JobResult__Output, type WorkerGatewayClient } from '@airlock/protocol';
import { createDatabase, startPostgresCluster, type PostgresCluster } from '@airlock/testing';
import { createApiToken, createTenantWithAdminToken } from '../../test-support/tenant.fixture';
import { testAppConfig } from '../../test-support/test-app-config';
import { enroll, eventually, gatewayClient, TestWorker } from '../../test-support/test-worker';
import { startControlPlane, type RunningControlPlane } from '../control-plane';
import { EVENT_BUS, type DashboardEvent, type EventBus } from '../events/event-bus';

jest.setTimeout(120_000);

let cluster: PostgresCluster;
let controlPlane: RunningControlPlane;
let client: WorkerGatewayClient;
let sql: pg.Client;
let tenantCounter = 0;

beforeAll(async () => {
  cluster = await startPostgresCluster();
  const databaseUrl = await createDatabase(cluster.url, 'fleet_it');
  // Leases far longer than any test: a job back in the queue was put there by a revocation, not by a lease running out.
  // The test workers' 0.1.0 is deprecated (not refused), so that the fleet view shows every standing of a version.
  controlPlane = await startControlPlane(
    testAppConfig(databaseUrl, {
      AIRLOCK_LEASE_TTL: '10m',
      AIRLOCK_HEARTBEAT_INTERVAL: '1s',
      AIRLOCK_WORKER_DEPRECATED_BELOW: '0.2.0',
      AIRLOCK_WORKER_END_OF_SUPPORT: '2999-01-01',
      AIRLOCK_WORKER_RECOMMENDED_VERSION: '0.2.0',
    }),
  );
  client = gatewayClient(controlPlane.grpcAddress);
  sql = new pg.Client(parsePostgresUrl(databaseUrl));
  await sql.connect();
});

afterAll(async () => {
  await sql?.end();
  client?.close();
  await controlPlane?.stop();
  await cluster?.stop();
});

interface Tenant {
  readonly token: string;
  readonly tenantId: string;
  /** Every dashboard event of the tenant since it was created. */
  readonly events: DashboardEvent[];
}

async function newTenant(): Promise<Tenant> {
  tenantCounter += 1;
  const { token, tenantId } = await createTenantWithAdminToken(controlPlane.dataAccess, `fleet-tenant-${tenantCounter}`);
  const events: DashboardEvent[] = [];
  controlPlane.app.get<EventBus>(EVENT_BUS).subscribe(tenantId, (event) => events.push(event));
  return { token, tenantId, events };
}

async function api<T = Record<string, unknown>>(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${controlPlane.httpUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as T };
}

interface ErrorBody {
  code: string;
  message: string;
}
interface TokenCreated {
  id: string;
  token: string;
  expiresAt: string;
  pool: string | null;
}
interface TokenListed {
  id: string;
  state: string;
  pool: string | null;
  workerId: string | null;
  createdByName: string | null;
  revokedAt: string | null;
}
interface WorkerBody {
  id: string;
  status: string;
  draining: boolean;
  revoked: boolean;
  revokedAt: string | null;
  version: string;
  versionSupported: boolean;
  versionStatus: string;
  endOfSupport: string | null;
  labels: string[];
  pool: string | null;
  capacity: number;
  activeAttempts: number;
  localPolicyDigest: string | null;
  policyRevision: number;
  policyAppliedAt: string | null;
}
interface WorkerDetailBody extends WorkerBody {
  metadataLevel: string | null;
  allowedFields: { field: string; type: string; sent: boolean; treatment: string; note: string }[];
  policy: { revision: number; appliedAt: string | null; layers: { scope: string; key: string | null; mode: string; policyId: string; policyName: string | null; version: number }[] };
}
interface JobBody {
  id: string;
  status: string;
  attempts: { number: number; workerId: string; status: string }[];
}

async function createToken(tenant: Tenant, body: Record<string, unknown> = {}): Promise<TokenCreated> {
  const created = await api<TokenCreated>(tenant.token, 'POST', '/enrollment-tokens', body);
  expect(created.status).toBe(201);
  return created.body;
}

/** A worker enrolled with a new token of the tenant (naming `pool`), connected and welcomed, holding `credits`. */
async function connectedWorker(tenant: Tenant, options: { pool?: string; labels?: string[]; credits?: number } = {}): Promise<TestWorker> {
  const worker = new TestWorker(client);
  await worker.enroll((await createToken(tenant, options.pool ? { pool: options.pool } : {})).token);
  await worker.connect({ labels: options.labels ?? [] });
  await eventually(() => worker.received.find((frame) => frame.frame === 'welcome'), 'welcome');
  if (options.credits) worker.send({ credit: { credits: options.credits } });
  return worker;
}

async function reconnect(worker: TestWorker, credits = 0): Promise<void> {
  const welcomes = worker.received.filter((frame) => frame.frame === 'welcome').length;
  worker.close();
  worker.status = null;
  await worker.connect();
  await eventually(() => (worker.received.filter((frame) => frame.frame === 'welcome').length > welcomes ? true : undefined), 'welcome again');
  if (credits > 0) worker.send({ credit: { credits } });
}

/** The job ids of the instructions a worker received, in order. */
function jobsSentTo(worker: TestWorker): string[] {
  return worker.instructions().map((instruction) => decodeInstructionPayload(instruction.payload).jobId);
}

async function createNoopJob(tenant: Tenant): Promise<string> {
  const created = await api<JobBody>(tenant.token, 'POST', '/jobs', { kind: 'noop' });
  expect(created.status).toBe(201);
  return created.body.id;
}

async function job(tenant: Tenant, jobId: string): Promise<JobBody> {
  return (await api<JobBody>(tenant.token, 'GET', `/jobs/${jobId}`)).body;
}

async function workerDetail(tenant: Tenant, workerId: string): Promise<WorkerDetailBody> {
  const response = await api<WorkerDetailBody>(tenant.token, 'GET', `/workers/${workerId}`);
  expect(response.status).toBe(200);
  return response.body;
}

async function auditActions(tenantId: string): Promise<{ action: string; target: string; details: Record<string, unknown> }[]> {
  const { rows } = await sql.query<{ action: string; target: string; details: Record<string, unknown> }>(
    'SELECT "action", "target", "details" FROM "AdminAuditEntry" WHERE "tenantId" = $1 ORDER BY "seq"',
    [tenantId],
  );
  return rows;
}

const workerChanges = (tenant: Tenant, workerId: string) =>
  tenant.events.flatMap((event) => (event.type === 'worker.changed' && event.workerId === workerId ? [event.change] : []));

/** A result of a finished noop attempt as a worker sends it at `level` (its figures emptied or bucketed by libs/policy). */
function resultAt(jobId: string, attempt: number, level: { report: 'minimal' | 'standard'; buckets: boolean }): { result: JobResult__Output } {
  const full: JobResult__Output = {
    attempt: { jobId, attempt },
    outcome: 'JOB_OUTCOME_SUCCEEDED',
    failureCode: 'FAILURE_CODE_UNSPECIFIED',
    failedPhase: 'PHASE_UNSPECIFIED',
    phaseDurations: [{ phase: 'PHASE_TEST', durationMs: 40 }],
    tokens: { requests: 1, promptTokens: 300, completionTokens: 50 },
    change: { filesChanged: 1, linesAdded: 2, linesRemoved: 1, editsProposed: 1, editsApplied: 1 },
    verification: {
      testsRan: true, testExitCode: 0, baseTestsRan: false, baseTestExitCode: 0, baseReportRead: false, reportRead: false,
      testsBefore: 0, failingBefore: 0, testsAfter: 0, failingAfter: 0, testsFixed: 0, testsRegressed: 0, agentTestRuns: 0, reproductionAdded: false,
    },
    contextFiles: 2,
    changeMac: randomBytes(32),
    deliveryMac: Buffer.alloc(0),
    policy: { revision: 0, shadowRevision: 0, decisions: [] },
    metadataLevel: 'METADATA_LEVEL_UNSPECIFIED',
    review: null,
    ticketRefMac: Buffer.alloc(0),
    delivery: 'DELIVERY_BRANCH',
    modelUsage: [],
  };
  return { result: applyMetadataLevel(full, level) };
}

/** Dispatches a new noop job to `worker` (which must hold a credit) and acks it: RUNNING on it. */
async function runningJobOn(tenant: Tenant, worker: TestWorker): Promise<string> {
  const jobId = await createNoopJob(tenant);
  await eventually(() => (jobsSentTo(worker).includes(jobId) ? true : undefined), 'instruction');
  worker.send({ ack: { attempt: { jobId, attempt: 1 } } });
  await eventually(async () => ((await job(tenant, jobId)).status === 'RUNNING' ? true : undefined), 'RUNNING');
  return jobId;
}

describe('enrollment tokens', () => {
  it('name a pool the worker joins, list with their state and creator, never the token, and revoke unused', async () => {
    const tenant = await newTenant();
    const pooled = await createToken(tenant, { pool: 'gpu', ttlSeconds: 600 });
    expect(pooled).toMatchObject({ id: expect.any(String), token: expect.stringMatching(/^aet_/), pool: 'gpu' });
    const unused = await createToken(tenant);
    const revoked = await createToken(tenant);
    const expiredToken = `aet_${randomBytes(32).toString('base64url')}`;
    await controlPlane.dataAccess.enrollment.createToken({
      tenantId: tenant.tenantId,
      tokenHash: createHash('sha256').update(expiredToken).digest('hex'),
      expiresAt: new Date(Date.now() - 1_000),
    });

    const first = await api<TokenListed>(tenant.token, 'POST', `/enrollment-tokens/${revoked.id}/revoke`);
    expect(first).toMatchObject({ status: 200, body: { id: revoked.id, state: 'REVOKED' } });
    const again = await api<TokenListed>(tenant.token, 'POST', `/enrollment-tokens/${revoked.id}/revoke`);
    expect(again).toMatchObject({ status: 200, body: { state: 'REVOKED', revokedAt: first.body.revokedAt } });
    // A revoked token is refused like an expired or unknown one.
    await expect(new TestWorker(client).enroll(revoked.token)).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    await expect(new TestWorker(client).enroll(expiredToken)).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });

    const worker = new TestWorker(client);
    await worker.enroll(pooled.token);
    const listed = await api<TokenListed[]>(tenant.token, 'GET', '/enrollment-tokens');
    expect(listed.status).toBe(200);
    const byId = new Map(listed.body.map((token) => [token.id, token]));
    expect(byId.get(pooled.id)).toMatchObject({ state: 'USED', pool: 'gpu', workerId: worker.workerId, createdByName: 'integration test' });
    expect(byId.get(unused.id)).toMatchObject({ state: 'ACTIVE', pool: null, workerId: null });
    expect(byId.get(revoked.id)).toMatchObject({ state: 'REVOKED' });
    expect(listed.body.find((token) => ![pooled.id, unused.id, revoked.id].includes(token.id))).toMatchObject({ state: 'EXPIRED', createdByName: null });
    expect(listed.body).toHaveLength(4);
    for (const token of listed.body) expect(Object.keys(token).filter((key) => /token|hash/i.test(key))).toEqual([]);
    expect(JSON.stringify(listed.body)).not.toContain('aet_');
    expect((await api<TokenListed[]>(tenant.token, 'GET', '/enrollment-tokens?limit=2')).body.map((token) => token.id)).toHaveLength(2);

    const used = await api<ErrorBody>(tenant.token, 'POST', `/enrollment-tokens/${pooled.id}/revoke`);
    expect(used).toMatchObject({ status: 409, body: { code: 'ENROLLMENT_TOKEN_ALREADY_USED' } });
    expect(used.body.message).toContain(worker.workerId);

    expect((await workerDetail(tenant, worker.workerId)).pool).toBe('gpu');
    expect(workerChanges(tenant, worker.workerId)).toEqual(['ENROLLED']);
    const audit = await auditActions(tenant.tenantId);
    expect(audit.map((entry) => entry.action)).toEqual(['enrollment-token.created', 'enrollment-token.created', 'enrollment-token.created', 'enrollment-token.revoked']);
    expect(audit[0]).toMatchObject({ target: `enrollment-token:${pooled.id}`, details: { pool: 'gpu' } });
    expect(audit[3]).toMatchObject({ target: `enrollment-token:${revoked.id}` });
  });

  it('refuses a pool that is not a pool label, and a limit out of range, naming the field', async () => {
    const tenant = await newTenant();
    for (const pool of ['GPU', 'secret project', '', 'x'.repeat(64), 7, null]) {
      const refused = await api<ErrorBody>(tenant.token, 'POST', '/enrollment-tokens', { pool });
      expect(refused).toMatchObject({ status: 400, body: { code: 'INVALID_REQUEST' } });
      expect(refused.body.message).toMatch(/^pool: expected a pool label matching/);
    }
    expect((await api<ErrorBody>(tenant.token, 'GET', '/enrollment-tokens?limit=0')).body.message).toBe('limit: expected an integer in 1..500');
    expect((await api<ErrorBody>(tenant.token, 'POST', '/enrollment-tokens/not-a-uuid/revoke')).body.message).toBe('id: expected a UUID');
  });
});

describe('pools', () => {
  it("send a pool layer to the worker its token enrolled in that pool, as to one whose labels name it, and show it in the rollout", async () => {
    const tenant = await newTenant();
    const policy = await api<{ id: string }>(tenant.token, 'POST', '/policies', { name: 'gpu-limits', document: { schemaVersion: 1, rules: { 'max-files-changed': { max: 5 } } } });
    expect(policy.status).toBe(201);
    const enrolledInPool = await connectedWorker(tenant, { pool: 'gpu' });
    const labelled = await connectedWorker(tenant, { labels: ['gpu'] });
    const elsewhere = await connectedWorker(tenant, { labels: ['cpu'] });

    const published = await api(tenant.token, 'POST', `/policies/${policy.body.id}/versions/1/publish`, { scope: 'pool', key: 'gpu', mode: 'enforce' });
    expect(published.status).toBe(200);
    // Each applies its bundle as a worker does (verified, acknowledged); which layers did it carry?
    const slotsOf = async (worker: TestWorker) => {
      const [bundle] = await eventually(() => (worker.policyBundles().length === 1 ? worker.policyBundles() : undefined), 'bundle');
      const { layers } = worker.handleBundle(bundle!);
      return layers?.layers.map((layer) => `${layer.scope}:${layer.key ?? ''}`);
    };
    expect(await slotsOf(enrolledInPool)).toEqual(['pool:gpu']);
    expect(await slotsOf(labelled)).toEqual(['pool:gpu']);
    expect(await slotsOf(elsewhere)).toEqual([]);

    const rollout = await api<{ workers: { workerId: string; labels: string[] }[] }>(tenant.token, 'GET', '/policy/rollout');
    expect(rollout.body.workers.find((worker) => worker.workerId === enrolledInPool.workerId)?.labels).toEqual(['gpu']);
    // The trust view names the layers its bundle carried once it acknowledged the revision.
    const detail = await eventually(async () => {
      const body = await workerDetail(tenant, enrolledInPool.workerId);
      return body.policyAppliedAt !== null ? body : undefined;
    }, 'policy applied');
    expect(detail.policy).toEqual({
      revision: 1,
      appliedAt: detail.policyAppliedAt,
      layers: [{ scope: 'pool', key: 'gpu', mode: 'enforce', policyId: policy.body.id, policyName: 'gpu-limits', version: 1 }],
    });
    expect((await workerDetail(tenant, elsewhere.workerId)).policy.layers).toEqual([]);
    for (const worker of [enrolledInPool, labelled, elsewhere]) worker.close();
  });
});

describe('revoking a worker', () => {
  it('ends its stream as revoked, requeues what it held at once, refuses every later Hello, and is final', async () => {
    const tenant = await newTenant();
    const worker = await connectedWorker(tenant, { credits: 1 });
    const jobId = await runningJobOn(tenant, worker);

    const revoked = await api<WorkerDetailBody>(tenant.token, 'POST', `/workers/${worker.workerId}/revoke`);
    expect(revoked).toMatchObject({ status: 200, body: { id: worker.workerId, revoked: true, activeAttempts: 0 } });
    const status = await eventually(() => worker.status ?? undefined, 'stream status');
    expect(status).toMatchObject({ code: grpc.status.PERMISSION_DENIED, details: expect.stringMatching(/revoked/) });
    expect(isWorkerRevokedRefusal(status)).toBe(true);
    // Requeued before the answer came, not when the ten-minute lease would have run out.
    const requeued = await job(tenant, jobId);
    expect(requeued.status).toBe('QUEUED');
    expect(requeued.attempts).toEqual([expect.objectContaining({ number: 1, workerId: worker.workerId, status: 'LEASE_EXPIRED' })]);

    // Its next Hello is refused the same way, signature and all.
    worker.status = null;
    await worker.connect();
    const refused = await eventually(() => worker.status ?? undefined, 'refusal of the next hello');
    expect(isWorkerRevokedRefusal(refused)).toBe(true);
    expect(worker.received.filter((frame) => frame.frame === 'welcome')).toHaveLength(1);

    // Another worker takes the job as attempt 2.
    const other = await connectedWorker(tenant, { credits: 1 });
    await eventually(() => (jobsSentTo(other).includes(jobId) ? true : undefined), 'attempt 2 on the other worker');
    expect((await job(tenant, jobId)).attempts.map((attempt) => [attempt.number, attempt.workerId])).toEqual([
      [1, worker.workerId],
      [2, other.workerId],
    ]);

    const again = await api<WorkerDetailBody>(tenant.token, 'POST', `/workers/${worker.workerId}/revoke`);
    expect(again).toMatchObject({ status: 200, body: { revoked: true, revokedAt: revoked.body.revokedAt } });
    for (const action of ['drain', 'undrain']) {
      expect(await api<ErrorBody>(tenant.token, 'POST', `/workers/${worker.workerId}/${action}`)).toMatchObject({ status: 409, body: { code: 'WORKER_REVOKED' } });
    }
    const listed = await eventually(async () => {
      const workers = (await api<WorkerBody[]>(tenant.token, 'GET', '/workers')).body;
      return workers.find((entry) => entry.id === worker.workerId && entry.status === 'OFFLINE');
    }, 'offline');
    expect(listed).toMatchObject({ revoked: true, activeAttempts: 0 });
    const audit = await auditActions(tenant.tenantId);
    expect(audit.filter((entry) => entry.action === 'worker.revoked')).toEqual([{ action: 'worker.revoked', target: `worker:${worker.workerId}`, details: { liveAttempts: 1 } }]);
    // The stream's end is announced once its worker is marked offline, which may come after REVOKED.
    await eventually(() => (workerChanges(tenant, worker.workerId).includes('DISCONNECTED') ? true : undefined), 'DISCONNECTED');
    expect(workerChanges(tenant, worker.workerId).sort()).toEqual(['CONNECTED', 'DISCONNECTED', 'ENROLLED', 'REVOKED']);
    expect(tenant.events).toContainEqual(expect.objectContaining({ type: 'job.changed', jobId, status: 'QUEUED' }));
    other.close();
  });

  it('refuses a result, and a heartbeat, from a worker revoked while its stream stayed open (as on another replica)', async () => {
    const tenant = await newTenant();
    const worker = await connectedWorker(tenant, { credits: 1 });
    const jobId = await runningJobOn(tenant, worker);
    // The revocation committed without this process ending the stream, as another replica's would.
    await sql.query('UPDATE "Worker" SET "revokedAt" = now() WHERE "id" = $1', [worker.workerId]);

    worker.send(resultAt(jobId, 1, { report: 'standard', buckets: false }));
    const status = await eventually(() => worker.status ?? undefined, 'stream status');
    expect(isWorkerRevokedRefusal(status)).toBe(true);
    expect(worker.resultAcks()).toEqual([]);
    expect((await job(tenant, jobId)).status).toBe('RUNNING');

    const heartbeating = await connectedWorker(tenant, { credits: 1 });
    await sql.query('UPDATE "Worker" SET "revokedAt" = now() WHERE "id" = $1', [heartbeating.workerId]);
    heartbeating.send({ heartbeat: { seq: 1, running: [], freeSlots: 1 } });
    expect(isWorkerRevokedRefusal(await eventually(() => heartbeating.status ?? undefined, 'heartbeat refused'))).toBe(true);
    expect(heartbeating.received.filter((frame) => frame.frame === 'leaseRenewal')).toHaveLength(1); // the Hello's only
  });
});

describe('draining a worker', () => {
  it('gives it nothing new while another worker takes the work, across reconnects, until undrained', async () => {
    const tenant = await newTenant();
    const drained = await connectedWorker(tenant, { credits: 4 });
    const other = await connectedWorker(tenant);
    const running = await runningJobOn(tenant, drained);

    const response = await api<WorkerDetailBody>(tenant.token, 'POST', `/workers/${drained.workerId}/drain`);
    expect(response).toMatchObject({ status: 200, body: { draining: true, activeAttempts: 1 } });
    expect((await api<WorkerDetailBody>(tenant.token, 'POST', `/workers/${drained.workerId}/drain`)).body.draining).toBe(true);

    // It still holds three credits; the job waits for the other worker's.
    const first = await createNoopJob(tenant);
    other.send({ credit: { credits: 1 } });
    await eventually(() => (jobsSentTo(other).includes(first) ? true : undefined), 'first job on the other worker');
    // What it runs carries on: its result is recorded.
    drained.send(resultAt(running, 1, { report: 'standard', buckets: false }));
    await eventually(() => (drained.resultAcks()[0]?.disposition === 'RESULT_DISPOSITION_RECORDED' ? true : undefined), 'result recorded');

    // The drain is in the database: a new stream of the worker is still given nothing.
    await reconnect(drained, 4);
    const second = await createNoopJob(tenant);
    other.send({ credit: { credits: 1 } });
    await eventually(() => (jobsSentTo(other).includes(second) ? true : undefined), 'second job on the other worker');
    expect(jobsSentTo(drained)).toEqual([running]);
    expect((await workerDetail(tenant, drained.workerId)).draining).toBe(true);

    const undrained = await api<WorkerDetailBody>(tenant.token, 'POST', `/workers/${drained.workerId}/undrain`);
    expect(undrained).toMatchObject({ status: 200, body: { draining: false } });
    const third = await createNoopJob(tenant);
    await eventually(() => (jobsSentTo(drained).includes(third) ? true : undefined), 'third job on the undrained worker');

    const audit = await auditActions(tenant.tenantId);
    expect(audit.filter((entry) => entry.action.startsWith('worker.')).map((entry) => [entry.action, entry.target])).toEqual([
      ['worker.drained', `worker:${drained.workerId}`],
      ['worker.undrained', `worker:${drained.workerId}`],
    ]);
    expect(workerChanges(tenant, drained.workerId).filter((change) => change === 'DRAINING' || change === 'UNDRAINED')).toEqual(['DRAINING', 'UNDRAINED']);
    drained.close();
    other.close();
  });
});

describe('the fleet read model', () => {
  it('shows where the version of each worker stands in the supported window, its pools, load and policy digest', async () => {
    const tenant = await newTenant();
    const current = await connectedWorker(tenant, { labels: ['eu'], pool: 'gpu', credits: 2 });
    await runningJobOn(tenant, current);
    const newer = await enroll(client, { enrollmentToken: (await createToken(tenant)).token, workerPublicKey: randomBytes(32), workerVersion: '0.2.0' });
    const candidate = await enroll(client, { enrollmentToken: (await createToken(tenant)).token, workerPublicKey: randomBytes(32), workerVersion: '0.2.0-rc.1' });
    const ancient = await enroll(client, { enrollmentToken: (await createToken(tenant)).token, workerPublicKey: randomBytes(32), workerVersion: '0.0.9' });
    const future = await enroll(client, { enrollmentToken: (await createToken(tenant)).token, workerPublicKey: randomBytes(32), workerVersion: '1.0.0' });

    const workers = (await api<WorkerBody[]>(tenant.token, 'GET', '/workers')).body;
    const endOfSupport = '2999-01-01T00:00:00.000Z';
    expect(workers.map((worker) => [worker.id, worker.version, worker.versionSupported, worker.versionStatus, worker.endOfSupport])).toEqual([
      [current.workerId, '0.1.0', true, 'DEPRECATED', endOfSupport],
      [newer.workerId, '0.2.0', true, 'SUPPORTED', null],
      [candidate.workerId, '0.2.0-rc.1', true, 'DEPRECATED', endOfSupport],
      [ancient.workerId, '0.0.9', false, 'TOO_OLD', null],
      [future.workerId, '1.0.0', false, 'TOO_NEW', null],
    ]);
    expect(workers[0]).toMatchObject({
      status: 'ONLINE',
      draining: false,
      revoked: false,
      labels: ['eu'],
      pool: 'gpu',
      capacity: 4,
      activeAttempts: 1,
      localPolicyDigest: '07'.repeat(32),
      policyRevision: 0,
    });
    expect(workers[1]).toMatchObject({ status: 'OFFLINE', activeAttempts: 0, localPolicyDigest: null, labels: [], pool: null });
    expect((await api<WorkerBody[]>(tenant.token, 'GET', '/workers?limit=1')).body).toHaveLength(1);
    expect((await api<ErrorBody>(tenant.token, 'GET', '/workers?limit=1001')).body.message).toBe('limit: expected an integer in 1..1000');
    current.close();
  });

  it("gives a worker's trust view: the level of its last result and, field by field, what that level lets it send", async () => {
    const tenant = await newTenant();
    const worker = await connectedWorker(tenant, { credits: 2 });
    const before = await workerDetail(tenant, worker.workerId);
    expect(before).toMatchObject({ metadataLevel: null, allowedFields: [], policy: { revision: 0, appliedAt: null, layers: [] } });

    const jobId = await runningJobOn(tenant, worker);
    worker.send(resultAt(jobId, 1, { report: 'minimal', buckets: false }));
    await eventually(() => (worker.resultAcks()[0]?.disposition === 'RESULT_DISPOSITION_RECORDED' ? true : undefined), 'result recorded');
    const minimal = await workerDetail(tenant, worker.workerId);
    expect(minimal.metadataLevel).toBe('METADATA_LEVEL_MINIMAL');
    const fields = new Map(minimal.allowedFields.map((entry) => [entry.field, entry]));
    expect(fields.get('tokens.promptTokens')).toEqual({ field: 'tokens.promptTokens', type: 'uint32', sent: false, treatment: 'NOT_SENT', note: 'Left empty at this level.' });
    expect(fields.get('phaseDurations[].durationMs')).toMatchObject({ sent: true, treatment: 'ROUNDED_100_MS' });
    expect(fields.get('outcome')).toMatchObject({ type: 'enum JobOutcome', sent: true });
    expect(fields.get('changeMac')).toMatchObject({ type: 'bytes', sent: false });

    const later = await runningJobOn(tenant, worker);
    worker.send(resultAt(later, 1, { report: 'standard', buckets: true }));
    await eventually(() => (worker.resultAcks().length === 2 ? true : undefined), 'second result recorded');
    const bucketed = await workerDetail(tenant, worker.workerId);
    expect(bucketed.metadataLevel).toBe('METADATA_LEVEL_STANDARD_BUCKETED');
    expect(bucketed.allowedFields.find((entry) => entry.field === 'tokens.promptTokens')).toMatchObject({ sent: true, treatment: 'POWER_OF_TWO' });
    worker.close();
  });
});

describe('tenancy and scopes', () => {
  it("answers another tenant's worker and token with 404 on every route, and refuses fleet changes without fleet:write", async () => {
    const owner = await newTenant();
    const stranger = await newTenant();
    const token = await createToken(owner);
    const worker = new TestWorker(client);
    await worker.enroll((await createToken(owner)).token);

    for (const [method, path] of [
      ['GET', `/workers/${worker.workerId}`],
      ['POST', `/workers/${worker.workerId}/revoke`],
      ['POST', `/workers/${worker.workerId}/drain`],
      ['POST', `/workers/${worker.workerId}/undrain`],
    ] as const) {
      expect(await api<ErrorBody>(stranger.token, method, path)).toMatchObject({ status: 404, body: { code: 'WORKER_NOT_FOUND' } });
    }
    expect(await api<ErrorBody>(stranger.token, 'GET', `/workers/${randomUUID()}`)).toMatchObject({ status: 404, body: { code: 'WORKER_NOT_FOUND' } });
    expect(await api<ErrorBody>(stranger.token, 'POST', `/enrollment-tokens/${token.id}/revoke`)).toMatchObject({ status: 404, body: { code: 'ENROLLMENT_TOKEN_NOT_FOUND' } });
    expect((await api<WorkerBody[]>(stranger.token, 'GET', '/workers')).body).toEqual([]);
    expect((await api<TokenListed[]>(stranger.token, 'GET', '/enrollment-tokens')).body).toEqual([]);

    const viewer = await createApiToken(controlPlane.dataAccess, owner.tenantId, ['fleet:read'], 'viewer');
    expect((await api(viewer, 'GET', `/workers/${worker.workerId}`)).status).toBe(200);
    expect((await api(viewer, 'GET', '/enrollment-tokens')).status).toBe(200);
    for (const path of [`/workers/${worker.workerId}/revoke`, `/workers/${worker.workerId}/drain`, `/workers/${worker.workerId}/undrain`, `/enrollment-tokens/${token.id}/revoke`]) {
      expect(await api<ErrorBody>(viewer, 'POST', path)).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    }
    const unchanged = await workerDetail(owner, worker.workerId);
    expect(unchanged).toMatchObject({ revoked: false, draining: false });
    expect((await auditActions(owner.tenantId)).map((entry) => entry.action)).toEqual(['enrollment-token.created', 'enrollment-token.created']);
  });
});

describe("a worker's egress-log heads", () => {
  interface LedgerHeads {
    workerId: string;
    latest: { seq: number; head: string; receivedAt: string } | null;
    checkpoints: { seq: number; head: string; receivedAt: string }[];
  }
  const hashOf = (seq: number, fork = '') => createHash('sha256').update(`line ${seq}${fork}`).digest();
  const renewals = (worker: TestWorker) => worker.received.filter((frame) => frame.frame === 'leaseRenewal').length;
  /** Sends a heartbeat and waits for its LeaseRenewal: the head it carried has been judged by then. */
  const heartbeat = async (worker: TestWorker, seq: number, ledgerSeq: number, ledgerHead: Buffer) => {
    const before = renewals(worker);
    worker.send({ heartbeat: { seq, running: [], freeSlots: 0, ledgerSeq, ledgerHead } });
    await eventually(() => (renewals(worker) > before ? true : undefined), `lease renewal of heartbeat ${seq}`);
  };

  it('keeps what heartbeats report, refuses a head that goes back or rewrites a line, and answers only its own tenant', async () => {
    const tenant = await newTenant();
    const worker = await connectedWorker(tenant);
    const path = `/workers/${worker.workerId}/ledger-heads`;
    expect((await api<LedgerHeads>(tenant.token, 'GET', path)).body).toEqual({ workerId: worker.workerId, latest: null, checkpoints: [] });

    await heartbeat(worker, 1, 4, hashOf(4));
    await heartbeat(worker, 2, 9, hashOf(9));
    // A head lower than the one held (the log cut back), then the same line with another hash (rewritten): neither is kept.
    await heartbeat(worker, 3, 6, hashOf(6));
    await heartbeat(worker, 4, 9, hashOf(9, 'rewritten'));

    const { status, body } = await api<LedgerHeads>(tenant.token, 'GET', path);
    expect(status).toBe(200);
    expect(body.latest).toMatchObject({ seq: 9, head: hashOf(9).toString('hex') });
    // The first head is a checkpoint; the second came within five minutes of it.
    expect(body.checkpoints).toEqual([{ seq: 4, head: hashOf(4).toString('hex'), receivedAt: expect.any(String) }]);
    expect(worker.status).toBeNull();

    expect((await api<ErrorBody>((await newTenant()).token, 'GET', path)).body.code).toBe('WORKER_NOT_FOUND');
  });
});

describe('control frames a worker obeys only when signed', () => {
  it('signs every LeaseRenewal, Cancel and ResultAck for the worker and the stream it is sent on', async () => {
    const tenant = await newTenant();
    const worker = await connectedWorker(tenant, { credits: 1 });
    const jobId = await runningJobOn(tenant, worker);
    const unknownAttempt = { jobId: randomUUID(), attempt: 1 };
    worker.send({ heartbeat: { seq: 1, running: [{ jobId, attempt: 1 }, unknownAttempt], freeSlots: 0 } });
    await eventually(() => worker.received.find((frame) => frame.frame === 'cancel'), 'cancel of the attempt the worker was never given');
    worker.send(resultAt(jobId, 1, { report: 'standard', buckets: false }));
    await eventually(() => worker.resultAcks()[0], 'result ack');

    // Checked as a worker checks them, against the keys pinned at enrollment: none would be dropped.
    const signedKinds = worker.received.map((frame) => frame.frame).filter((kind) => kind === 'leaseRenewal' || kind === 'cancel' || kind === 'resultAck');
    expect(new Set(signedKinds)).toEqual(new Set(['leaseRenewal', 'cancel', 'resultAck']));
    expect(worker.frameRefusals).toEqual([]);

    // After a reconnect they are signed for the new stream's challenge (the worker checks them against that one).
    await reconnect(worker);
    worker.send({ heartbeat: { seq: 1, running: [], freeSlots: 0 } });
    await eventually(() => (worker.received.filter((frame) => frame.frame === 'leaseRenewal').length >= 3 ? true : undefined), 'renewal on the new stream');
    expect(worker.frameRefusals).toEqual([]);
  });
});
