import * as grpc from '@grpc/grpc-js';
import { isWorkerRevokedRefusal, type WorkerGatewayClient } from '@airlock/protocol';
import { createDatabase, startNatsServer, startPostgresCluster, type NatsServer, type PostgresCluster } from '@airlock/testing';
import { createTenantWithAdminToken } from '../../test-support/tenant.fixture';
import { testAppConfig } from '../../test-support/test-app-config';
import { eventually, gatewayClient, TestWorker } from '../../test-support/test-worker';
import { startControlPlane, type RunningControlPlane } from '../control-plane';
import { WorkerSessionRegistry } from '../dispatch/worker-session.registry';
import { EVENT_BUS, type DashboardEvent, type EventBus } from '../events/event-bus';

jest.setTimeout(120_000);

/**
 * Two control-plane replicas on one PostgreSQL and one NATS server, the worker connected to
 * replica B, every REST call made to replica A: what an admin does reaches the worker at
 * once, not at its next heartbeat (minutes away here), and B's dashboards hear of it.
 */

let cluster: PostgresCluster;
let nats: NatsServer;
let replicaA: RunningControlPlane;
let replicaB: RunningControlPlane;
let clientOfB: WorkerGatewayClient;
let tenantCounter = 0;

beforeAll(async () => {
  [cluster, nats] = await Promise.all([startPostgresCluster(), startNatsServer()]);
  const databaseUrl = await createDatabase(cluster.url, 'fleet_across_replicas');
  const vars = { AIRLOCK_NATS_URL: nats.url, AIRLOCK_LEASE_TTL: '30m', AIRLOCK_HEARTBEAT_INTERVAL: '10m' };
  // One after the other: the first start creates the defaults and signing keys the second reads.
  replicaA = await startControlPlane(testAppConfig(databaseUrl, vars));
  replicaB = await startControlPlane(testAppConfig(databaseUrl, vars));
  clientOfB = gatewayClient(replicaB.grpcAddress);
});

afterAll(async () => {
  clientOfB?.close();
  await replicaA?.stop();
  await replicaB?.stop();
  await Promise.all([cluster?.stop(), nats?.stop()]);
});

async function api<T = Record<string, unknown>>(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${replicaA.httpUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as T };
}

/** A tenant with a worker connected to replica B, and every dashboard event B hears for it. */
async function tenantWithWorkerOnB(credits = 0): Promise<{ token: string; worker: TestWorker; heardOnB: DashboardEvent[] }> {
  tenantCounter += 1;
  const { token, tenantId } = await createTenantWithAdminToken(replicaA.dataAccess, `across-replicas-${tenantCounter}`);
  const heardOnB: DashboardEvent[] = [];
  replicaB.app.get<EventBus>(EVENT_BUS).subscribe(tenantId, (event) => heardOnB.push(event));
  const enrollmentToken = await api<{ token: string }>(token, 'POST', '/enrollment-tokens', {});
  const worker = new TestWorker(clientOfB);
  await worker.enroll(enrollmentToken.body.token);
  await worker.connect();
  await eventually(() => worker.received.find((frame) => frame.frame === 'welcome'), 'welcome');
  if (credits > 0) worker.send({ credit: { credits } });
  return { token, worker, heardOnB };
}

describe('fleet commands across replicas', () => {
  it("drains and undrains the worker's stream on the other replica at once, and that replica's dashboards hear it", async () => {
    const { token, worker, heardOnB } = await tenantWithWorkerOnB();
    const streamOnB = () => replicaB.app.get(WorkerSessionRegistry).sessionOf(worker.workerId);

    expect((await api(token, 'POST', `/workers/${worker.workerId}/drain`)).status).toBe(200);
    expect(streamOnB()?.draining).toBe(true);
    await eventually(() => heardOnB.find((event) => event.type === 'worker.changed' && event.change === 'DRAINING'), 'DRAINING on B');

    expect((await api(token, 'POST', `/workers/${worker.workerId}/undrain`)).status).toBe(200);
    expect(streamOnB()?.draining).toBe(false);
    worker.close();
  });

  it('sends a cancel to the worker holding the attempt on the other replica', async () => {
    const { token, worker } = await tenantWithWorkerOnB(1);
    const created = await api<{ id: string }>(token, 'POST', '/jobs', { kind: 'noop' });
    // Dispatched to the worker on B: a cancel now asks the worker holding the attempt to stop it.
    await eventually(() => worker.instructions()[0], 'instruction');

    expect((await api(token, 'POST', `/jobs/${created.body.id}/cancel`)).status).toBe(202);

    const cancel = await eventually(() => worker.received.find((frame) => frame.frame === 'cancel')?.cancel ?? undefined, 'cancel', 1_000);
    expect(cancel.attempt).toEqual({ jobId: created.body.id, attempt: 1 });
    worker.close();
  });

  it("pushes a publish's bundle to the worker connected to the other replica", async () => {
    const { token, worker } = await tenantWithWorkerOnB();
    const policy = await api<{ id: string }>(token, 'POST', '/policies', { name: 'baseline', document: { schemaVersion: 1, rules: { 'max-files-changed': { max: 20 } } } });

    const published = await api<{ revision: number; sentToConnectedWorkers: number }>(token, 'POST', `/policies/${policy.body.id}/versions/1/publish`, { scope: 'tenant', mode: 'enforce' });

    expect(published.body).toMatchObject({ revision: 1, sentToConnectedWorkers: 0 });
    const bundle = await eventually(() => worker.policyBundles()[0], 'policy bundle', 1_000);
    expect(worker.verifyBundle(bundle)).toMatchObject({ ok: true, payload: { revision: 1, audience: worker.workerId } });
    worker.close();
  });

  it('ends the stream of a worker revoked on the other replica before the answer', async () => {
    const { token, worker } = await tenantWithWorkerOnB();

    expect((await api(token, 'POST', `/workers/${worker.workerId}/revoke`)).status).toBe(200);

    const status = await eventually(() => worker.status ?? undefined, 'stream status', 1_000);
    expect(status.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(isWorkerRevokedRefusal(status)).toBe(true);
  });
});
