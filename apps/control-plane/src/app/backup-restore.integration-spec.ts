import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import pg from 'pg';
import { auditEntryHash, parsePostgresUrl, type AdminAuditEntryView } from '@airlock/data-access';
import { InstructionVerifier, MemoryNonceStore, generateSigningKeyPair } from '@airlock/envelope';
import { decodeInstructionPayload, type EnrollResponse__Output, type WorkerGatewayClient } from '@airlock/protocol';
import { localKekId } from '@airlock/sealed-secrets';
import { startNatsServer, startPostgresCluster, type NatsServer, type PostgresCluster } from '@airlock/testing';
import { createTenantWithAdminToken } from '../test-support/tenant.fixture';
import { testAppConfig } from '../test-support/test-app-config';
import { eventually, gatewayClient, succeededResult, TestWorker } from '../test-support/test-worker';
import { startControlPlane, type RunningControlPlane } from './control-plane';
import type { JobDetailResponse, JobResponse } from './jobs/dto/job.response';
import { SecretsAtRestError } from './secrets/secrets-at-rest.error';

/*
 * docs/operations/backup-restore.md, run for real: a control plane with a KEK on one
 * PostgreSQL cluster, real state made through the REST API and a worker's stream, a backup
 * taken with the runbook's own commands while it serves, the primary lost, the backup
 * restored into a fresh cluster with the runbook's commands, and a control plane started on
 * the restore. The shell blocks are read from the runbook itself, so the runbook cannot drift
 * from what this test ran.
 */

jest.setTimeout(240_000);

const RUNBOOK = join(__dirname, '..', '..', '..', '..', 'docs', 'operations', 'backup-restore.md');
const DATABASE = 'airlock';
// Different role names on the two servers, as when restoring into another region or a
// managed service: the reason the restore needs --no-owner.
const PRIMARY_ROLE = 'airlock_primary';
const RESTORED_ROLE = 'airlock';

/** The shell block of the runbook that follows `<!-- backup-restore-test: name -->`. */
function runbookBlock(name: string): string {
  const text = readFileSync(RUNBOOK, 'utf8');
  const match = new RegExp(`<!-- backup-restore-test: ${name} -->\\n\`\`\`sh\\n([\\s\\S]*?)\`\`\``).exec(text);
  if (!match?.[1]) throw new Error(`${RUNBOOK} has no shell block marked backup-restore-test: ${name}`);
  return match[1];
}

interface ShellRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs a runbook block with bash -euo pipefail, with only the environment it is given (PATH, LANG and the PG variables). */
function runShell(script: string, env: Record<string, string>): Promise<ShellRun> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LANG: 'C.UTF-8', LC_MESSAGES: 'C', HOME: scratch, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
  });
}

async function expectSucceeded(run: Promise<ShellRun>, what: string): Promise<ShellRun> {
  const result = await run;
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}: ${result.stderr}`);
  return result;
}

let scratch: string;
let primary: PostgresCluster;
let standby: PostgresCluster;
let natsPrimary: NatsServer;
let natsStandby: NatsServer;
let controlPlaneA: RunningControlPlane | null = null;
let controlPlaneB: RunningControlPlane | null = null;
let clientA: WorkerGatewayClient;
let clientB: WorkerGatewayClient;
let kekFile: string;
let wrongKekFile: string;
let kek: Buffer;
let primaryUrl: string;
let restoredUrl: string;
let primaryPgEnv: Record<string, string>;
let standbyAdminPgEnv: Record<string, string>;
let standbyAppPgEnv: Record<string, string>;
let backupFile: string;
const workers: TestWorker[] = [];

const portOf = (url: string) => new URL(url).port;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'airlock-backup-restore-'));
  [primary, standby, natsPrimary, natsStandby] = await Promise.all([startPostgresCluster(), startPostgresCluster(), startNatsServer(), startNatsServer()]);
  const primaryPassword = randomBytes(12).toString('hex');
  const restoredPassword = randomBytes(12).toString('hex');
  const admin = new pg.Client({ connectionString: primary.url });
  await admin.connect();
  try {
    await admin.query(`CREATE ROLE ${PRIMARY_ROLE} LOGIN PASSWORD '${primaryPassword}'`);
    await admin.query(`CREATE DATABASE ${DATABASE} OWNER ${PRIMARY_ROLE}`);
  } finally {
    await admin.end();
  }
  primaryUrl = `postgresql://${PRIMARY_ROLE}:${primaryPassword}@127.0.0.1:${portOf(primary.url)}/${DATABASE}`;
  restoredUrl = `postgresql://${RESTORED_ROLE}:${restoredPassword}@127.0.0.1:${portOf(standby.url)}/${DATABASE}`;

  // Passwords reach the PostgreSQL tools through a password file, as the runbook says, never argv.
  const passFile = join(scratch, 'pgpass');
  writeFileSync(
    passFile,
    [
      `127.0.0.1:${portOf(primary.url)}:*:${PRIMARY_ROLE}:${primaryPassword}`,
      `127.0.0.1:${portOf(standby.url)}:*:postgres:${new URL(standby.url).password}`,
      `127.0.0.1:${portOf(standby.url)}:*:${RESTORED_ROLE}:${restoredPassword}`,
    ].join('\n') + '\n',
    { mode: 0o600 },
  );
  const restoredPasswordFile = join(scratch, 'airlock-db-password');
  writeFileSync(restoredPasswordFile, restoredPassword, { mode: 0o600 });
  backupFile = join(scratch, 'airlock.dump');
  const common = { PGPASSFILE: passFile, PGHOST: '127.0.0.1', BACKUP_FILE: backupFile };
  primaryPgEnv = { ...common, PGPORT: portOf(primary.url), PGUSER: PRIMARY_ROLE, PGDATABASE: DATABASE };
  standbyAdminPgEnv = {
    ...common, PGPORT: portOf(standby.url), PGUSER: 'postgres', PGDATABASE: 'postgres',
    AIRLOCK_DB_ROLE: RESTORED_ROLE, AIRLOCK_DB_NAME: DATABASE, AIRLOCK_DB_PASSWORD_FILE: restoredPasswordFile,
  };
  standbyAppPgEnv = { ...common, PGPORT: portOf(standby.url), PGUSER: RESTORED_ROLE, PGDATABASE: DATABASE };

  kek = randomBytes(32);
  kekFile = join(scratch, 'airlock.kek');
  writeFileSync(kekFile, kek.toString('hex'), { mode: 0o600 });
  wrongKekFile = join(scratch, 'other.kek');
  writeFileSync(wrongKekFile, randomBytes(32).toString('hex'), { mode: 0o600 });

  controlPlaneA = await startControlPlane(testAppConfig(primaryUrl, controlPlaneVars(natsPrimary)));
  clientA = gatewayClient(controlPlaneA.grpcAddress);
});

afterAll(async () => {
  for (const worker of workers) worker.close();
  clientA?.close();
  clientB?.close();
  await controlPlaneA?.stop();
  await controlPlaneB?.stop();
  await Promise.all([primary?.stop(), standby?.stop(), natsPrimary?.stop(), natsStandby?.stop()]);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Short leases and backoff, so that an attempt refused after the restore comes back within the test. */
function controlPlaneVars(nats: NatsServer, kekPath: string = kekFile): Record<string, string> {
  return {
    AIRLOCK_KEK_FILE: kekPath,
    AIRLOCK_NATS_URL: nats.url,
    AIRLOCK_LEASE_TTL: '2s',
    AIRLOCK_HEARTBEAT_INTERVAL: '500ms',
    AIRLOCK_ATTEMPT_BACKOFF: '100ms',
  };
}

type Body = Record<string, unknown>;

async function api<T = Body>(controlPlane: RunningControlPlane, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T; text: string }> {
  const response = await fetch(`${controlPlane.httpUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  const parsed = text && response.headers.get('content-type')?.includes('application/json') ? (JSON.parse(text) as T) : (undefined as T);
  return { status: response.status, body: parsed, text };
}


/** A verifier as the worker builds one: the keys its operator pinned at enrollment, its own id and tenant. */
function workerVerifier(worker: TestWorker, pinned: EnrollResponse__Output): InstructionVerifier {
  return new InstructionVerifier({ ...verifierOptions(worker), trustedKeys: new Map(pinned.signingKeys.map((key) => [key.keyId, key.publicKey])) });
}

async function connectedWorker(controlPlane: RunningControlPlane, client: WorkerGatewayClient, token: string): Promise<{ worker: TestWorker; pinned: EnrollResponse__Output }> {
  const worker = new TestWorker(client);
  workers.push(worker);
  const { body } = await api<{ token: string }>(controlPlane, token, 'POST', '/enrollment-tokens', {});
  const pinned = await worker.enroll(body.token);
  await worker.connect({ capacity: 2 });
  await eventually(() => worker.received.find((f) => f.frame === 'welcome'), 'welcome');
  return { worker, pinned };
}

/** Gives the worker one credit and waits for the instruction it brings; returns it. */
async function nextInstruction(worker: TestWorker) {
  const before = worker.instructions().length;
  worker.send({ credit: { credits: 1 } });
  return eventually(() => worker.instructions()[before], 'an instruction', 20_000);
}

/** Runs the instruction to SUCCEEDED as a worker would: ack, result, then waits for the signed ack. */
async function runToEnd(worker: TestWorker, jobId: string, attempt: number): Promise<void> {
  const acksBefore = worker.resultAcks().length;
  worker.send({ ack: { attempt: { jobId, attempt } } });
  worker.send(succeededResult(jobId, attempt));
  const ack = await eventually(() => worker.resultAcks()[acksBefore], 'result ack');
  expect(ack.disposition).toBe('RESULT_DISPOSITION_RECORDED');
}

async function createAndRun(controlPlane: RunningControlPlane, token: string, worker: TestWorker, body: Body): Promise<string> {
  const created = await api<JobDetailResponse>(controlPlane, token, 'POST', '/jobs', body);
  expect(created.status).toBe(201);
  const instruction = await nextInstruction(worker);
  const payload = decodeInstructionPayload(instruction.payload);
  expect(payload.jobId).toBe(created.body.id);
  await runToEnd(worker, payload.jobId, payload.attempt);
  return created.body.id;
}

async function migrationsOf(url: string): Promise<{ migration_name: string; checksum: string }[]> {
  const client = new pg.Client(parsePostgresUrl(url));
  await client.connect();
  try {
    return (await client.query<{ migration_name: string; checksum: string }>('SELECT migration_name, checksum FROM "_prisma_migrations" ORDER BY migration_name')).rows;
  } finally {
    await client.end();
  }
}

async function storedSigningKeys(url: string): Promise<{ keyId: string; privateKeyPem: string }[]> {
  const client = new pg.Client(parsePostgresUrl(url));
  await client.connect();
  try {
    return (await client.query<{ keyId: string; privateKeyPem: string }>('SELECT "keyId", "privateKeyPem" FROM "SigningKey" ORDER BY "keyId"')).rows;
  } finally {
    await client.end();
  }
}

/** The hash chain of a JSON Lines export, recomputed offline by the rule of docs/audit-log.md. */
function verifyExportOffline(jsonl: string): { entries: number; lastHash: string } {
  let prevHash = '0'.repeat(64);
  const lines = jsonl.split('\n').filter((line) => line.length > 0);
  lines.forEach((line, index) => {
    const entry = JSON.parse(line) as Omit<AdminAuditEntryView, 'at'> & { at: string; tenantId: string };
    expect(entry.seq).toBe(index + 1);
    expect(entry.prevHash).toBe(prevHash);
    expect(auditEntryHash({ ...entry, at: new Date(entry.at) })).toBe(entry.hash);
    prevHash = entry.hash;
  });
  return { entries: lines.length, lastHash: prevHash };
}

interface WorkerView {
  id: string;
  status: string;
  draining: boolean;
  revoked: boolean;
  version: string;
  enrolledAt: string;
  policyRevision: number;
}
interface AuditEntryBody {
  seq: number;
  action: string;
  hash: string;
}

const stable = (list: WorkerView[]) => list.map(({ id, draining, revoked, version, enrolledAt, policyRevision }) => ({ id, draining, revoked, version, enrolledAt, policyRevision }));

describe('backup and restore of the control plane database (docs/operations/backup-restore.md)', () => {
  let token: string;
  let worker1: TestWorker;
  let pinned1: EnrollResponse__Output;
  let worker2: TestWorker;
  let worker3: TestWorker;
  const finishedJobs: string[] = [];
  let cancelledJob: string;
  let queuedAtBackup: string;
  let jobAfterBackup: string;
  let atBackup: { jobs: JobResponse[]; workers: WorkerView[]; policies: unknown; audit: AuditEntryBody[]; signingKeys: unknown; migrations: unknown };
  const measured: Record<string, number | string> = {};

  it('makes real state on the primary: enrolled workers, a published policy, jobs that ran to an end, audit entries', async () => {
    const A = controlPlaneA!;
    ({ token } = await createTenantWithAdminToken(A.dataAccess, 'restore-drill'));
    ({ worker: worker1, pinned: pinned1 } = await connectedWorker(A, clientA, token));
    worker1.applyBundlesOnArrival();
    // Enrolled before the backup, revoked after it.
    worker2 = new TestWorker(clientA);
    workers.push(worker2);
    await worker2.enroll((await api<{ token: string }>(A, token, 'POST', '/enrollment-tokens', { ttlSeconds: 600 })).body.token);

    const document = { schemaVersion: 1, rules: { 'max-files-changed': { max: 20 }, 'job-kinds': { allowed: ['fix', 'noop'] } } };
    const policy = await api<{ id: string }>(A, token, 'POST', '/policies', { name: 'baseline', document });
    expect(policy.status).toBe(201);
    expect((await api(A, token, 'POST', `/policies/${policy.body.id}/versions/1/publish`, { scope: 'tenant', mode: 'enforce' })).status).toBe(200);
    await eventually(() => (worker1.appliedRevision === 1 ? true : undefined), 'the policy applied on the worker');
    expect((await api(A, token, 'PUT', '/dispatch-limits', { maxRunningJobs: 10, pools: [] })).status).toBe(200);

    finishedJobs.push(await createAndRun(A, token, worker1, { kind: 'noop' }));
    finishedJobs.push(await createAndRun(A, token, worker1, { kind: 'fix', repoAlias: 'payments', baseRef: 'main', ticket: { title: 'Fix the rounding', description: 'totals are off by a cent' } }));
    finishedJobs.push(await createAndRun(A, token, worker1, { kind: 'noop' }));
    // No credit is outstanding, so these stay queued: one cancelled, one still queued at the backup.
    cancelledJob = (await api<JobDetailResponse>(A, token, 'POST', '/jobs', { kind: 'noop' })).body.id;
    expect((await api<JobDetailResponse>(A, token, 'POST', `/jobs/${cancelledJob}/cancel`)).body.status).toBe('CANCELLED');
    expect((await api(A, token, 'POST', `/workers/${worker1.workerId}/drain`)).status).toBe(200);
    queuedAtBackup = (await api<JobDetailResponse>(A, token, 'POST', '/jobs', { kind: 'noop' })).body.id;

    for (const jobId of finishedJobs) expect((await api<JobDetailResponse>(A, token, 'GET', `/jobs/${jobId}`)).body.status).toBe('SUCCEEDED');
    expect((await api<JobDetailResponse>(A, token, 'GET', `/jobs/${queuedAtBackup}`)).body.status).toBe('QUEUED');
    atBackup = {
      jobs: (await api<JobResponse[]>(A, token, 'GET', '/jobs?limit=100')).body,
      workers: (await api<WorkerView[]>(A, token, 'GET', '/workers')).body,
      policies: (await api(A, token, 'GET', '/policies')).body,
      audit: (await api<AuditEntryBody[]>(A, token, 'GET', '/audit-log?limit=500')).body,
      signingKeys: (await api(A, token, 'GET', '/signing-keys')).body,
      migrations: await migrationsOf(primaryUrl),
    };
    expect(atBackup.jobs).toHaveLength(5);
    expect(atBackup.audit.map((entry) => entry.action)).toEqual([
      'enrollment-token.created', 'enrollment-token.created', 'policy.created', 'policy.published', 'dispatch.limits-changed', 'worker.drained',
    ]);
  });

  it("takes the backup with the runbook's commands while the control plane serves, and the dump holds no usable signing key", async () => {
    const backup = await expectSucceeded(runShell(runbookBlock('backup'), primaryPgEnv), 'the backup block');
    measured['backupMs'] = Math.round(backup.ms);
    measured['dumpBytes'] = statSync(backupFile).size;
    expect(readFileSync(backupFile).subarray(0, 5).toString('latin1')).toBe('PGDMP');
    expect(statSync(backupFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(`${backupFile}.sha256`, 'utf8')).toMatch(/^[0-9a-f]{64} {2}/);

    const sizes = new pg.Client(parsePostgresUrl(primaryUrl));
    await sizes.connect();
    measured['databaseBytes'] = Number((await sizes.query<{ size: string }>('SELECT pg_database_size(current_database()) AS size')).rows[0]!.size);
    await sizes.end();

    // What the archive holds for the SigningKey table, as SQL text: sealed under the KEK, no PEM.
    const signingKeyRows = await expectSucceeded(runShell(`pg_restore --data-only --table=SigningKey --file=- "$BACKUP_FILE"`, primaryPgEnv), 'reading the archive');
    expect(signingKeyRows.stdout).toContain(`airlock-sealed:v1:${localKekId(kek)}:`);
    expect(signingKeyRows.stdout).not.toContain('PRIVATE KEY');
  });

  it('keeps working after the backup, then loses the primary', async () => {
    const A = controlPlaneA!;
    expect((await api(A, token, 'POST', `/workers/${worker1.workerId}/undrain`)).status).toBe(200);
    const instruction = await nextInstruction(worker1);
    expect(decodeInstructionPayload(instruction.payload)).toMatchObject({ jobId: queuedAtBackup, attempt: 1 });
    await runToEnd(worker1, queuedAtBackup, 1);
    jobAfterBackup = await createAndRun(A, token, worker1, { kind: 'noop' });
    expect((await api(A, token, 'POST', `/workers/${worker2.workerId}/revoke`)).status).toBe(200);
    worker3 = new TestWorker(clientA);
    workers.push(worker3);
    await worker3.enroll((await api<{ token: string }>(A, token, 'POST', '/enrollment-tokens', {})).body.token);

    // The export an operator keeps elsewhere, taken after the backup.
    const keptExport = (await api(A, token, 'GET', '/audit-log/export?format=jsonl')).text;
    writeFileSync(join(scratch, 'kept-audit-export.jsonl'), keptExport);

    worker1.close();
    clientA.close();
    await controlPlaneA!.stop();
    controlPlaneA = null;
    await primary.stopServer();
  });

  it("restores into a fresh cluster with the runbook's commands; without --no-owner the same restore fails and leaves nothing", async () => {
    await expectSucceeded(runShell(runbookBlock('create-database'), standbyAdminPgEnv), 'the create-database block');
    const restore = await expectSucceeded(runShell(runbookBlock('restore'), standbyAppPgEnv), 'the restore block');
    measured['restoreMs'] = Math.round(restore.ms);

    // Why --no-owner: the archive names the primary's role as the owner of every object.
    const admin = new pg.Client({ connectionString: standby.url });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE owner_check OWNER ${RESTORED_ROLE}`);
      const withOwners = runbookBlock('restore').replace('--no-owner ', '');
      expect(withOwners).not.toContain('--no-owner');
      const failed = await runShell(withOwners, { ...standbyAppPgEnv, PGDATABASE: 'owner_check' });
      expect(failed.code).not.toBe(0);
      expect(failed.stderr).toContain(`role "${PRIMARY_ROLE}" does not exist`);
      const leftOver = new pg.Client({ ...parsePostgresUrl(restoredUrl), database: 'owner_check' });
      await leftOver.connect();
      const tables = await leftOver.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'");
      await leftOver.end();
      expect(tables.rows[0]).toEqual({ n: 0 });
    } finally {
      await admin.end();
    }
  });

  it('refuses to start on the restore with a wrong KEK, or none, naming the KEK it needs, and writes nothing', async () => {
    const keysBefore = await storedSigningKeys(restoredUrl);
    expect(keysBefore).toHaveLength(1);
    const keyId = keysBefore[0]!.keyId;
    const wrongKek = Buffer.from(readFileSync(wrongKekFile, 'utf8'), 'hex');

    const wrong = startControlPlane(testAppConfig(restoredUrl, controlPlaneVars(natsStandby, wrongKekFile)));
    await expect(wrong).rejects.toThrow(SecretsAtRestError);
    await expect(wrong).rejects.toThrow(
      `control-plane/signing-key/${keyId}/private-key: the sealed value was sealed under the key-encryption key ${localKekId(kek)}, which is not configured (configured: ${localKekId(wrongKek)}); add it as a previous key`,
    );
    const { AIRLOCK_KEK_FILE: _kek, ...withoutKek } = controlPlaneVars(natsStandby);
    await expect(startControlPlane(testAppConfig(restoredUrl, withoutKek))).rejects.toThrow(
      `control-plane/signing-key/${keyId}/private-key is sealed under the key-encryption key ${localKekId(kek)}, but no KEK is configured: set AIRLOCK_KEK_FILE to that key's file`,
    );
    expect(await storedSigningKeys(restoredUrl)).toEqual(keysBefore);
  });

  it('starts on the restore with the same KEK and serves the same jobs, workers, policies, keys and audit log, whose chain verifies', async () => {
    const started = process.hrtime.bigint();
    controlPlaneB = await startControlPlane(testAppConfig(restoredUrl, controlPlaneVars(natsStandby)));
    measured['startOnRestoreMs'] = Math.round(Number(process.hrtime.bigint() - started) / 1e6);
    clientB = gatewayClient(controlPlaneB.grpcAddress);
    const B = controlPlaneB;

    expect(await migrationsOf(restoredUrl)).toEqual(atBackup.migrations);
    expect((await api<JobResponse[]>(B, token, 'GET', '/jobs?limit=100')).body).toEqual(atBackup.jobs);
    expect((await api<JobDetailResponse>(B, token, 'GET', `/jobs/${finishedJobs[1]}`)).body).toMatchObject({ status: 'SUCCEEDED', currentAttempt: 1, result: { outcome: 'JOB_OUTCOME_SUCCEEDED', changeMac: 'ab'.repeat(32) } });
    expect((await api<JobDetailResponse>(B, token, 'GET', `/jobs/${cancelledJob}`)).body.status).toBe('CANCELLED');
    expect((await api<JobDetailResponse>(B, token, 'GET', `/jobs/${queuedAtBackup}`)).body.status).toBe('QUEUED');
    expect(stable((await api<WorkerView[]>(B, token, 'GET', '/workers')).body)).toEqual(stable(atBackup.workers));
    expect((await api(B, token, 'GET', '/policies')).body).toEqual(atBackup.policies);
    expect((await api(B, token, 'GET', '/signing-keys')).body).toEqual(atBackup.signingKeys);

    const audit = (await api<AuditEntryBody[]>(B, token, 'GET', '/audit-log?limit=500')).body;
    expect(audit).toEqual(atBackup.audit);
    expect((await api(B, token, 'GET', '/audit-log/verify')).body).toEqual({ ok: true, entries: atBackup.audit.length });
    const restoredExport = verifyExportOffline((await api(B, token, 'GET', '/audit-log/export?format=jsonl')).text);
    expect(restoredExport).toEqual({ entries: atBackup.audit.length, lastHash: atBackup.audit.at(-1)!.hash });

    // The admin changes the restore lost: the kept export's entries past the restored log's last seq.
    const kept = readFileSync(join(scratch, 'kept-audit-export.jsonl'), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as AuditEntryBody);
    expect(kept.slice(0, audit.length)).toEqual(audit.map((entry) => expect.objectContaining({ seq: entry.seq, hash: entry.hash })));
    expect(kept.filter((entry) => entry.seq > audit.at(-1)!.seq).map((entry) => entry.action)).toEqual(['worker.undrained', 'worker.revoked', 'enrollment-token.created']);
  });

  it('lets the worker identity enrolled on the primary connect, and signs with the key it pinned then', async () => {
    const B = controlPlaneB!;
    worker1.useClient(clientB);
    const welcomes = worker1.received.filter((f) => f.frame === 'welcome').length;
    await worker1.connect({ capacity: 2 });
    await eventually(() => (worker1.received.filter((f) => f.frame === 'welcome').length > welcomes ? true : undefined), 'welcome from the restored control plane');
    // The drain was in the backup; undraining it again is the first of the lost changes re-applied.
    expect((await api<WorkerView>(B, token, 'POST', `/workers/${worker1.workerId}/undrain`)).body.draining).toBe(false);

    const verifier = workerVerifier(worker1, pinned1);
    const first = await nextInstruction(worker1);
    const verified = verifier.verify(first);
    expect(verified).toMatchObject({ ok: true, payload: { jobId: queuedAtBackup, attempt: 1, audience: worker1.workerId } });
    // The check above is a real one: a worker that pinned another key refuses the instruction,
    // and so does this one once a bit of the signature is flipped.
    const other = generateSigningKeyPair();
    const pinnedElsewhere = new InstructionVerifier({ ...verifierOptions(worker1), trustedKeys: new Map([[other.keyId, other.publicKey]]) });
    expect(pinnedElsewhere.verify(first)).toMatchObject({ ok: false, failureCode: 'INSTRUCTION_UNKNOWN_KEY' });
    const flipped = Buffer.from(first.signature);
    flipped[0] = flipped[0]! ^ 1;
    expect(workerVerifier(worker1, pinned1).verify({ ...first, signature: flipped })).toMatchObject({ ok: false, failureCode: 'INSTRUCTION_BAD_SIGNATURE' });

    // That attempt ran on the primary after the backup: the worker's attempts.jsonl refuses it, the
    // lease runs out and the job comes back as attempt 2, which runs.
    worker1.send({ rejected: { attempt: { jobId: queuedAtBackup, attempt: 1 }, failureCode: 'ATTEMPT_ALREADY_SEEN', rules: [] } });
    const second = await nextInstruction(worker1);
    expect(verifier.verify(second)).toMatchObject({ ok: true, payload: { jobId: queuedAtBackup, attempt: 2 } });
    await runToEnd(worker1, queuedAtBackup, 2);
    const job = (await api<JobDetailResponse>(B, token, 'GET', `/jobs/${queuedAtBackup}`)).body;
    expect(job).toMatchObject({ status: 'SUCCEEDED', currentAttempt: 2 });
    expect(job.attempts.map((attempt) => attempt.status)).toEqual(['LEASE_EXPIRED', 'SUCCEEDED']);
    // Every signed frame from the restored control plane (the result acks here) verified against the pinned keys.
    expect(worker1.frameRefusals).toEqual([]);
  });

  it('forgets what happened after the backup: the later job, the later enrollment, and the later revocation until it is re-applied', async () => {
    const B = controlPlaneB!;
    expect((await api(B, token, 'GET', `/jobs/${jobAfterBackup}`)).status).toBe(404);

    worker3.useClient(clientB);
    await worker3.connect();
    const refused = await eventually(() => worker3.status ?? undefined, 'the later worker refused');
    expect(refused.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(worker3.received.some((f) => f.frame === 'welcome')).toBe(false);

    worker2.useClient(clientB);
    await worker2.connect();
    await eventually(() => worker2.received.find((f) => f.frame === 'welcome'), 'the revoked-after-backup worker welcomed');
    expect((await api(B, token, 'POST', `/workers/${worker2.workerId}/revoke`)).status).toBe(200);
    const ended = await eventually(() => worker2.status ?? undefined, 'the re-revoked worker cut off');
    expect(ended.code).toBe(grpc.status.PERMISSION_DENIED);

    expect((await api(B, token, 'GET', '/audit-log/verify')).body).toEqual({ ok: true, entries: atBackup.audit.length + 2 });
    process.stdout.write(`backup-restore measurements (this machine): ${JSON.stringify(measured)}\n`);
  });
});

/** Everything of a worker's verifier but the pinned keys. */
function verifierOptions(worker: TestWorker) {
  return { workerId: worker.workerId, tenantId: worker.tenantId, clock: Date.now, maxClockSkewMs: 30_000, maxValidityWindowMs: 3_600_000, nonceStore: new MemoryNonceStore(Date.now) };
}
