import pg from 'pg';
import { createDatabase, startPostgresCluster, type PostgresCluster } from '@airlock/testing';
import { parsePostgresUrl } from '@airlock/data-access';
import { LIMIT_CEILINGS } from '@airlock/policy';
import { decodeInstructionPayload, type WorkerGatewayClient } from '@airlock/protocol';
import { createApiToken, createTenantWithAdminToken } from '../test-support/tenant.fixture';
import { ROLE_SCOPES } from './auth/access';
import { eventually, gatewayClient, TestWorker } from '../test-support/test-worker';
import { startControlPlane, type RunningControlPlane } from './control-plane';
import { testAppConfig } from '../test-support/test-app-config';

jest.setTimeout(120_000);

let cluster: PostgresCluster;
let controlPlane: RunningControlPlane;
let client: WorkerGatewayClient;
let sql: pg.Client;
let tenantCounter = 0;

beforeAll(async () => {
  cluster = await startPostgresCluster();
  const databaseUrl = await createDatabase(cluster.url, 'central_policy_it');
  controlPlane = await startControlPlane(
    testAppConfig(databaseUrl, { AIRLOCK_LEASE_TTL: '5s', AIRLOCK_HEARTBEAT_INTERVAL: '1s' }),
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

function newTenant(): Promise<{ token: string; tenantId: string }> {
  tenantCounter += 1;
  return createTenantWithAdminToken(controlPlane.dataAccess, `policy-tenant-${tenantCounter}`);
}

type Body = Record<string, unknown>;

async function api<T = Body>(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${controlPlane.httpUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as T };
}

interface PolicyBody {
  id: string;
  name: string;
  latestVersion: number;
  versions: { number: number; authorName: string; comment: string | null }[];
}
interface VersionBody {
  number: number;
  document: unknown;
}
interface PublishBody {
  revision: number;
  sentToConnectedWorkers: number;
  layer: { scope: string; key: string | null; mode: string; version: number };
}
interface RolloutWorker {
  workerId: string;
  labels: string[];
  appliedRevision: number;
  appliedAt: string | null;
  upToDate: boolean;
  narrowedRules: string[];
  lastRefusal: { revision: number; failureCode: string; at: string } | null;
}
interface RolloutBody {
  revision: number;
  workers: RolloutWorker[];
}
interface ErrorBody {
  code: string;
  message: string;
}

const documentWith = (rules: Record<string, unknown>, description?: string) => ({ schemaVersion: 1, ...(description ? { description } : {}), rules });
const baseline = documentWith({ 'max-files-changed': { max: 20 }, 'job-kinds': { allowed: ['fix', 'noop'] } });

async function createPolicy(token: string, name: string, document: unknown = baseline): Promise<PolicyBody> {
  const created = await api<PolicyBody>(token, 'POST', '/policies', { name, document });
  expect(created.status).toBe(201);
  return created.body;
}

async function publish(token: string, policyId: string, version: number, slot: Body): Promise<PublishBody> {
  const published = await api<PublishBody>(token, 'POST', `/policies/${policyId}/versions/${version}/publish`, slot);
  expect(published.status).toBe(200);
  return published.body;
}

async function connectedWorker(token: string, labels: string[] = []): Promise<TestWorker> {
  const worker = new TestWorker(client);
  const { body } = await api<{ token: string }>(token, 'POST', '/enrollment-tokens', {});
  await worker.enroll(body.token);
  await worker.connect({ labels });
  await eventually(() => worker.received.find((f) => f.frame === 'welcome'), 'welcome');
  return worker;
}

function bundleCount(worker: TestWorker): number {
  return worker.policyBundles().length;
}

async function rollout(token: string, query = ''): Promise<RolloutBody> {
  const response = await api<RolloutBody>(token, 'GET', `/policy/rollout${query}`);
  expect(response.status).toBe(200);
  return response.body;
}

const workerIn = (body: RolloutBody, worker: TestWorker) => body.workers.find((entry) => entry.workerId === worker.workerId);

/** Every layer of an applied bundle as scope/key/mode/version. */
const layerSlots = (layers: { layers: { scope: string; key?: string; mode: string; version: number }[] } | undefined) =>
  layers?.layers.map((layer) => `${layer.scope}:${layer.key ?? ''}:${layer.mode}:v${layer.version}`);

describe('policies over REST', () => {
  it('creates a policy with version 1, adds versions, lists and reads them', async () => {
    const { token } = await newTenant();
    const policy = await createPolicy(token, 'baseline');
    expect(policy).toMatchObject({ name: 'baseline', latestVersion: 1, versions: [{ number: 1, authorName: 'integration test', comment: null }] });
    const second = await api<VersionBody>(token, 'POST', `/policies/${policy.id}/versions`, { document: documentWith({ 'max-files-changed': { max: 5 } }), comment: 'tighter' });
    expect(second).toMatchObject({ status: 201, body: { number: 2, comment: 'tighter' } });
    expect((await api<PolicyBody[]>(token, 'GET', '/policies')).body).toEqual([expect.objectContaining({ id: policy.id, latestVersion: 2 })]);
    expect((await api<PolicyBody>(token, 'GET', `/policies/${policy.id}`)).body.versions.map((v) => v.number)).toEqual([1, 2]);
    expect((await api<VersionBody>(token, 'GET', `/policies/${policy.id}/versions/1`)).body.document).toEqual(baseline);
    expect((await api<ErrorBody>(token, 'GET', `/policies/${policy.id}/versions/3`)).body.code).toBe('POLICY_VERSION_NOT_FOUND');
    expect((await api<ErrorBody>(token, 'POST', '/policies', { name: 'baseline', document: baseline })).body.code).toBe('POLICY_NAME_TAKEN');
  });

  it('names the field of every bad input, document errors by their path', async () => {
    const { token } = await newTenant();
    const policy = await createPolicy(token, 'p');
    const cases: [string, string, unknown, string][] = [
      ['POST', '/policies', { document: baseline }, 'name: expected a string (required)'],
      ['POST', '/policies', { name: 'x' }, 'document: expected a JSON object (required)'],
      ['POST', '/policies', { name: 'two\nlines', document: baseline }, 'name: expected one non-blank line without control characters'],
      ['POST', '/policies', { name: 'x', document: [] }, 'document: expected a JSON object'],
      ['POST', '/policies', { name: 'x', document: documentWith({ 'max-files-changed': { max: 0 } }) }, 'document.rules.max-files-changed.max: expected at least 1'],
      ['POST', '/policies', { name: 'x', document: { schemaVersion: 2, rules: {} } }, 'document.schemaVersion: expected 1'],
      ['POST', '/policies', { name: 'x', document: documentWith({ bogus: {} }) }, 'document.rules: expected no field "bogus" (unknown here)'],
      ['POST', '/policies', { name: 'x', document: documentWith({}, 'a\u0000b') }, 'document.description: expected no NUL (\\u0000) characters'],
      ['POST', `/policies/${policy.id}/versions`, { document: documentWith({ 'protected-paths': { paths: ['/etc/passwd'] } }) }, 'document.rules.protected-paths.paths[0]: expected a repository-relative path glob (no leading /, no .. segment)'],
      ['POST', `/policies/${policy.id}/versions`, { document: baseline, comment: 5 }, 'comment: expected a string'],
      ['POST', `/policies/${policy.id}/versions/1/publish`, { scope: 'galaxy', mode: 'enforce' }, 'scope: expected one of tenant, pool, repository'],
      ['POST', `/policies/${policy.id}/versions/1/publish`, { scope: 'pool', mode: 'enforce' }, 'key: expected a string (required for the pool and repository scopes)'],
      ['POST', `/policies/${policy.id}/versions/1/publish`, { scope: 'tenant', key: 'x', mode: 'enforce' }, 'key: expected absent: the tenant scope has no key'],
      ['POST', `/policies/${policy.id}/versions/1/publish`, { scope: 'pool', key: 'GPU!', mode: 'enforce' }, 'key: expected a pool label or repository alias matching ^[a-z0-9][a-z0-9._-]{0,62}$'],
      ['POST', `/policies/${policy.id}/versions/1/publish`, { scope: 'tenant' }, 'mode: expected one of enforce, shadow (required)'],
      ['POST', `/policies/${policy.id}/versions/0/publish`, { scope: 'tenant', mode: 'enforce' }, 'number: expected an integer in 1..2147483647'],
      ['GET', `/policies/${policy.id}/versions/abc`, undefined, 'number: expected an integer in 1..2147483647'],
      ['GET', '/policies/not-a-uuid', undefined, 'id: expected a UUID'],
      ['GET', `/policies/${policy.id}/diff?from=1`, undefined, 'to: expected a version number (required)'],
      ['GET', '/policy/rollout?revision=-1', undefined, 'revision: expected an integer in 1..2147483647'],
      ['GET', '/policy/decisions?rule=nope', undefined, 'rule: expected a rule id such as max-files-changed (docs/policy.md)'],
      ['GET', '/audit-log?limit=0', undefined, 'limit: expected an integer in 1..500'],
      ['POST', '/policy/withdraw', { scope: 'repository', key: 'web', mode: 'loud' }, 'mode: expected one of enforce, shadow'],
    ];
    for (const [method, path, body, message] of cases) {
      const response = await api<ErrorBody>(token, method, path, body);
      expect({ method, path, status: response.status, message: response.body.message }).toEqual({ method, path, status: 400, message });
    }
  });

  it('bounds a document at 128 KiB of JSON', async () => {
    const { token } = await newTenant();
    const huge = documentWith({ 'denied-packages': { packages: Array.from({ length: 1_000 }, (_, n) => `pkg-${n}-${'x'.repeat(150)}`) } });
    const response = await api<ErrorBody>(token, 'POST', '/policies', { name: 'huge', document: huge });
    expect(response.status).toBe(400);
    expect(response.body.message).toMatch(/^document: expected at most 131072 bytes of JSON \(it has \d+\)$/);
  });

  it('lets any role read policy, and only ADMIN change it, read the audit log or enroll a worker', async () => {
    const { token, tenantId } = await newTenant();
    const policy = await createPolicy(token, 'p');
    const manager = await createApiToken(controlPlane.dataAccess, tenantId, ROLE_SCOPES.MANAGER, 'release manager');
    const viewer = await createApiToken(controlPlane.dataAccess, tenantId, ROLE_SCOPES.VIEWER, 'dashboard');
    for (const reader of [manager, viewer]) {
      expect((await api(reader, 'GET', `/policies/${policy.id}`)).status).toBe(200);
      expect((await api(reader, 'GET', '/policy')).status).toBe(200);
      expect((await api(reader, 'GET', '/policy/rollout')).status).toBe(200);
    }
    const writes: [string, string, unknown][] = [
      ['POST', '/policies', { name: 'q', document: baseline }],
      ['POST', `/policies/${policy.id}/versions`, { document: baseline }],
      ['POST', `/policies/${policy.id}/versions/1/publish`, { scope: 'tenant', mode: 'enforce' }],
      ['POST', '/policy/withdraw', { scope: 'tenant', mode: 'enforce' }],
      ['GET', '/audit-log', undefined],
      ['GET', '/audit-log/verify', undefined],
      ['POST', '/enrollment-tokens', {}],
    ];
    for (const [method, path, body] of writes) {
      for (const refusedToken of [manager, viewer]) {
        const refused = await api<ErrorBody>(refusedToken, method, path, body);
        expect({ path, status: refused.status, code: refused.body.code }).toEqual({ path, status: 403, code: 'FORBIDDEN' });
      }
    }
    expect((await api<PolicyBody>(token, 'GET', `/policies/${policy.id}`)).body.latestVersion).toBe(1);
  });

  it('has no route that changes or deletes a version', async () => {
    const { token } = await newTenant();
    const policy = await createPolicy(token, 'p');
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      for (const path of [`/policies/${policy.id}/versions/1`, `/policies/${policy.id}`]) {
        const response = await api<ErrorBody>(token, method, path, method === 'DELETE' ? undefined : { document: documentWith({}) });
        expect({ method, path, code: response.body.code }).toEqual({ method, path, code: 'ROUTE_NOT_FOUND' });
      }
    }
    const openApi = (await (await fetch(`${controlPlane.httpUrl}/api/docs-json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(openApi.paths['/api/v1/policies/{id}/versions/{number}'] ?? {})).toEqual(['get']);
    expect(Object.keys(openApi.paths['/api/v1/policies/{id}'] ?? {})).toEqual(['get']);
    expect((await api<VersionBody>(token, 'GET', `/policies/${policy.id}/versions/1`)).body.document).toEqual(baseline);
  });

  it('diffs any two versions, in either order', async () => {
    const { token } = await newTenant();
    const policy = await createPolicy(token, 'p');
    await api(token, 'POST', `/policies/${policy.id}/versions`, { document: documentWith({ 'max-files-changed': { max: 30, level: 'advisory' }, 'job-kinds': { allowed: ['fix', 'noop'] } }) });
    await api(token, 'POST', `/policies/${policy.id}/versions`, { document: documentWith({ 'max-files-changed': { max: 30 } }, 'v3') });
    const forward = await api<{ changes: unknown[] }>(token, 'GET', `/policies/${policy.id}/diff?from=1&to=2`);
    expect(forward.body.changes).toEqual([
      { path: 'rules.max-files-changed.level', change: 'added', after: 'advisory' },
      { path: 'rules.max-files-changed.max', change: 'changed', before: 20, after: 30 },
    ]);
    const backward = await api<{ from: number; to: number; changes: unknown[] }>(token, 'GET', `/policies/${policy.id}/diff?from=3&to=1`);
    expect(backward.body).toMatchObject({ from: 3, to: 1 });
    expect(backward.body.changes).toEqual([
      { path: 'description', change: 'removed', before: 'v3' },
      { path: 'rules.job-kinds', change: 'added', after: { allowed: ['fix', 'noop'] } },
      { path: 'rules.max-files-changed.max', change: 'changed', before: 30, after: 20 },
    ]);
    expect((await api<{ changes: unknown[] }>(token, 'GET', `/policies/${policy.id}/diff?from=2&to=2`)).body.changes).toEqual([]);
    expect((await api<ErrorBody>(token, 'GET', `/policies/${policy.id}/diff?from=1&to=9`)).body.code).toBe('POLICY_VERSION_NOT_FOUND');
  });
});

describe('publishing to workers', () => {
  it('sends every connected worker a bundle that verifies, with the layers of its labels; acks show in the rollout', async () => {
    const { token } = await newTenant();
    const gpuWorker = await connectedWorker(token, ['gpu']);
    const plainWorker = await connectedWorker(token);
    const policy = await createPolicy(token, 'baseline');
    await api(token, 'POST', `/policies/${policy.id}/versions`, { document: documentWith({ 'max-files-changed': { max: 5 } }) });

    const first = await publish(token, policy.id, 1, { scope: 'tenant', mode: 'enforce' });
    expect(first).toMatchObject({ revision: 1, sentToConnectedWorkers: 2, layer: { scope: 'tenant', key: null, mode: 'enforce', version: 1 } });
    for (const worker of [gpuWorker, plainWorker]) {
      await eventually(() => (bundleCount(worker) === 1 ? true : undefined), 'revision 1 bundle');
      const handled = worker.handleBundle(worker.policyBundles()[0]!);
      expect(handled.verification).toMatchObject({ ok: true, payload: { revision: 1, audience: worker.workerId, tenantId: worker.tenantId } });
      expect(layerSlots(handled.layers)).toEqual(['tenant::enforce:v1']);
    }

    const second = await publish(token, policy.id, 2, { scope: 'pool', key: 'gpu', mode: 'shadow' });
    expect(second).toMatchObject({ revision: 2, sentToConnectedWorkers: 2 });
    await eventually(() => (bundleCount(gpuWorker) === 2 && bundleCount(plainWorker) === 2 ? true : undefined), 'revision 2 bundles');
    const gpuLayers = gpuWorker.handleBundle(gpuWorker.policyBundles()[1]!, { narrowed: ['max-files-changed'] }).layers;
    expect(layerSlots(gpuLayers)).toEqual(['tenant::enforce:v1', 'pool:gpu:shadow:v2']);
    expect(gpuLayers?.layers[1]?.document).toEqual(documentWith({ 'max-files-changed': { max: 5, level: 'mandatory' } }));
    // The pool layer reaches only the worker with the label.
    expect(layerSlots(plainWorker.handleBundle(plainWorker.policyBundles()[1]!).layers)).toEqual(['tenant::enforce:v1']);

    const status = await eventually(async () => {
      const body = await rollout(token);
      return body.workers.every((worker) => worker.upToDate && worker.appliedAt !== null) ? body : undefined;
    }, 'every worker on revision 2');
    expect(status.revision).toBe(2);
    expect(workerIn(status, gpuWorker)).toMatchObject({ labels: ['gpu'], appliedRevision: 2, narrowedRules: ['max-files-changed'], lastRefusal: null });
    expect(workerIn(status, plainWorker)).toMatchObject({ labels: [], appliedRevision: 2, narrowedRules: [] });
    expect((await rollout(token, '?revision=1')).workers.every((worker) => worker.upToDate)).toBe(true);
    expect((await api<ErrorBody>(token, 'GET', '/policy/rollout?revision=3')).body.code).toBe('POLICY_REVISION_NOT_FOUND');

    const current = await api<{ revision: number; layers: { scope: string; key: string | null; mode: string; version: number; publishedBy: string }[] }>(token, 'GET', '/policy');
    expect(current.body).toEqual({
      revision: 2,
      layers: [
        expect.objectContaining({ scope: 'tenant', key: null, mode: 'enforce', policyId: policy.id, version: 1, revision: 1, publishedBy: 'integration test' }),
        expect.objectContaining({ scope: 'pool', key: 'gpu', mode: 'shadow', policyId: policy.id, version: 2, revision: 2 }),
      ],
    });
    const history = await api<Body>(token, 'GET', '/policy/revisions/2');
    expect(history.body).toMatchObject({ revision: 2, change: 'published', layer: { scope: 'pool', key: 'gpu', version: 2 }, layers: [{ scope: 'tenant' }, { scope: 'pool' }] });

    const withdrawn = await api<{ revision: number; sentToConnectedWorkers: number }>(token, 'POST', '/policy/withdraw', { scope: 'pool', key: 'gpu', mode: 'shadow' });
    expect(withdrawn).toMatchObject({ status: 200, body: { revision: 3, sentToConnectedWorkers: 2 } });
    await eventually(() => (bundleCount(gpuWorker) === 3 ? true : undefined), 'revision 3 bundle');
    expect(layerSlots(gpuWorker.handleBundle(gpuWorker.policyBundles()[2]!).layers)).toEqual(['tenant::enforce:v1']);
    expect((await api<ErrorBody>(token, 'POST', '/policy/withdraw', { scope: 'pool', key: 'gpu', mode: 'shadow' })).body.code).toBe('POLICY_LAYER_NOT_FOUND');
    gpuWorker.close();
    plainWorker.close();
  });

  it('sends the current bundle on reconnect to a worker that was offline, and nothing to one that is current', async () => {
    const { token } = await newTenant();
    const worker = await connectedWorker(token, ['eu']);
    worker.applyBundlesOnArrival();
    const policy = await createPolicy(token, 'p');
    await publish(token, policy.id, 1, { scope: 'tenant', mode: 'enforce' });
    await eventually(() => (worker.appliedRevision === 1 ? true : undefined), 'revision 1 applied');

    worker.close();
    await eventually(async () => ((await api<{ status: string }[]>(token, 'GET', '/workers')).body[0]?.status === 'OFFLINE' ? true : undefined), 'offline');
    const offlinePublish = await publish(token, policy.id, 1, { scope: 'pool', key: 'eu', mode: 'enforce' });
    expect(offlinePublish).toMatchObject({ revision: 2, sentToConnectedWorkers: 0 });

    const before = bundleCount(worker);
    await worker.connect();
    await eventually(() => (worker.appliedRevision === 2 ? true : undefined), 'revision 2 applied after reconnect');
    expect(bundleCount(worker)).toBe(before + 1);
    const afterReconnect = worker.received.slice(worker.received.findLastIndex((f) => f.frame === 'challenge')).map((f) => f.frame);
    expect(afterReconnect).toEqual(['challenge', 'welcome', 'leaseRenewal', 'policyBundle']);
    // Applied now, the same bundle again would be a replay.
    expect(worker.verifyBundle(worker.policyBundles()[before]!)).toMatchObject({ ok: false, failureCode: 'POLICY_BUNDLE_STALE' });
    await eventually(async () => (workerIn(await rollout(token), worker)?.appliedRevision === 2 ? true : undefined), 'rollout shows revision 2');

    // Current now: reconnecting brings no bundle.
    worker.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const current = bundleCount(worker);
    await worker.connect();
    await eventually(() => (worker.received.filter((f) => f.frame === 'welcome').length === 3 ? true : undefined), 'third welcome');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(bundleCount(worker)).toBe(current);
    worker.close();
  });

  it('records a refusal and keeps the revision the worker applied', async () => {
    const { token } = await newTenant();
    const worker = await connectedWorker(token);
    const policy = await createPolicy(token, 'p');
    await publish(token, policy.id, 1, { scope: 'tenant', mode: 'enforce' });
    await eventually(() => (bundleCount(worker) === 1 ? true : undefined), 'bundle 1');
    worker.handleBundle(worker.policyBundles()[0]!);
    await eventually(async () => (workerIn(await rollout(token), worker)?.appliedRevision === 1 ? true : undefined), 'revision 1 applied');

    await publish(token, policy.id, 1, { scope: 'repository', key: 'web', mode: 'enforce' });
    await eventually(() => (bundleCount(worker) === 2 ? true : undefined), 'bundle 2');
    // The worker refuses it (say its schema is older than the control plane's).
    worker.send({ policyAck: { revision: 2, status: 'POLICY_ACK_STATUS_REFUSED', failureCode: 'POLICY_BUNDLE_INVALID' } });
    const refused = await eventually(async () => {
      const entry = workerIn(await rollout(token), worker);
      return entry?.lastRefusal ? entry : undefined;
    }, 'the refusal');
    expect(refused).toMatchObject({ appliedRevision: 1, upToDate: false, lastRefusal: { revision: 2, failureCode: 'POLICY_BUNDLE_INVALID' } });
    // A late APPLIED ack of an older revision, or one the tenant never reached, changes nothing.
    worker.send({ policyAck: { revision: 9, status: 'POLICY_ACK_STATUS_APPLIED' } });
    worker.send({ policyAck: { revision: 1, status: 'POLICY_ACK_STATUS_APPLIED', narrowed: ['RULE_SECRETS'] } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(workerIn(await rollout(token), worker)).toMatchObject({ appliedRevision: 1, narrowedRules: [] });
    worker.close();
  });

  it("keeps tenants apart: another tenant's policies are not found and its workers get no bundle", async () => {
    const owner = await newTenant();
    const stranger = await newTenant();
    const strangersWorker = await connectedWorker(stranger.token);
    const policy = await createPolicy(owner.token, 'p');
    for (const [method, path, body] of [
      ['GET', `/policies/${policy.id}`, undefined],
      ['GET', `/policies/${policy.id}/versions/1`, undefined],
      ['GET', `/policies/${policy.id}/diff?from=1&to=1`, undefined],
      ['POST', `/policies/${policy.id}/versions`, { document: baseline }],
      ['POST', `/policies/${policy.id}/versions/1/publish`, { scope: 'tenant', mode: 'enforce' }],
    ] as const) {
      const response = await api<ErrorBody>(stranger.token, method, path, body);
      expect({ path, status: response.status, code: response.body.code }).toEqual({ path, status: 404, code: 'POLICY_NOT_FOUND' });
    }
    expect((await api<unknown[]>(stranger.token, 'GET', '/policies')).body).toEqual([]);
    const published = await publish(owner.token, policy.id, 1, { scope: 'tenant', mode: 'enforce' });
    expect(published.sentToConnectedWorkers).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(bundleCount(strangersWorker)).toBe(0);
    expect(await rollout(stranger.token)).toEqual({ revision: 0, workers: [expect.objectContaining({ workerId: strangersWorker.workerId, appliedRevision: 0, upToDate: true })] });
    expect((await api<{ revision: number }>(stranger.token, 'GET', '/policy')).body).toEqual({ revision: 0, layers: [] });
    strangersWorker.close();
  });

  it('refuses with 422 a publish whose bundle would not fit on the wire, and changes nothing', async () => {
    const { token } = await newTenant();
    const description = 'd'.repeat(1_990);
    const policy = await createPolicy(token, 'wide', documentWith({}, description));
    let refusal: { status: number; body: ErrorBody } | undefined;
    let published = 0;
    for (let n = 0; n < 100 && !refusal; n += 1) {
      const response = await api<ErrorBody>(token, 'POST', `/policies/${policy.id}/versions/1/publish`, { scope: 'repository', key: `repo-${n}`, mode: 'enforce' });
      if (response.status === 200) published += 1;
      else refusal = response;
    }
    expect(refusal?.status).toBe(422);
    expect(refusal?.body).toMatchObject({ code: 'POLICY_BUNDLE_TOO_LARGE', message: expect.stringMatching(/above the bundle limit of 163840/) });
    const current = (await api<{ revision: number; layers: unknown[] }>(token, 'GET', '/policy')).body;
    expect(published).toBeGreaterThan(50);
    expect(current.revision).toBe(published);
    expect(current.layers).toHaveLength(published);
  });
});

describe('policy decisions', () => {
  it('records the rules a result reports and the rules a rejection names, never more', async () => {
    const { token } = await newTenant();
    const worker = await connectedWorker(token);
    const policy = await createPolicy(token, 'p');
    await publish(token, policy.id, 1, { scope: 'tenant', mode: 'enforce' });
    await eventually(() => (bundleCount(worker) === 1 ? true : undefined), 'bundle');
    worker.handleBundle(worker.policyBundles()[0]!);
    await eventually(async () => (workerIn(await rollout(token), worker)?.appliedRevision === 1 ? true : undefined), 'applied');

    const failed = (await api<{ id: string }>(token, 'POST', '/jobs', { kind: 'noop' })).body.id;
    const rejected = (await api<{ id: string }>(token, 'POST', '/jobs', { kind: 'noop' })).body.id;
    worker.send({ credit: { credits: 2 } });
    const instructions = await eventually(() => (worker.instructions().length === 2 ? worker.instructions() : undefined), 'two instructions');
    const ids = instructions.map((instruction) => decodeInstructionPayload(instruction.payload).jobId);
    expect(new Set(ids)).toEqual(new Set([failed, rejected]));

    worker.send({ ack: { attempt: { jobId: failed, attempt: 1 } } });
    worker.send({
      result: {
        attempt: { jobId: failed, attempt: 1 },
        outcome: 'JOB_OUTCOME_FAILED',
        failureCode: 'POLICY_VIOLATION',
        failedPhase: 'PHASE_APPLY',
        metadataLevel: 'METADATA_LEVEL_STANDARD',
        policy: {
          revision: 1,
          shadowRevision: 0,
          decisions: [
            { rule: 'RULE_MAX_FILES_CHANGED', level: 'RULE_LEVEL_MANDATORY', outcome: 'RULE_OUTCOME_BLOCKED' },
            { rule: 'RULE_SECRETS', level: 'RULE_LEVEL_ADVISORY', outcome: 'RULE_OUTCOME_RECORDED' },
          ],
        },
      },
    });
    worker.send({ rejected: { attempt: { jobId: rejected, attempt: 1 }, failureCode: 'TASK_FORBIDDEN_BY_POLICY', rules: ['RULE_JOB_KINDS'] } });
    await eventually(() => (worker.resultAcks().length === 1 ? true : undefined), 'result ack');

    const forFailed = await eventually(async () => {
      const body = (await api<Body[]>(token, 'GET', `/policy/decisions?jobId=${failed}`)).body;
      return body.length === 2 ? body : undefined;
    }, 'decisions of the failed job');
    expect(forFailed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ jobId: failed, attempt: 1, rule: 'max-files-changed', level: 'MANDATORY', outcome: 'BLOCKED', revision: 1, shadowRevision: 0 }),
        expect.objectContaining({ jobId: failed, rule: 'secrets', level: 'ADVISORY', outcome: 'RECORDED' }),
      ]),
    );
    const forRejected = await eventually(async () => {
      const body = (await api<Body[]>(token, 'GET', `/policy/decisions?jobId=${rejected}`)).body;
      return body.length === 1 ? body : undefined;
    }, 'decision of the rejected job');
    expect(forRejected[0]).toMatchObject({ rule: 'job-kinds', level: 'MANDATORY', outcome: 'BLOCKED', revision: 1 });
    expect((await api<Body[]>(token, 'GET', '/policy/decisions?rule=secrets')).body).toEqual([expect.objectContaining({ jobId: failed })]);
    const job = (await api<{ result: { policy: unknown; metadataLevel: string } }>(token, 'GET', `/jobs/${failed}`)).body;
    expect(job.result).toMatchObject({
      metadataLevel: 'METADATA_LEVEL_STANDARD',
      policy: { revision: 1, shadowRevision: 0, decisions: [{ rule: 'max-files-changed', level: 'MANDATORY', outcome: 'BLOCKED' }, { rule: 'secrets', level: 'ADVISORY', outcome: 'RECORDED' }] },
    });
    worker.close();
  });
});

describe('results judged by the central policy they ran under', () => {
  interface JobBody {
    id: string;
    status: string;
    implausible: string[];
  }
  interface WorkerBody {
    id: string;
    implausibleResults: number;
    lastImplausibleAt: string | null;
  }

  const fixJob = { kind: 'fix', repoAlias: 'web', baseRef: 'main', ticket: { title: 'Fix the off-by-one' } };
  /** A change of 5 files, and a token budget whose one-request overshoot (2 × budget + the largest answer) the test crosses. */
  const TOKEN_BUDGET = 50_000;
  const TOKENS_PAST_BUDGET = 2 * TOKEN_BUDGET + LIMIT_CEILINGS.answerTokens + 1;
  const limitsDocument = documentWith({ 'max-files-changed': { max: 3 }, 'inference-token-budget': { max: TOKEN_BUDGET } });
  let policiesCreated = 0;

  /** A worker that applies every bundle at once, enrolled with a token naming `pool` when given. */
  async function applyingWorker(token: string, options: { labels?: string[]; pool?: string } = {}): Promise<TestWorker> {
    const worker = new TestWorker(client);
    const enrollment = await api<{ token: string }>(token, 'POST', '/enrollment-tokens', options.pool ? { pool: options.pool } : {});
    await worker.enroll(enrollment.body.token);
    worker.applyBundlesOnArrival();
    await worker.connect({ labels: options.labels ?? [] });
    await eventually(() => worker.received.find((f) => f.frame === 'welcome'), 'welcome');
    return worker;
  }

  /** Publishes version 1 of a new policy holding `document` into `slot`, and waits until every worker applied it. */
  async function publishApplied(token: string, document: unknown, slot: Body, workers: TestWorker[]): Promise<number> {
    policiesCreated += 1;
    const policy = await createPolicy(token, `limits-${policiesCreated}`, document);
    const { revision } = await publish(token, policy.id, 1, slot);
    for (const worker of workers) await eventually(() => (worker.appliedRevision === revision ? true : undefined), `revision ${revision} applied`);
    return revision;
  }

  /** A fix job given to `worker` alone (only it holds a credit), acknowledged. */
  async function jobRunningOn(token: string, worker: TestWorker): Promise<string> {
    const jobId = (await api<JobBody>(token, 'POST', '/jobs', fixJob)).body.id;
    const before = worker.instructions().length;
    worker.send({ credit: { credits: 1 } });
    await eventually(() => (worker.instructions().length === before + 1 ? true : undefined), 'the instruction');
    worker.send({ ack: { attempt: { jobId, attempt: 1 } } });
    await eventually(async () => ((await api<JobBody>(token, 'GET', `/jobs/${jobId}`)).body.status === 'RUNNING' ? true : undefined), 'RUNNING');
    return jobId;
  }

  /** Reports a delivered change of `filesChanged` files and `totalTokens` tokens under `revision`, and returns the job as recorded. */
  async function reportSucceeded(token: string, worker: TestWorker, jobId: string, figures: { revision: number; filesChanged: number; totalTokens: number }): Promise<JobBody> {
    const acks = worker.resultAcks().length;
    worker.send({
      result: {
        attempt: { jobId, attempt: 1 },
        outcome: 'JOB_OUTCOME_SUCCEEDED',
        failureCode: 'FAILURE_CODE_UNSPECIFIED',
        failedPhase: 'PHASE_UNSPECIFIED',
        phaseDurations: [{ phase: 'PHASE_TEST', durationMs: 100 }],
        tokens: { requests: 3, promptTokens: figures.totalTokens - 500, completionTokens: 500 },
        change: { filesChanged: figures.filesChanged, linesAdded: 12, linesRemoved: 4, editsProposed: figures.filesChanged, editsApplied: figures.filesChanged },
        verification: { testsRan: true, testExitCode: 0 },
        changeMac: Buffer.alloc(32, 0xab),
        metadataLevel: 'METADATA_LEVEL_STANDARD',
        policy: { revision: figures.revision, shadowRevision: 0, decisions: [] },
      },
    });
    await eventually(() => (worker.resultAcks().length === acks + 1 ? true : undefined), 'result ack');
    expect(worker.resultAcks()[acks]?.disposition).toBe('RESULT_DISPOSITION_RECORDED');
    return (await api<JobBody>(token, 'GET', `/jobs/${jobId}`)).body;
  }

  const workerIn = async (token: string, worker: TestWorker) => (await api<WorkerBody[]>(token, 'GET', '/workers')).body.find((entry) => entry.id === worker.workerId);

  it("flags a delivered change or a token count past the revision's limits, counts it on the worker, and judges revision 0 by the ceilings", async () => {
    const { token } = await newTenant();
    const worker = await applyingWorker(token);
    const revision = await publishApplied(token, limitsDocument, { scope: 'tenant', mode: 'enforce' }, [worker]);

    const tooLarge = await reportSucceeded(token, worker, await jobRunningOn(token, worker), { revision, filesChanged: 5, totalTokens: 20_000 });
    expect(tooLarge).toMatchObject({ status: 'SUCCEEDED', implausible: ['change-exceeds-job-limits'] });
    const tooManyTokens = await reportSucceeded(token, worker, await jobRunningOn(token, worker), { revision, filesChanged: 3, totalTokens: TOKENS_PAST_BUDGET });
    expect(tooManyTokens.implausible).toEqual(['tokens-exceed-job-budget']);
    const listed = await workerIn(token, worker);
    expect(listed).toMatchObject({ implausibleResults: 2 });
    expect(listed?.lastImplausibleAt).not.toBeNull();

    // The same figures with no central policy in force: only the ceilings bound them.
    const underLocalPolicy = await reportSucceeded(token, worker, await jobRunningOn(token, worker), { revision: 0, filesChanged: 5, totalTokens: TOKENS_PAST_BUDGET });
    expect(underLocalPolicy.implausible).toEqual([]);
    // And under a revision the tenant never reached.
    const underUnknownRevision = await reportSucceeded(token, worker, await jobRunningOn(token, worker), { revision: revision + 5, filesChanged: 5, totalTokens: TOKENS_PAST_BUDGET });
    expect(underUnknownRevision.implausible).toEqual([]);
    // Within the limits: plausible.
    expect((await reportSucceeded(token, worker, await jobRunningOn(token, worker), { revision, filesChanged: 3, totalTokens: TOKENS_PAST_BUDGET - 1 })).implausible).toEqual([]);
    expect(await workerIn(token, worker)).toMatchObject({ implausibleResults: 2 });
    worker.close();
  });

  it('is not bound by a shadow layer', async () => {
    const { token } = await newTenant();
    const worker = await applyingWorker(token);
    const revision = await publishApplied(token, limitsDocument, { scope: 'tenant', mode: 'shadow' }, [worker]);
    const job = await reportSucceeded(token, worker, await jobRunningOn(token, worker), { revision, filesChanged: 5, totalTokens: TOKENS_PAST_BUDGET });
    expect(job.implausible).toEqual([]);
    expect(await workerIn(token, worker)).toMatchObject({ implausibleResults: 0 });
    worker.close();
  });

  it("binds by a pool layer only the workers of that pool, by label or by the enrollment token's pool", async () => {
    const { token } = await newTenant();
    const labelled = await applyingWorker(token, { labels: ['gpu'] });
    const enrolledInPool = await applyingWorker(token, { pool: 'gpu' });
    const elsewhere = await applyingWorker(token, { labels: ['cpu'] });
    const workers = [labelled, enrolledInPool, elsewhere];
    const revision = await publishApplied(token, limitsDocument, { scope: 'pool', key: 'gpu', mode: 'enforce' }, workers);

    const implausible: string[][] = [];
    for (const worker of workers) {
      implausible.push((await reportSucceeded(token, worker, await jobRunningOn(token, worker), { revision, filesChanged: 5, totalTokens: 20_000 })).implausible);
    }
    expect(implausible).toEqual([['change-exceeds-job-limits'], ['change-exceeds-job-limits'], []]);
    for (const worker of workers) worker.close();
  });
});

describe('admin audit log', () => {
  it('records each admin action with its actor and source, and the chain verifies', async () => {
    const { token } = await newTenant();
    const policy = await createPolicy(token, 'p');
    await api(token, 'POST', `/policies/${policy.id}/versions`, { document: baseline });
    await publish(token, policy.id, 2, { scope: 'repository', key: 'web', mode: 'shadow' });
    await api(token, 'POST', '/policy/withdraw', { scope: 'repository', key: 'web', mode: 'shadow' });
    const enrollment = await api<{ token: string }>(token, 'POST', '/enrollment-tokens', {});
    const entries = (await api<{ seq: number; action: string; actorName: string; sourceIp: string; details: Body; target: string }[]>(token, 'GET', '/audit-log')).body;
    expect(entries.map((entry) => [entry.seq, entry.action])).toEqual([
      [1, 'policy.created'],
      [2, 'policy.version.created'],
      [3, 'policy.published'],
      [4, 'policy.withdrawn'],
      [5, 'enrollment-token.created'],
    ]);
    expect(entries[2]).toMatchObject({ actorName: 'integration test', target: `policy:${policy.id}`, details: { version: 2, scope: 'REPOSITORY', key: 'web', mode: 'SHADOW', revision: 1 } });
    expect(entries.every((entry) => /^(::ffff:)?127\.0\.0\.1$|^::1$/.test(entry.sourceIp))).toBe(true);
    // Never the enrollment token itself.
    expect(JSON.stringify(entries)).not.toContain(enrollment.body.token.slice(4));
    expect((await api(token, 'GET', '/audit-log?afterSeq=3&limit=1')).body).toEqual([expect.objectContaining({ seq: 4 })]);
    expect((await api(token, 'GET', '/audit-log/verify')).body).toEqual({ ok: true, entries: 5 });
  });

  it('refuses UPDATE in the database, and verification names a row altered behind the trigger', async () => {
    const { token, tenantId } = await newTenant();
    const policy = await createPolicy(token, 'p');
    await publish(token, policy.id, 1, { scope: 'tenant', mode: 'enforce' });
    await api(token, 'POST', `/policies/${policy.id}/versions`, { document: baseline });
    await expect(sql.query(`UPDATE "AdminAuditEntry" SET "actorName" = 'nobody' WHERE "tenantId" = $1 AND "seq" = 2`, [tenantId])).rejects.toThrow(/append-only/);
    await expect(sql.query(`DELETE FROM "AdminAuditEntry" WHERE "tenantId" = $1`, [tenantId])).rejects.toThrow(/append-only/);
    expect((await api(token, 'GET', '/audit-log/verify')).body).toEqual({ ok: true, entries: 3 });

    await sql.query('BEGIN');
    await sql.query('ALTER TABLE "AdminAuditEntry" DISABLE TRIGGER "AdminAuditEntry_append_only"');
    await sql.query(`UPDATE "AdminAuditEntry" SET "actorName" = 'nobody' WHERE "tenantId" = $1 AND "seq" = 2`, [tenantId]);
    await sql.query('ALTER TABLE "AdminAuditEntry" ENABLE TRIGGER "AdminAuditEntry_append_only"');
    await sql.query('COMMIT');
    expect((await api(token, 'GET', '/audit-log/verify')).body).toEqual({ ok: false, entries: 3, firstBrokenSeq: 2 });
  });

  it('keeps the chain gapless and the revisions distinct under concurrent publishes', async () => {
    const { token } = await newTenant();
    const policy = await createPolicy(token, 'p');
    const published = await Promise.all(
      Array.from({ length: 10 }, (_, n) => api<PublishBody>(token, 'POST', `/policies/${policy.id}/versions/1/publish`, { scope: 'pool', key: `pool-${n}`, mode: 'enforce' })),
    );
    expect(published.map((response) => response.status)).toEqual(Array(10).fill(200));
    expect(published.map((response) => response.body.revision).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const entries = (await api<{ seq: number }[]>(token, 'GET', '/audit-log')).body;
    expect(entries.map((entry) => entry.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect((await api(token, 'GET', '/audit-log/verify')).body).toEqual({ ok: true, entries: 11 });
  });
});

describe('rollout at scale', () => {
  it('measures publish → last ack for 20 connected workers', async () => {
    const { token } = await newTenant();
    const workers = await Promise.all(Array.from({ length: 20 }, (_, n) => connectedWorker(token, n % 2 === 0 ? ['even'] : [])));
    for (const worker of workers) worker.applyBundlesOnArrival();
    const policy = await createPolicy(token, 'fleet');
    await publish(token, policy.id, 1, { scope: 'pool', key: 'even', mode: 'enforce' });
    const respondedAt = performance.now();
    // Polled every 25 ms: the figure is within 25 ms of the moment the last ack was recorded.
    const status = await eventually(async () => {
      const body = await rollout(token);
      return body.workers.length === 20 && body.workers.every((worker) => worker.upToDate && worker.appliedAt !== null) ? body : undefined;
    }, 'every worker on revision 1');
    const elapsedMs = performance.now() - respondedAt;
    process.stdout.write(`central policy: publish response → last of ${status.workers.length} acks recorded: ${elapsedMs.toFixed(0)} ms\n`);
    expect(status.workers.every((worker) => worker.appliedRevision === 1)).toBe(true);
    for (const worker of workers) worker.close();
  });
});
