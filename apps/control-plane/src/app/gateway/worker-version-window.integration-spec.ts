import * as grpc from '@grpc/grpc-js';
import { generateSigningKeyPair } from '@airlock/envelope';
import { readWorkerVersionRefusal, type ControlFrame__Output, type WorkerGatewayClient } from '@airlock/protocol';
import { createDatabase, startPostgresCluster, type PostgresCluster } from '@airlock/testing';
import { createTenantWithAdminToken } from '../../test-support/tenant.fixture';
import { testAppConfig } from '../../test-support/test-app-config';
import { eventually, gatewayClient, TestWorker } from '../../test-support/test-worker';
import type { Clock } from '../common/clock';
import { startControlPlane, type RunningControlPlane } from '../control-plane';
import type { WorkerResponse } from '../workers/worker.response';

jest.setTimeout(60_000);

const END_OF_SUPPORT = new Date('2030-01-01T00:00:00Z');

let cluster: PostgresCluster;
let controlPlane: RunningControlPlane;
let client: WorkerGatewayClient;
let token: string;
/** The control plane's time: a month before the deprecated versions' end of support, unless a test moves it. */
let now: Date;
const clock: Clock = { now: () => now };

beforeAll(async () => {
  cluster = await startPostgresCluster();
  const databaseUrl = await createDatabase(cluster.url, 'worker_version_window_it');
  controlPlane = await startControlPlane(
    testAppConfig(databaseUrl, {
      AIRLOCK_WORKER_MIN_VERSION: '0.2.0',
      AIRLOCK_WORKER_MAX_VERSION: '1.0.0',
      AIRLOCK_WORKER_RECOMMENDED_VERSION: '0.5.0',
      AIRLOCK_WORKER_DEPRECATED_BELOW: '0.4.0',
      AIRLOCK_WORKER_END_OF_SUPPORT: END_OF_SUPPORT.toISOString(),
    }),
    { clock },
  );
  client = gatewayClient(controlPlane.grpcAddress);
  ({ token } = await createTenantWithAdminToken(controlPlane.dataAccess, 'worker-version-window-tenant'));
});

beforeEach(() => {
  now = new Date('2029-12-01T00:00:00Z');
});

afterAll(async () => {
  client?.close();
  await controlPlane?.stop();
  await cluster?.stop();
});

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${controlPlane.httpUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  expect(response.ok).toBe(true);
  return (await response.json()) as T;
}

/** A worker enrolled at `version` (with a token of its own) whose stream says Hello with that version. */
async function workerSayingHello(version: string, options: { signWith?: string } = {}): Promise<TestWorker> {
  const worker = new TestWorker(client);
  await worker.enroll((await api<{ token: string }>('POST', '/enrollment-tokens', {})).token, version);
  await worker.connect({ version, ...options });
  return worker;
}

const welcomeOf = (worker: TestWorker) => worker.received.find((frame) => frame.frame === 'welcome')?.welcome ?? undefined;
const endOf = (worker: TestWorker) => eventually(() => worker.status ?? undefined, 'the stream to end');
/** The worker as GET /workers/{id} shows it. */
const workerView = (worker: TestWorker) => api<Record<keyof WorkerResponse, unknown>>('GET', `/workers/${worker.workerId}`);

describe('the supported worker version window at the Hello', () => {
  it('refuses a worker too old, naming the supported versions and the one to upgrade to, and never marks it online', async () => {
    const worker = await workerSayingHello('0.1.9');
    const status = await endOf(worker);

    expect(status.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(status.details).toBe('worker version 0.1.9 is older than this control plane supports (>=0.2.0 <1.0.0): upgrade the worker to 0.5.0');
    expect(status.metadata.getMap()).toMatchObject({
      'airlock-refusal': 'worker-version',
      'airlock-version-status': 'too-old',
      'airlock-supported-versions': '>=0.2.0 <1.0.0',
      'airlock-upgrade-to': '0.5.0',
    });
    expect(readWorkerVersionRefusal(status)).toEqual({ versionStatus: 'too-old', supportedVersions: '>=0.2.0 <1.0.0', upgradeTo: '0.5.0' });
    expect(worker.received.map((frame) => frame.frame)).toEqual(['challenge']);
    expect(await workerView(worker)).toMatchObject({ status: 'OFFLINE', lastSeenAt: null, version: '0.1.9', versionSupported: false, versionStatus: 'TOO_OLD', endOfSupport: null });
  });

  it('refuses a worker too new (a pre-release of the maximum among them) the same way', async () => {
    const worker = await workerSayingHello('1.0.0-rc.1');
    const status = await endOf(worker);

    expect(status.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(status.details).toMatch(/^worker version 1\.0\.0-rc\.1 is newer than this control plane supports \(>=0\.2\.0 <1\.0\.0\): install worker 0\.5\.0, or upgrade the control plane$/);
    expect(readWorkerVersionRefusal(status)).toEqual({ versionStatus: 'too-new', supportedVersions: '>=0.2.0 <1.0.0', upgradeTo: '0.5.0' });
    expect(await workerView(worker)).toMatchObject({ status: 'OFFLINE', lastSeenAt: null, versionStatus: 'TOO_NEW' });
  });

  it('tells a caller that cannot sign nothing of the window', async () => {
    const worker = await workerSayingHello('0.1.9', { signWith: generateSigningKeyPair().privateKeyPem });
    const status = await endOf(worker);

    expect(status.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(readWorkerVersionRefusal(status)).toBeNull();
    expect(Object.keys(status.metadata.getMap()).filter((key) => key.startsWith('airlock-'))).toEqual([]);
    expect(status.details).not.toMatch(/0\.2\.0|0\.5\.0|version/);
  });

  it('welcomes a deprecated worker with a notice of its end of support and the version to upgrade to', async () => {
    const worker = await workerSayingHello('0.3.7');
    const welcome = await eventually(() => welcomeOf(worker), 'welcome');

    expect(welcome.versionNotice).toEqual({ status: 'VERSION_STATUS_DEPRECATED', recommendedVersion: '0.5.0', endOfSupportAtS: END_OF_SUPPORT.getTime() / 1000 });
    expect(await workerView(worker)).toMatchObject({
      status: 'ONLINE',
      version: '0.3.7',
      versionSupported: true,
      versionStatus: 'DEPRECATED',
      endOfSupport: END_OF_SUPPORT.toISOString(),
    });
    worker.close();
  });

  it('welcomes a supported worker with no notice', async () => {
    const worker = await workerSayingHello('0.4.0');
    const welcome = await eventually(() => welcomeOf(worker), 'welcome');

    expect(welcome.versionNotice).toBeNull();
    expect(await workerView(worker)).toMatchObject({ status: 'ONLINE', versionSupported: true, versionStatus: 'SUPPORTED', endOfSupport: null });
    worker.close();
  });

  it("ends a deprecated worker's stream when its support ends, and refuses its next Hello", async () => {
    now = new Date(END_OF_SUPPORT.getTime() - 300);
    const worker = await workerSayingHello('0.2.0');
    await eventually(() => welcomeOf(worker), 'welcome');
    const status = await endOf(worker);

    expect(status.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(readWorkerVersionRefusal(status)).toEqual({ versionStatus: 'too-old', supportedVersions: '>=0.4.0 <1.0.0', upgradeTo: '0.5.0' });
    await eventually(async () => ((await workerView(worker)).status === 'OFFLINE' ? true : undefined), 'the worker offline');

    now = END_OF_SUPPORT;
    const framesBefore = worker.received.length;
    worker.status = null;
    await worker.connect({ version: '0.2.0' });
    const again = await endOf(worker);
    expect(readWorkerVersionRefusal(again)).toEqual({ versionStatus: 'too-old', supportedVersions: '>=0.4.0 <1.0.0', upgradeTo: '0.5.0' });
    expect(worker.received.slice(framesBefore).map((frame: ControlFrame__Output) => frame.frame)).toEqual(['challenge']);
    expect(await workerView(worker)).toMatchObject({ versionSupported: false, versionStatus: 'TOO_OLD', endOfSupport: null });
  });
});
