import type { WorkerGatewayClient } from '@airlock/protocol';
import { createDatabase, startPostgresCluster, type PostgresCluster } from '@airlock/testing';
import { createTenantWithAdminToken } from '../../test-support/tenant.fixture';
import { testAppConfig } from '../../test-support/test-app-config';
import { gatewayClient, TestWorker } from '../../test-support/test-worker';
import { startControlPlane, type RunningControlPlane } from '../control-plane';

jest.setTimeout(60_000);

let cluster: PostgresCluster;
let controlPlane: RunningControlPlane;
let client: WorkerGatewayClient;
let adminToken: string;

beforeAll(async () => {
  cluster = await startPostgresCluster();
  const databaseUrl = await createDatabase(cluster.url, 'enrollment_it');
  controlPlane = await startControlPlane(testAppConfig(databaseUrl));
  client = gatewayClient(controlPlane.grpcAddress);
  ({ token: adminToken } = await createTenantWithAdminToken(controlPlane.dataAccess, 'enrollment-tenant'));
});

afterAll(async () => {
  client?.close();
  await controlPlane?.stop();
  await cluster?.stop();
});

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${controlPlane.httpUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as T };
}

async function enrollmentToken(body: { pool?: string }): Promise<string> {
  const created = await api<{ token: string }>('POST', '/enrollment-tokens', body);
  expect(created.status).toBe(201);
  return created.body.token;
}

describe('Enroll over gRPC', () => {
  it('answers the pool the enrollment token named, the pool the worker is recorded in', async () => {
    const worker = new TestWorker(client);
    const response = await worker.enroll(await enrollmentToken({ pool: 'gpu' }));
    expect(response.pool).toBe('gpu');
    const recorded = await api<{ pool: string | null }>('GET', `/workers/${response.workerId}`);
    expect(recorded).toMatchObject({ status: 200, body: { pool: 'gpu' } });
  });

  it('answers an empty pool when the token named none', async () => {
    const worker = new TestWorker(client);
    const response = await worker.enroll(await enrollmentToken({}));
    expect(response.pool).toBe('');
    const recorded = await api<{ pool: string | null }>('GET', `/workers/${response.workerId}`);
    expect(recorded).toMatchObject({ status: 200, body: { pool: null } });
  });
});
