import { Client } from 'pg';
import { createDatabase, startPostgresCluster, type PostgresCluster } from '@airlock/testing';
import { isWorkerRevokedRefusal, type DeliveryOutcome, type WorkerGatewayClient } from '@airlock/protocol';
import { createTenantWithAdminToken } from '../../test-support/tenant.fixture';
import { testAppConfig } from '../../test-support/test-app-config';
import { eventually, gatewayClient, TestWorker } from '../../test-support/test-worker';
import { startControlPlane, type RunningControlPlane } from '../control-plane';
import { EVENT_BUS, type DashboardEvent, type EventBus } from '../events/event-bus';
import type { JobDetailResponse, JobResponse } from '../jobs/dto/job.response';

jest.setTimeout(60_000);

let cluster: PostgresCluster;
let databaseUrl: string;
let controlPlane: RunningControlPlane;
let client: WorkerGatewayClient;
let tenantCounter = 0;
const unsubscribers: (() => void)[] = [];

beforeAll(async () => {
  cluster = await startPostgresCluster();
  databaseUrl = await createDatabase(cluster.url, 'delivery_outcome_gateway_it');
  controlPlane = await startControlPlane(testAppConfig(databaseUrl, { AIRLOCK_LEASE_TTL: '1h' }));
  client = gatewayClient(controlPlane.grpcAddress);
});

afterAll(async () => {
  for (const unsubscribe of unsubscribers) unsubscribe();
  client?.close();
  await controlPlane?.stop();
  await cluster?.stop();
});

function newTenant(): Promise<{ token: string; tenantId: string }> {
  tenantCounter += 1;
  return createTenantWithAdminToken(controlPlane.dataAccess, `delivery-outcome-tenant-${tenantCounter}`);
}

async function api<T = Record<string, unknown>>(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${controlPlane.httpUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as T };
}

async function connectedWorker(token: string): Promise<TestWorker> {
  const worker = new TestWorker(client);
  await worker.enroll((await api<{ token: string }>(token, 'POST', '/enrollment-tokens', {})).body.token);
  await worker.connect();
  await eventually(() => worker.received.find((frame) => frame.frame === 'welcome'), 'welcome');
  return worker;
}

/** Creates a fix job and has the worker run it to a delivered result. */
async function deliveredBy(worker: TestWorker, token: string): Promise<string> {
  const jobId = (await api<JobResponse>(token, 'POST', '/jobs', { kind: 'fix', repoAlias: 'billing', baseRef: 'main', ticket: { title: 'Fix it' } })).body.id;
  const acks = worker.resultAcks().length;
  const instructions = worker.instructions().length;
  worker.send({ credit: { credits: 1 } });
  await eventually(() => (worker.instructions().length > instructions ? true : undefined), 'the instruction');
  worker.send({ ack: { attempt: { jobId, attempt: 1 } } });
  worker.send({
    result: {
      attempt: { jobId, attempt: 1 },
      outcome: 'JOB_OUTCOME_SUCCEEDED',
      changeMac: Buffer.alloc(32, 1),
      deliveryMac: Buffer.alloc(32, 2),
      delivery: 'DELIVERY_MERGE_REQUEST_OPENED',
      metadataLevel: 'METADATA_LEVEL_STANDARD',
    },
  });
  await eventually(() => (worker.resultAcks().length > acks ? true : undefined), 'the result ack');
  return jobId;
}

let heartbeatSeq = 0;
/**
 * A DeliveryOutcome has no answer; the stream handles frames in order, so once the answer to a
 * heartbeat sent after it arrives, the outcome was handled.
 */
async function sendOutcome(worker: TestWorker, outcome: DeliveryOutcome): Promise<void> {
  heartbeatSeq += 1;
  const seq = heartbeatSeq;
  worker.send({ deliveryOutcome: outcome });
  worker.send({ heartbeat: { running: [], freeSlots: 4, seq } });
  await eventually(() => worker.received.find((frame) => frame.frame === 'leaseRenewal' && frame.leaseRenewal?.heartbeatSeq === seq), `the answer to heartbeat ${seq}`);
}

const open = (deliveryJobId: string, changes: Partial<DeliveryOutcome> = {}): DeliveryOutcome => ({
  deliveryJobId,
  state: 'MERGE_REQUEST_STATE_OPEN',
  humanCommits: 1,
  firstReviewAfterS: 5_400,
  reviewRounds: 2,
  metadataLevel: 'METADATA_LEVEL_STANDARD',
  ...changes,
});

const outcomeOf = async (token: string, jobId: string) => (await api<JobDetailResponse>(token, 'GET', `/jobs/${jobId}`)).body.deliveryOutcome;

describe('DeliveryOutcome frames', () => {
  it('are stored from the worker that delivered the chain, shown on its jobs, and announced as a change of its first job', async () => {
    const { token, tenantId } = await newTenant();
    const heard: Extract<DashboardEvent, { type: 'job.changed' }>[] = [];
    unsubscribers.push(controlPlane.app.get<EventBus>(EVENT_BUS).subscribe(tenantId, (event) => (event.type === 'job.changed' ? heard.push(event) : undefined)));
    const worker = await connectedWorker(token);
    const jobId = await deliveredBy(worker, token);
    const eventsBefore = heard.filter((event) => event.jobId === jobId).length;

    await sendOutcome(worker, open(jobId));
    expect(await outcomeOf(token, jobId)).toMatchObject({
      deliveryJobId: jobId,
      state: 'OPEN',
      humanCommits: 1,
      reverted: false,
      firstReviewAfterS: 5_400,
      reviewRounds: 2,
      mergedAfterS: 0,
      final: false,
      metadataLevel: 'METADATA_LEVEL_STANDARD',
      workerId: worker.workerId,
    });
    expect(heard.filter((event) => event.jobId === jobId).slice(eventsBefore)).toEqual([expect.objectContaining({ jobId, status: 'SUCCEEDED' })]);

    // A re-run updates the same request: its page shows the chain's outcome.
    const rerunId = (await api<JobResponse>(token, 'POST', `/jobs/${jobId}/retry`)).body.id;
    expect(await outcomeOf(token, rerunId)).toMatchObject({ deliveryJobId: jobId, state: 'OPEN' });
    expect(worker.status).toBeNull();
    worker.close();
  });

  it('are dropped, the stream kept open, from a worker the chain never ran on and from a worker of another tenant', async () => {
    const owner = await newTenant();
    const delivering = await connectedWorker(owner.token);
    const jobId = await deliveredBy(delivering, owner.token);
    const bystander = await connectedWorker(owner.token);
    const stranger = await connectedWorker((await newTenant()).token);

    await sendOutcome(bystander, open(jobId, { state: 'MERGE_REQUEST_STATE_CLOSED', final: true }));
    await sendOutcome(stranger, open(jobId, { state: 'MERGE_REQUEST_STATE_CLOSED', final: true }));
    expect(await outcomeOf(owner.token, jobId)).toBeNull();
    expect([bystander.status, stranger.status]).toEqual([null, null]);

    // The delivering worker is still heard after them.
    await sendOutcome(delivering, open(jobId));
    expect(await outcomeOf(owner.token, jobId)).toMatchObject({ state: 'OPEN', workerId: delivering.workerId });
    for (const worker of [delivering, bystander, stranger]) worker.close();
  });

  it('stop changing the outcome once one is final', async () => {
    const { token } = await newTenant();
    const worker = await connectedWorker(token);
    const jobId = await deliveredBy(worker, token);
    const merged = open(jobId, { state: 'MERGE_REQUEST_STATE_MERGED', mergedAfterS: 86_400, final: true });
    await sendOutcome(worker, merged);
    await sendOutcome(worker, open(jobId));
    await sendOutcome(worker, { ...merged, reverted: true });
    expect(await outcomeOf(token, jobId)).toMatchObject({ state: 'MERGED', mergedAfterS: 86_400, reverted: false, final: true });
    worker.close();
  });

  it('are refused, the stream ended, from a worker revoked while its stream stayed open (as on another replica)', async () => {
    const { token } = await newTenant();
    const worker = await connectedWorker(token);
    const jobId = await deliveredBy(worker, token);
    // The revocation committed without this process ending the stream, as another replica's would.
    const sql = new Client({ connectionString: databaseUrl });
    await sql.connect();
    try {
      await sql.query('UPDATE "Worker" SET "revokedAt" = now() WHERE "id" = $1', [worker.workerId]);
    } finally {
      await sql.end();
    }
    worker.send({ deliveryOutcome: open(jobId) });
    expect(isWorkerRevokedRefusal(await eventually(() => worker.status ?? undefined, 'the stream refused'))).toBe(true);
    expect(await outcomeOf(token, jobId)).toBeNull();
  });
});
