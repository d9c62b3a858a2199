import pg from 'pg';
import { createDatabase, startPostgresCluster, type PostgresCluster } from '@airlock/testing';
import { parsePostgresUrl } from '@airlock/data-access';
import { createTenantWithAdminToken } from '../test-support/tenant.fixture';
import { eventually, gatewayClient, TestWorker } from '../test-support/test-worker';
import { startControlPlane } from './control-plane';
import { testAppConfig } from '../test-support/test-app-config';

jest.setTimeout(60_000);

const WORKERS = 20;
let cluster: PostgresCluster;

beforeAll(async () => {
  cluster = await startPostgresCluster();
});

afterAll(async () => {
  await cluster?.stop();
});

describe('stopping the control plane with worker streams open', () => {
  it('waits for every stream it closed to mark its worker offline, then closes the database', async () => {
    const databaseUrl = await createDatabase(cluster.url, 'shutdown_it');
    const controlPlane = await startControlPlane(
      testAppConfig(databaseUrl, { AIRLOCK_LEASE_TTL: '5s', AIRLOCK_HEARTBEAT_INTERVAL: '1s' }),
    );
    const client = gatewayClient(controlPlane.grpcAddress);
    const { token } = await createTenantWithAdminToken(controlPlane.dataAccess, 'shutdown-tenant');
    const workers = await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        const worker = new TestWorker(client);
        const response = await fetch(`${controlPlane.httpUrl}/api/v1/enrollment-tokens`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
        await worker.enroll(((await response.json()) as { token: string }).token);
        await worker.connect();
        await eventually(() => worker.received.find((frame) => frame.frame === 'welcome'), 'welcome');
        return worker;
      }),
    );
    expect(workers).toHaveLength(WORKERS);

    // Twenty offline writes start at once as the gateway closes, more than the pool has
    // connections: stop() must neither hang on them nor close the database under them.
    await controlPlane.stop();
    client.close();

    const sql = new pg.Client(parsePostgresUrl(databaseUrl));
    await sql.connect();
    try {
      const { rows } = await sql.query<{ status: string; count: string }>('SELECT "status", count(*) FROM "Worker" GROUP BY "status"');
      expect(rows).toEqual([{ status: 'OFFLINE', count: String(WORKERS) }]);
    } finally {
      await sql.end();
    }
  });
});
