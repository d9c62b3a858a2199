import * as grpc from '@grpc/grpc-js';
import pg from 'pg';
import { helloSignature } from '@airlock/envelope';
import { GATEWAY_BUSY_REFUSAL, readGatewayBusyRetryAfterMs, type ControlFrame__Output, type WorkerFrame, type WorkerGatewayClient } from '@airlock/protocol';
import { createDatabase, startPostgresCluster, type PostgresCluster } from '@airlock/testing';
import { createTenantWithAdminToken } from '../../test-support/tenant.fixture';
import { testAppConfig } from '../../test-support/test-app-config';
import { eventually, gatewayClient, TestWorker } from '../../test-support/test-worker';
import { startControlPlane, type RunningControlPlane } from '../control-plane';
import { MAX_RETRY_AFTER_MS, MIN_RETRY_AFTER_MS } from './handshake-admission';
import { WorkerGatewayService } from './worker-gateway.service';

jest.setTimeout(60_000);

/** Two handshakes at a time: a third Connect is refused. */
const MAX_HANDSHAKES = 2;

let cluster: PostgresCluster;
let controlPlane: RunningControlPlane;
let client: WorkerGatewayClient;
let token: string;
/** Reads and locks rows beside the control plane. */
let db: pg.Client;

beforeAll(async () => {
  cluster = await startPostgresCluster();
  const databaseUrl = await createDatabase(cluster.url, 'handshake_admission_it');
  controlPlane = await startControlPlane(testAppConfig(databaseUrl, { AIRLOCK_GRPC_MAX_HANDSHAKES: String(MAX_HANDSHAKES) }));
  client = gatewayClient(controlPlane.grpcAddress);
  ({ token } = await createTenantWithAdminToken(controlPlane.dataAccess, 'handshake-admission-tenant'));
  db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
});

afterAll(async () => {
  await db?.end();
  client?.close();
  await controlPlane?.stop();
  await cluster?.stop();
});

const gateway = () => controlPlane.app.get(WorkerGatewayService);

async function enrolledWorker(): Promise<TestWorker> {
  const response = await fetch(`${controlPlane.httpUrl}/api/v1/enrollment-tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: '{}',
  });
  expect(response.status).toBe(201);
  const worker = new TestWorker(client);
  await worker.enroll(((await response.json()) as { token: string }).token);
  return worker;
}

/** A Connect call as it comes: every frame received, and its final status. */
function openCall(): { call: grpc.ClientDuplexStream<WorkerFrame, ControlFrame__Output>; received: ControlFrame__Output[]; status: () => grpc.StatusObject | undefined } {
  const call = client.Connect();
  const received: ControlFrame__Output[] = [];
  let status: grpc.StatusObject | undefined;
  call.on('data', (frame: ControlFrame__Output) => received.push(frame));
  call.on('status', (ended: grpc.StatusObject) => (status = ended));
  call.on('error', () => undefined);
  return { call, received, status: () => status };
}

/** Answers the call's challenge with the worker's signed Hello. */
async function sayHello(worker: TestWorker, open: ReturnType<typeof openCall>): Promise<void> {
  const challenge = await eventually(() => open.received.find((frame) => frame.frame === 'challenge')?.challenge ?? undefined, 'challenge');
  open.call.write({
    hello: {
      workerId: worker.workerId,
      challengeSignature: helloSignature(worker.key.privateKeyPem, worker.workerId, challenge.nonce),
      workerVersion: '0.1.0',
      capacity: 1,
      running: [],
      localPolicyDigest: Buffer.alloc(32, 7),
      labels: [],
      policyRevision: 0,
    },
  });
}

const welcomed = (worker: TestWorker) => eventually(() => worker.received.find((frame) => frame.frame === 'welcome'), 'welcome');
const workerRow = async (workerId: string) =>
  (await db.query<{ status: string; lastSeenAt: Date | null }>('SELECT "status", "lastSeenAt" FROM "Worker" WHERE "id" = $1', [workerId])).rows[0];

describe('admission control of worker handshakes', () => {
  it('refuses a Connect past the limit at once, with RESOURCE_EXHAUSTED and a retry-after hint, and admits again once a handshake ends', async () => {
    const [first, second] = [await enrolledWorker(), await enrolledWorker()];
    // Both challenged and not answering yet: the two handshakes in progress.
    const held = [openCall(), openCall()];
    await eventually(() => (held.every((open) => open.received.length === 1) ? true : undefined), 'both challenges');
    const refusedBefore = gateway().handshakeCounts().refused;

    const refused = openCall();
    const status = await eventually(refused.status, 'the refusal');

    expect(status.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(status.details).toMatch(/^the control plane has 2 worker handshakes in progress: try again in \d+ ms$/);
    expect(status.metadata.get(GATEWAY_BUSY_REFUSAL.metadataKey)).toEqual(['gateway-busy']);
    const retryAfterMs = readGatewayBusyRetryAfterMs(status);
    expect(retryAfterMs).toBeGreaterThanOrEqual(MIN_RETRY_AFTER_MS);
    expect(retryAfterMs).toBeLessThanOrEqual(MAX_RETRY_AFTER_MS);
    expect(refused.received).toEqual([]);
    expect(gateway().handshakeCounts()).toMatchObject({ inProgress: 2, limit: 2, refused: refusedBefore + 1 });

    // Ending the held calls gives their slots back: two workers are then welcomed.
    for (const open of held) open.call.cancel();
    await eventually(() => (gateway().handshakeCounts().inProgress === 0 ? true : undefined), 'the held slots given back');
    await Promise.all([first.connect(), second.connect()]);
    await Promise.all([welcomed(first), welcomed(second)]);
    expect(gateway().handshakeCounts().inProgress).toBe(0);
    first.close();
    second.close();
  });

  it('drops a handshake whose worker cancelled while its Hello waited, without recording it', async () => {
    const [blocked, cancelling] = [await enrolledWorker(), await enrolledWorker()];
    const abandonedBefore = gateway().handshakeCounts().abandoned;
    // The first worker's Hello is held at its row lock, so the batch recording Hellos waits.
    await db.query('BEGIN');
    await db.query('SELECT 1 FROM "Worker" WHERE "id" = $1 FOR UPDATE', [blocked.workerId]);
    try {
      await blocked.connect();
      await eventually(async () => {
        const { rows } = await db.query<{ waiting: number }>(
          `SELECT count(*)::int AS "waiting" FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        return rows[0]!.waiting > 0 ? true : undefined;
      }, "the first Hello's batch waiting for the row lock");

      const cancelled = openCall();
      await sayHello(cancelling, cancelled);
      // Its Hello is in the gateway, queued behind the first one's batch.
      await eventually(() => (gateway().handshakeCounts().stepsWaiting === 2 ? true : undefined), 'the second Hello queued');
      cancelled.call.cancel();
      await eventually(() => (gateway().handshakeCounts().inProgress === 1 ? true : undefined), "the cancelled handshake's slot given back");
    } finally {
      await db.query('COMMIT');
    }

    await welcomed(blocked);
    await eventually(() => (gateway().handshakeCounts().stepsWaiting === 0 ? true : undefined), 'the batches done');
    expect(gateway().handshakeCounts().abandoned).toBe(abandonedBefore + 1);
    expect(await workerRow(cancelling.workerId)).toEqual({ status: 'OFFLINE', lastSeenAt: null });
    expect(await workerRow(blocked.workerId)).toMatchObject({ status: 'ONLINE' });
    const sessions = await db.query('SELECT 1 FROM "AnalyticsWorkerSession" WHERE "workerId" = $1', [cancelling.workerId]);
    expect(sessions.rowCount).toBe(0);
    blocked.close();
  });
});
