import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { rawPublicKeyFromPem } from '@airlock/envelope';
import { launchProgram, writeDemoScenarios, WORKSPACE_ROOT, type ManagedProcess } from '@airlock/local-stack';
import type { WorkerGatewayClient } from '@airlock/protocol';
import { LocalKeyEncryptionKeys, SecretSealer, localKekId, sealedHeader } from '@airlock/sealed-secrets';
import { createDatabase, startNatsServer, startPostgresCluster, type NatsServer, type PostgresCluster } from '@airlock/testing';
import { ShiftedClock } from '../../test-support/auth-client';
import { createApiToken, createTenantWithAdminToken } from '../../test-support/tenant.fixture';
import { testAppConfig } from '../../test-support/test-app-config';
import { eventually, gatewayClient, TestWorker } from '../../test-support/test-worker';
import { ROLE_SCOPES } from '../auth/access';
import { startControlPlane, type RunningControlPlane } from '../control-plane';
import { SIGNING_KEY_GRACE_MARGIN_MS, SIGNING_KEY_REFRESH_INTERVAL_MS, SigningKeyService, signingKeyPurpose } from './signing-key.service';

jest.setTimeout(240_000);

/*
 * Rotating the instruction-signing key as docs/operations/key-rotation.md tells an admin to,
 * against two control-plane replicas on one PostgreSQL and one NATS, real worker daemons
 * (`airlock-worker run`) and test workers that check every signed frame:
 *   stage → pin the staged key on the worker and restart it → activate → republish policy →
 *   unpin the old key after its grace period.
 * Worker "both" follows the runbook; worker "old" never pins the new key, and shows why the
 * order matters.
 */

const INSTRUCTION_TTL_MS = 600_000;
const WORKER_MAIN = join(WORKSPACE_ROOT, 'apps', 'worker', 'src', 'main.ts');
const POLICY_DOCUMENT = { schemaVersion: 1, rules: { 'max-files-changed': { max: 20 } } };

interface KeyResponse {
  keyId: string;
  publicKey: string;
  state: 'STAGED' | 'ACTIVE' | 'RETIRED';
  createdAt: string;
  activatedAt: string | null;
  retiredAt: string | null;
  unpinAfter: string | null;
}

interface ActivationResponse {
  activated: KeyResponse;
  retired: KeyResponse | null;
  allReplicasSigningBy: string;
}

interface Answer<T> {
  status: number;
  body: T;
}

/** A real worker daemon of the test: its config file, its folder, and the process while it runs. */
interface RealWorker {
  readonly name: string;
  readonly home: string;
  readonly configFile: string;
  process?: ManagedProcess;
}

let cluster: PostgresCluster;
let nats: NatsServer;
let inference: ManagedProcess;
let inferenceUrl: string;
let dir: string;
let kek: Buffer;
/** Replica A: every admin call goes here. Its clock is moved past the grace period at the end. */
let replicaA: RunningControlPlane;
const clockOfA = new ShiftedClock();
/** Replica B: every worker is connected here, so an activation reaches them only through B's refresh. */
let replicaB: RunningControlPlane;
let clientOfB: WorkerGatewayClient;

/** Tenant whose worker follows the runbook, and tenant whose worker never pins the new key. */
let tenantBoth: { tenantId: string; token: string };
let tenantOld: { tenantId: string; token: string };
let both: RealWorker;
let old: RealWorker;
/** Test workers of tenantBoth connected to B: one enrolled before the staging (pins the old key), one after (pins both). */
let pinsOld: TestWorker;
let pinsBoth: TestWorker;

let oldKey: KeyResponse;
let newKey: KeyResponse;

async function api<T = Record<string, unknown>>(replica: RunningControlPlane, token: string, method: string, path: string, body?: unknown): Promise<Answer<T>> {
  const response = await fetch(`${replica.httpUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as T };
}

/** Runs the worker CLI to completion without blocking this process, where both control planes live. */
function workerCli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', WORKER_MAIN, ...args], { cwd: WORKSPACE_ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const pinned = (...keys: KeyResponse[]) => keys.map(({ keyId, publicKey }) => ({ keyId, publicKey }));

function writeWorkerConfig(worker: RealWorker, trustedSigningKeys: { keyId: string; publicKey: string }[]): void {
  writeFileSync(
    worker.configFile,
    stringify({
      controlPlane: { address: replicaB.grpcAddress, insecure: true, trustedSigningKeys },
      stateDir: './state',
      workspaceDir: './workspace',
      allowNoop: true,
      inference: { endpoints: [{ name: 'sim', baseUrl: inferenceUrl, model: 'airlock-sim-coder' }] },
    }),
  );
}

async function enrollRealWorker(name: string, tenant: { token: string }, trusted: KeyResponse[]): Promise<RealWorker> {
  const home = join(dir, name);
  mkdirSync(home, { recursive: true });
  const worker: RealWorker = { name, home, configFile: join(home, 'worker.yaml') };
  writeWorkerConfig(worker, pinned(...trusted));
  const { body } = await api<{ token: string }>(replicaA, tenant.token, 'POST', '/enrollment-tokens', {});
  const tokenFile = join(home, 'enrollment-token');
  writeFileSync(tokenFile, `${body.token}\n`, { mode: 0o600 });
  const enrolled = await workerCli('enroll', '--config', worker.configFile, '--token-file', tokenFile);
  if (enrolled.status !== 0) throw new Error(`enroll ${name}: ${enrolled.stderr}`);
  return worker;
}

async function startRealWorker(worker: RealWorker): Promise<void> {
  worker.process = launchProgram({ program: 'worker', args: ['run', '--config', worker.configFile], logDir: dir, label: `${worker.name}-${Date.now()}` });
  await worker.process.waitForEvent((event) => event.event === 'worker-ready', 90_000);
}

async function restartRealWorker(worker: RealWorker): Promise<void> {
  await worker.process?.stop();
  await startRealWorker(worker);
}

/** Queues a noop job and waits until it has ended; the job as GET /jobs/:id answers it. */
async function runNoop(tenant: { token: string }, options: { pool?: string } = {}): Promise<{ id: string; status: string; failureCode: string | null }> {
  const created = await api<{ id: string }>(replicaA, tenant.token, 'POST', '/jobs', { kind: 'noop', ...options });
  expect(created.status).toBe(201);
  return eventually(
    async () => {
      const { body } = await api<{ id: string; status: string; failureCode: string | null }>(replicaA, tenant.token, 'GET', `/jobs/${created.body.id}`);
      return body.status === 'SUCCEEDED' || body.status === 'FAILED' ? body : undefined;
    },
    `the end of job ${created.body.id}`,
    60_000,
  );
}

/** What the worker logged that a worker refusing a signature logs. */
const refusalsLoggedBy = (worker: RealWorker) =>
  (worker.process?.allEvents() ?? []).filter((event) => event.event === 'instruction-rejected' || event.event === 'control-frame-unauthenticated' || event.event === 'policy-bundle-refused');

async function publishPolicy(tenant: { token: string }, name: string): Promise<{ policyId: string; revision: number }> {
  const policy = await api<{ id: string }>(replicaA, tenant.token, 'POST', '/policies', { name, document: POLICY_DOCUMENT });
  const published = await api<{ revision: number }>(replicaA, tenant.token, 'POST', `/policies/${policy.body.id}/versions/1/publish`, { scope: 'tenant', mode: 'enforce' });
  expect(published.status).toBe(200);
  return { policyId: policy.body.id, revision: published.body.revision };
}

async function appliedRevision(tenant: { token: string }, workerId: string): Promise<number> {
  const { body } = await api<{ policyRevision: number }>(replicaA, tenant.token, 'GET', `/workers/${workerId}`);
  return body.policyRevision;
}

const identityOf = (worker: RealWorker) => JSON.parse(readFileSync(join(worker.home, 'state', 'identity.json'), 'utf8')) as { workerId: string };

/**
 * Has the control plane sign an instruction and a control frame for a test worker: a noop job
 * for the worker's own pool, which only it serves, then its cancel. Returns the key id the
 * instruction names; the Cancel's signature is checked by the test worker on arrival
 * (`frameRefusals`).
 */
async function signedFramesFor(probe: TestWorker, pool: string): Promise<string> {
  const instructionsBefore = probe.instructions().length;
  const cancelsBefore = probe.received.filter((frame) => frame.frame === 'cancel').length;
  probe.send({ credit: { credits: 1 } });
  const job = await api<{ id: string }>(replicaA, tenantBoth.token, 'POST', '/jobs', { kind: 'noop', pool });
  expect(job.status).toBe(201);
  const instruction = await eventually(() => probe.instructions()[instructionsBefore], `an instruction for ${pool}`);
  expect((await api(replicaA, tenantBoth.token, 'POST', `/jobs/${job.body.id}/cancel`)).status).toBe(202);
  await eventually(() => (probe.received.filter((frame) => frame.frame === 'cancel').length > cancelsBefore ? true : undefined), `a cancel for ${pool}`);
  return instruction.keyId;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'airlock-key-rotation-it-'));
  kek = randomBytes(32);
  writeFileSync(join(dir, 'kek'), kek.toString('hex'), { mode: 0o600 });
  [cluster, nats] = await Promise.all([startPostgresCluster(), startNatsServer()]);
  const databaseUrl = await createDatabase(cluster.url, 'signing_key_rotation');
  // tenantBoth operates the control plane; tenantOld is one of its customers.
  const vars = { AIRLOCK_NATS_URL: nats.url, AIRLOCK_KEK_FILE: join(dir, 'kek'), AIRLOCK_INSTRUCTION_TTL: `${INSTRUCTION_TTL_MS}ms`, AIRLOCK_PLATFORM_TENANT: 'rotation-both-keys' };
  // One after the other: the first start creates the first key, the second reads it.
  replicaA = await startControlPlane(testAppConfig(databaseUrl, vars), { clock: clockOfA });
  replicaB = await startControlPlane(testAppConfig(databaseUrl, vars));
  clientOfB = gatewayClient(replicaB.grpcAddress);
  mkdirSync(join(dir, 'scenarios'));
  writeDemoScenarios(join(dir, 'scenarios'), { canary: 'unused' });
  inference = launchProgram({ program: 'inference-sim', args: ['--port', '0', '--scenarios', join(dir, 'scenarios')], logDir: dir });
  inferenceUrl = String((await inference.waitForEvent((event) => event.event === 'listening', 60_000))['url']);
  tenantBoth = await createTenantWithAdminToken(replicaA.dataAccess, 'rotation-both-keys');
  tenantOld = await createTenantWithAdminToken(replicaA.dataAccess, 'rotation-old-key');
});

afterAll(async () => {
  pinsOld?.close();
  pinsBoth?.close();
  clientOfB?.close();
  await Promise.all([both?.process?.stop(), old?.process?.stop(), inference?.stop()]);
  await replicaA?.stop();
  await replicaB?.stop();
  await Promise.all([cluster?.stop(), nats?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('rotating the instruction-signing key', () => {
  it('lists the one ACTIVE key on every replica before a rotation; workers pinning it run jobs', async () => {
    const onA = await api<KeyResponse[]>(replicaA, tenantBoth.token, 'GET', '/signing-keys');
    const onB = await api<KeyResponse[]>(replicaB, tenantOld.token, 'GET', '/signing-keys');
    expect(onA.status).toBe(200);
    expect(onA.body).toEqual([expect.objectContaining({ state: 'ACTIVE', retiredAt: null, unpinAfter: null, activatedAt: expect.any(String) })]);
    expect(onB.body).toEqual(onA.body);
    oldKey = onA.body[0]!;
    expect(replicaA.app.get(SigningKeyService).currentSigner().keyId).toBe(oldKey.keyId);
    expect(replicaB.app.get(SigningKeyService).currentSigner().keyId).toBe(oldKey.keyId);

    both = await enrollRealWorker('both', tenantBoth, [oldKey]);
    old = await enrollRealWorker('old', tenantOld, [oldKey]);
    await Promise.all([startRealWorker(both), startRealWorker(old)]);
    expect(await runNoop(tenantBoth)).toMatchObject({ status: 'SUCCEEDED' });
    expect(await runNoop(tenantOld)).toMatchObject({ status: 'SUCCEEDED' });

    // Policy in force on both workers, its bundle signed with the old key and kept in their state directories.
    await publishPolicy(tenantBoth, 'before-rotation');
    await publishPolicy(tenantOld, 'before-rotation');
    await eventually(async () => ((await appliedRevision(tenantBoth, identityOf(both).workerId)) === 1 ? true : undefined), 'bundle applied on worker both');
    await eventually(async () => ((await appliedRevision(tenantOld, identityOf(old).workerId)) === 1 ? true : undefined), 'bundle applied on worker old');

    const enrollmentToken = await api<{ token: string }>(replicaA, tenantBoth.token, 'POST', '/enrollment-tokens', {});
    pinsOld = new TestWorker(clientOfB);
    const enrolled = await pinsOld.enroll(enrollmentToken.body.token);
    expect(enrolled.signingKeys.map((key) => key.keyId)).toEqual([oldKey.keyId]);
    await pinsOld.connect({ labels: ['pins-old'] });
    await eventually(() => pinsOld.received.find((frame) => frame.frame === 'welcome'), 'welcome');
  });

  it('lets only a holder of fleet:write (an admin) stage or activate: 403 FORBIDDEN for a manager or a viewer, and nothing changes', async () => {
    for (const role of ['MANAGER', 'VIEWER'] as const) {
      const token = await createApiToken(replicaA.dataAccess, tenantBoth.tenantId, ROLE_SCOPES[role], `rotation ${role}`);
      const staged = await api(replicaA, token, 'POST', '/signing-keys');
      expect(staged).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
      const activated = await api(replicaA, token, 'POST', `/signing-keys/${oldKey.keyId}/activate`);
      expect(activated).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
      // Reading the keys is every role's (fleet:read).
      expect((await api(replicaA, token, 'GET', '/signing-keys')).status).toBe(200);
    }
    expect((await api<KeyResponse[]>(replicaA, tenantBoth.token, 'GET', '/signing-keys')).body).toEqual([oldKey]);
  });

  it("refuses another tenant's admin: the keys sign for every tenant, so only the platform tenant's may stage or activate (403 PLATFORM_TENANT_ONLY)", async () => {
    const staged = await api(replicaA, tenantOld.token, 'POST', '/signing-keys');
    expect(staged).toMatchObject({ status: 403, body: { code: 'PLATFORM_TENANT_ONLY', message: expect.stringContaining('AIRLOCK_PLATFORM_TENANT') } });
    const activated = await api(replicaA, tenantOld.token, 'POST', `/signing-keys/${oldKey.keyId}/activate`);
    expect(activated).toMatchObject({ status: 403, body: { code: 'PLATFORM_TENANT_ONLY' } });
    expect((await api<KeyResponse[]>(replicaA, tenantOld.token, 'GET', '/signing-keys')).body).toEqual([oldKey]);
    expect((await api<unknown[]>(replicaA, tenantBoth.token, 'GET', '/audit-log?action=signing-key.')).body).toEqual([]);
  });

  it('stages the next key, sealed under the KEK as the active key is; lists it on every replica and at enrollment; signs nothing with it yet', async () => {
    const staged = await api<KeyResponse>(replicaA, tenantBoth.token, 'POST', '/signing-keys');
    expect(staged.status).toBe(201);
    newKey = staged.body;
    expect(newKey).toMatchObject({ state: 'STAGED', activatedAt: null, retiredAt: null, unpinAfter: null });
    expect(newKey.keyId).not.toBe(oldKey.keyId);

    // Sealed at rest exactly as the active key: under the same KEK, for its own row, opening to the key listed.
    const stored = new Map((await replicaA.dataAccess.signingKeys.listStoredPrivateKeys()).map((row) => [row.keyId, row.privateKeyPem]));
    expect(sealedHeader(stored.get(newKey.keyId) ?? '').kekId).toBe(localKekId(kek));
    expect(sealedHeader(stored.get(oldKey.keyId) ?? '').kekId).toBe(localKekId(kek));
    const privateKeyPem = await new SecretSealer(new LocalKeyEncryptionKeys(kek)).unsealText(signingKeyPurpose(newKey.keyId), stored.get(newKey.keyId) ?? '');
    expect(rawPublicKeyFromPem(privateKeyPem).toString('base64')).toBe(newKey.publicKey);

    for (const replica of [replicaA, replicaB]) {
      expect((await api<KeyResponse[]>(replica, tenantOld.token, 'GET', '/signing-keys')).body).toEqual([oldKey, newKey]);
      expect(replica.app.get(SigningKeyService).currentSigner().keyId).toBe(oldKey.keyId);
    }
    const entries = await api<{ action: string; target: string }[]>(replicaA, tenantBoth.token, 'GET', '/audit-log?action=signing-key.');
    expect(entries.body).toEqual([expect.objectContaining({ action: 'signing-key.staged', target: `signing-key:${newKey.keyId}` })]);

    // A worker enrolled now is told both keys, so it needs no restart when the staged one is activated.
    const enrollmentToken = await api<{ token: string }>(replicaA, tenantBoth.token, 'POST', '/enrollment-tokens', {});
    pinsBoth = new TestWorker(clientOfB);
    const enrolled = await pinsBoth.enroll(enrollmentToken.body.token);
    expect(enrolled.signingKeys.map((key) => key.keyId)).toEqual([oldKey.keyId, newKey.keyId]);
    await pinsBoth.connect({ labels: ['pins-both'] });
    await eventually(() => pinsBoth.received.find((frame) => frame.frame === 'welcome'), 'welcome');
  });

  it('stages one key at a time: a second stage is 409 SIGNING_KEY_ALREADY_STAGED, on any replica', async () => {
    for (const replica of [replicaA, replicaB]) {
      const again = await api<{ code: string; message: string }>(replica, tenantBoth.token, 'POST', '/signing-keys');
      expect(again.status).toBe(409);
      expect(again.body.code).toBe('SIGNING_KEY_ALREADY_STAGED');
      expect(again.body.message).toContain(newKey.keyId);
    }
    // Two admins asking at once still stage nothing more.
    const racing = await Promise.all([replicaA, replicaB].map((replica) => api(replica, tenantBoth.token, 'POST', '/signing-keys')));
    expect(racing.map((answer) => answer.status)).toEqual([409, 409]);
    expect((await api<KeyResponse[]>(replicaA, tenantBoth.token, 'GET', '/signing-keys')).body).toEqual([oldKey, newKey]);
    // Nor may another tenant's admin activate the staged key before the operator is ready.
    expect(await api(replicaB, tenantOld.token, 'POST', `/signing-keys/${newKey.keyId}/activate`)).toMatchObject({ status: 403, body: { code: 'PLATFORM_TENANT_ONLY' } });
    expect(replicaA.app.get(SigningKeyService).currentSigner().keyId).toBe(oldKey.keyId);
  });

  it('activates only a staged key: 404 SIGNING_KEY_NOT_FOUND for an unknown one, 409 SIGNING_KEY_NOT_STAGED for the active one, 400 for a malformed id', async () => {
    const unknown = await api(replicaA, tenantBoth.token, 'POST', '/signing-keys/sk_0123456789abcdef/activate');
    expect(unknown).toMatchObject({ status: 404, body: { code: 'SIGNING_KEY_NOT_FOUND' } });
    const active = await api(replicaA, tenantBoth.token, 'POST', `/signing-keys/${oldKey.keyId}/activate`);
    expect(active).toMatchObject({ status: 409, body: { code: 'SIGNING_KEY_NOT_STAGED', message: expect.stringContaining('is ACTIVE') } });
    const malformed = await api(replicaA, tenantBoth.token, 'POST', '/signing-keys/sk_NOT-A-KEY/activate');
    expect(malformed).toMatchObject({ status: 400, body: { code: 'INVALID_REQUEST', message: expect.stringMatching(/^keyId: expected a signing key id/) } });
    expect(replicaB.app.get(SigningKeyService).currentSigner().keyId).toBe(oldKey.keyId);
  });

  it('runs jobs on the worker once it pinned the staged key and restarted, before the activation', async () => {
    writeWorkerConfig(both, pinned(oldKey, newKey));
    await restartRealWorker(both);
    expect(await runNoop(tenantBoth)).toMatchObject({ status: 'SUCCEEDED' });
    expect(await runNoop(tenantOld)).toMatchObject({ status: 'SUCCEEDED' });
    // Before the activation, instructions and control frames are signed with the old key, which both test workers pinned.
    expect(await signedFramesFor(pinsOld, 'pins-old')).toBe(oldKey.keyId);
    expect(await signedFramesFor(pinsBoth, 'pins-both')).toBe(oldKey.keyId);
    expect(pinsOld.frameRefusals).toEqual([]);
    expect(pinsBoth.frameRefusals).toEqual([]);
  });

  it('activates the staged key: the replica asked signs with it at once, the other replica within the refresh bound', async () => {
    const activation = await api<ActivationResponse>(replicaA, tenantBoth.token, 'POST', `/signing-keys/${newKey.keyId}/activate`);
    const answeredAt = Date.now();
    expect(replicaA.app.get(SigningKeyService).currentSigner().keyId).toBe(newKey.keyId);
    expect(activation.status).toBe(200);
    const { activated, retired, allReplicasSigningBy } = activation.body;
    expect(activated).toMatchObject({ keyId: newKey.keyId, publicKey: newKey.publicKey, state: 'ACTIVE', retiredAt: null, unpinAfter: null });
    expect(retired).toMatchObject({ keyId: oldKey.keyId, state: 'RETIRED', activatedAt: oldKey.activatedAt });
    expect(retired?.retiredAt).toBe(activated.activatedAt);
    expect(Date.parse(retired?.unpinAfter ?? '')).toBe(Date.parse(retired?.retiredAt ?? '') + INSTRUCTION_TTL_MS + SIGNING_KEY_GRACE_MARGIN_MS);
    expect(Date.parse(allReplicasSigningBy)).toBe(Date.parse(activated.activatedAt ?? '') + SIGNING_KEY_REFRESH_INTERVAL_MS);

    // A job queued at once may be signed by either key on B: the worker pinning both runs it either way.
    const queuedAtOnce = runNoop(tenantBoth);
    await eventually(() => (replicaB.app.get(SigningKeyService).currentSigner().keyId === newKey.keyId ? true : undefined), 'replica B signing with the new key', SIGNING_KEY_REFRESH_INTERVAL_MS + 5_000);
    const switchedAfterMs = Date.now() - answeredAt;
    expect(switchedAfterMs).toBeLessThanOrEqual(SIGNING_KEY_REFRESH_INTERVAL_MS + 1_000);
    expect(await queuedAtOnce).toMatchObject({ status: 'SUCCEEDED' });

    for (const replica of [replicaA, replicaB]) {
      expect((await api<KeyResponse[]>(replica, tenantOld.token, 'GET', '/signing-keys')).body).toEqual([retired, activated]);
    }
    const entries = await api<{ action: string; target: string; details: Record<string, unknown> }[]>(replicaA, tenantBoth.token, 'GET', '/audit-log?action=signing-key.activated');
    expect(entries.body).toEqual([expect.objectContaining({ target: `signing-key:${newKey.keyId}`, details: { retiredKeyId: oldKey.keyId } })]);
  });

  it('signs instructions, control frames and policy bundles with the new key on the other replica', async () => {
    // Instructions name the new key; a Cancel signed with it is verified by the test worker pinning both keys,
    // and refused as UNKNOWN_KEY by the one pinning the old key only.
    expect(await signedFramesFor(pinsBoth, 'pins-both')).toBe(newKey.keyId);
    expect(await signedFramesFor(pinsOld, 'pins-old')).toBe(newKey.keyId);
    expect(pinsBoth.frameRefusals).toEqual([]);
    expect(pinsOld.frameRefusals).toEqual([{ frame: 'cancel', refusal: 'UNKNOWN_KEY' }]);

    // A policy bundle: the new revision of tenantBoth reaches both test workers signed with the new key.
    const bundlesBefore = [pinsBoth.policyBundles().length, pinsOld.policyBundles().length];
    const { revision } = await publishPolicy(tenantBoth, 'after-activation');
    const nextBundle = (probe: TestWorker, before: number) => eventually(() => probe.policyBundles()[before], 'the new bundle');
    const [toBoth, toOld] = await Promise.all([nextBundle(pinsBoth, bundlesBefore[0]!), nextBundle(pinsOld, bundlesBefore[1]!)]);
    expect(toBoth.keyId).toBe(newKey.keyId);
    expect(pinsBoth.verifyBundle(toBoth)).toMatchObject({ ok: true, payload: { revision } });
    expect(pinsOld.verifyBundle(toOld)).toMatchObject({ ok: false, failureCode: 'POLICY_BUNDLE_UNKNOWN_KEY' });
  });

  it('a worker that pinned both keys runs jobs after the activation without a refusal, and holds a bundle signed with the new key', async () => {
    expect(await runNoop(tenantBoth)).toMatchObject({ status: 'SUCCEEDED' });
    expect(await runNoop(tenantBoth)).toMatchObject({ status: 'SUCCEEDED' });
    await eventually(async () => ((await appliedRevision(tenantBoth, identityOf(both).workerId)) === 2 ? true : undefined), 'revision 2 applied on worker both');
    const shown = await workerCli('policy', 'show', '--config', both.configFile, '--json');
    expect(shown.status).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ bundle: { revision: 2, keyId: newKey.keyId } });
    expect(refusalsLoggedBy(both)).toEqual([]);
  });

  it('a worker that never pinned the new key refuses its instructions with INSTRUCTION_UNKNOWN_KEY, and its policy bundles with POLICY_BUNDLE_UNKNOWN_KEY', async () => {
    const refused = await runNoop(tenantOld);
    expect(refused).toMatchObject({ status: 'FAILED', failureCode: 'INSTRUCTION_UNKNOWN_KEY' });
    expect(old.process?.allEvents()).toContainEqual(expect.objectContaining({ event: 'instruction-rejected', failureCode: 'INSTRUCTION_UNKNOWN_KEY', jobId: refused.id }));
    // The LeaseRenewal answering each of its heartbeats is signed with the new key too: dropped.
    await old.process?.waitForEvent((event) => event.event === 'control-frame-unauthenticated' && event['type'] === 'leaseRenewal' && event['reason'] === 'UNKNOWN_KEY', 15_000);

    const { revision } = await publishPolicy(tenantOld, 'after-activation');
    await old.process?.waitForEvent((event) => event.event === 'policy-bundle-refused' && event['revision'] === revision, 30_000);
    expect(old.process?.allEvents()).toContainEqual(expect.objectContaining({ event: 'policy-bundle-refused', failureCode: 'POLICY_BUNDLE_UNKNOWN_KEY', inForce: 1 }));
  });

  it('after the grace period: the worker that got a bundle signed with the new key runs without the old key; one whose bundle the old key signed does not start', async () => {
    writeWorkerConfig(both, pinned(newKey));
    // What the runbook checks before the restart: the bundle in force still verifies with the keys now pinned.
    const check = await workerCli('policy', 'show', '--config', both.configFile);
    expect(check.status).toBe(0);
    expect(check.stdout).toContain(`Central policy: revision 2, signed by ${newKey.keyId}`);
    await restartRealWorker(both);
    expect(await runNoop(tenantBoth)).toMatchObject({ status: 'SUCCEEDED' });
    expect(refusalsLoggedBy(both)).toEqual([]);

    // Unpinning the old key before a bundle signed with the new one was applied: `policy show` says so, and the worker refuses to start.
    await old.process?.stop();
    writeWorkerConfig(old, pinned(newKey));
    const refusedCheck = await workerCli('policy', 'show', '--config', old.configFile);
    expect(refusedCheck.status).not.toBe(0);
    expect(refusedCheck.stderr).toContain('policy-bundle.json cannot be kept in force: it fails verification with the pinned keys (POLICY_BUNDLE_UNKNOWN_KEY)');
    old.process = launchProgram({ program: 'worker', args: ['run', '--config', old.configFile], logDir: dir, label: 'old-unpinned' });
    await old.process.waitForExit();
    expect(old.process.exitCode).not.toBe(0);
  });

  it('refuses to activate a RETIRED or the ACTIVE key; lists the retired key until its unpinAfter, then no more', async () => {
    const retired = await api(replicaA, tenantBoth.token, 'POST', `/signing-keys/${oldKey.keyId}/activate`);
    expect(retired).toMatchObject({ status: 409, body: { code: 'SIGNING_KEY_NOT_STAGED', message: expect.stringContaining('is RETIRED') } });
    const active = await api(replicaA, tenantBoth.token, 'POST', `/signing-keys/${newKey.keyId}/activate`);
    expect(active).toMatchObject({ status: 409, body: { code: 'SIGNING_KEY_NOT_STAGED', message: expect.stringContaining('is ACTIVE') } });

    const listed = await api<KeyResponse[]>(replicaA, tenantBoth.token, 'GET', '/signing-keys');
    const unpinAfter = Date.parse(listed.body.find((key) => key.keyId === oldKey.keyId)?.unpinAfter ?? '');
    // Replica A's clock moves to 1 s before the end of the grace period, then to 1 s after it.
    clockOfA.advance(unpinAfter - Date.now() - 1_000);
    expect((await api<KeyResponse[]>(replicaA, tenantBoth.token, 'GET', '/signing-keys')).body.map((key) => key.keyId)).toEqual([oldKey.keyId, newKey.keyId]);
    clockOfA.advance(2_000);
    expect((await api<KeyResponse[]>(replicaA, tenantBoth.token, 'GET', '/signing-keys')).body).toEqual([expect.objectContaining({ keyId: newKey.keyId, state: 'ACTIVE' })]);
    // Replica B's clock is still inside the grace period.
    expect((await api<KeyResponse[]>(replicaB, tenantBoth.token, 'GET', '/signing-keys')).body.map((key) => key.state)).toEqual(['RETIRED', 'ACTIVE']);
  });

  it('discards a staged key, private half and all, so that another can be staged; never the ACTIVE or a RETIRED one, nor for another tenant', async () => {
    const mistaken = (await api<KeyResponse>(replicaA, tenantBoth.token, 'POST', '/signing-keys')).body;
    expect(mistaken.state).toBe('STAGED');

    expect(await api(replicaA, tenantOld.token, 'POST', `/signing-keys/${mistaken.keyId}/discard`)).toMatchObject({ status: 403, body: { code: 'PLATFORM_TENANT_ONLY' } });
    for (const kept of [oldKey, newKey]) {
      const refused = await api(replicaB, tenantBoth.token, 'POST', `/signing-keys/${kept.keyId}/discard`);
      expect(refused).toMatchObject({ status: 409, body: { code: 'SIGNING_KEY_NOT_STAGED', message: expect.stringContaining('only a staged key can be discarded') } });
    }

    const discarded = await api<KeyResponse>(replicaB, tenantBoth.token, 'POST', `/signing-keys/${mistaken.keyId}/discard`);
    expect(discarded).toMatchObject({ status: 200, body: { keyId: mistaken.keyId, state: 'STAGED' } });
    expect((await replicaA.dataAccess.signingKeys.listStoredPrivateKeys()).map((row) => row.keyId)).toEqual([oldKey.keyId, newKey.keyId]);
    expect((await api<KeyResponse[]>(replicaB, tenantOld.token, 'GET', '/signing-keys')).body.map((key) => key.keyId)).toEqual([oldKey.keyId, newKey.keyId]);
    expect(replicaA.app.get(SigningKeyService).currentSigner().keyId).toBe(newKey.keyId);
    const audited = await api<{ action: string; target: string }[]>(replicaA, tenantBoth.token, 'GET', '/audit-log?action=signing-key.discarded');
    expect(audited.body).toEqual([expect.objectContaining({ action: 'signing-key.discarded', target: `signing-key:${mistaken.keyId}` })]);
    expect(await api(replicaA, tenantBoth.token, 'POST', `/signing-keys/${mistaken.keyId}/discard`)).toMatchObject({ status: 404, body: { code: 'SIGNING_KEY_NOT_FOUND' } });

    // The next rotation starts afresh.
    expect(await api(replicaA, tenantBoth.token, 'POST', '/signing-keys')).toMatchObject({ status: 201, body: { state: 'STAGED' } });
  });
});
