import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { DEMO_BRANCH_BASE, DEMO_REPO_ALIAS, demoTicketRef, type JobView } from '@airlock/local-stack';
import { LocalKeyEncryptionKeys, SecretSealer, parseKek, sealedHeader } from '@airlock/sealed-secrets';
import { findInDatabase } from './support/canary-scan';
import { findSecretsInLogs, type NamedSecret } from './support/secret-scan';
import { startE2eStack, type E2eStack } from './support/e2e-stack';

/**
 * Secrets at rest and in logs: a full run (control plane with its KEK, an enrolled worker
 * whose forge and tracker tokens are sealed files, a fix job that reads its ticket from the
 * tracker and opens a merge request on the forge) leaves every secret it used out of every
 * log line of every process, and the signing private key sealed in the database.
 */
describe('secrets never reach a log', () => {
  const forgeToken = `glpat-${randomBytes(12).toString('hex')}`;
  const trackerToken = `jira-pat-${randomBytes(12).toString('hex')}`;
  let stack: E2eStack;
  let job: JobView & Record<string, unknown>;

  beforeAll(async () => {
    stack = await startE2eStack('secrets', {
      forge: { flavour: 'gitlab', token: forgeToken },
      tracker: { flavour: 'jira', comment: true, token: trackerToken },
      sealWorkerTokens: true,
      // Mutual TLS too: the client CA's key and the worker's TLS key join the secrets looked for.
      clientCertificates: 'require',
    });
    const created = await stack.api.request<JobView>('POST', '/jobs', { kind: 'fix', repoAlias: DEMO_REPO_ALIAS, baseRef: DEMO_BRANCH_BASE, ticketRef: demoTicketRef('jira') });
    expect(created.status).toBe(201);
    job = (await stack.api.waitForTerminalJob(created.body.id, 120_000)) as JobView & Record<string, unknown>;
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('runs the job over mutual TLS, with the client certificate the worker got when it enrolled', () => {
    const certificate = new X509Certificate(readFileSync(join(stack.worker.stateDir, 'tls-cert.pem')));
    expect(certificate.subject).toMatch(/^CN=[0-9a-f-]{36}\nO=[0-9a-f-]{36}$/);
    expect(stack.controlPlane.clientCaKeyFile).toBeDefined();
    expect(job).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('runs a job that used both sealed worker tokens', () => {
    expect(job).toMatchObject({ status: 'SUCCEEDED', ticketByReference: true, result: { delivery: 'MERGE_REQUEST_OPENED' } });
    expect(stack.forge!.state.mergeRequests).toHaveLength(1);
    expect(stack.tracker!.state.issues[0]?.comments).toHaveLength(1);
    for (const file of readdirSync(stack.dirs.worker).filter((name) => name.endsWith('-token'))) {
      expect(readFileSync(join(stack.dirs.worker, file), 'utf8')).toMatch(/^airlock-sealed:v1:kek_[0-9a-f]{16}:/);
    }
  });

  it('keeps the signing private key sealed in the database', async () => {
    expect(await findInDatabase(stack.databaseUrl, 'PRIVATE KEY')).toEqual([]);
    const [row] = await signingKeyRows(stack.databaseUrl);
    expect(sealedHeader(row?.privateKeyPem ?? '').kekId).toMatch(/^kek_/);
  });

  it('writes none of the secrets it used to any log line of any process', async () => {
    const secrets = await secretsOfTheRun(stack, { forgeToken, trackerToken });
    const logs = readdirSync(stack.dirs.logs);
    // Every process of the run logged something here, so the scan reads them all.
    for (const expected of ['control-plane.log', 'worker.log', 'worker-enroll.log', 'worker-secrets-seal.log', 'inference-sim.log']) expect(logs).toContain(expected);

    expect(findSecretsInLogs(stack.dirs.logs, secrets)).toEqual([]);
    // The scan does see what is in the logs: the KEK's id (not secret) is logged at boot.
    const kekId = sealedHeader((await signingKeyRows(stack.databaseUrl))[0]?.privateKeyPem ?? '').kekId;
    expect(findSecretsInLogs(stack.dirs.logs, [{ name: 'control plane KEK id', forms: [kekId] }]).map((hit) => hit.file)).toContain('control-plane.log');
  });
});

async function signingKeyRows(databaseUrl: string): Promise<{ keyId: string; privateKeyPem: string }[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<{ keyId: string; privateKeyPem: string }>('SELECT "keyId", "privateKeyPem" FROM "SigningKey" ORDER BY "createdAt"')).rows;
  } finally {
    await client.end();
  }
}

/** A KEK in the forms it could be printed in. */
function kekForms(file: string): string[] {
  const key = parseKek(readFileSync(file), file);
  return [key.toString('hex'), key.toString('base64'), key.toString('base64url')];
}

/** A PEM private key in the forms it could be printed in: its base64 body (whole), and the raw key as JWK `d` and hex. */
function privateKeyForms(pem: string): string[] {
  const body = pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  const d = String(createPrivateKey(pem).export({ format: 'jwk' }).d);
  return [body, d, Buffer.from(d, 'base64url').toString('hex')];
}

/** Every secret the run used, each named, in every form it could take in a log. */
async function secretsOfTheRun(stack: E2eStack, tokens: { forgeToken: string; trackerToken: string }): Promise<NamedSecret[]> {
  const controlPlaneKek = new SecretSealer(new LocalKeyEncryptionKeys(parseKek(readFileSync(stack.kekFiles.controlPlane), stack.kekFiles.controlPlane)));
  const signingKeys = await Promise.all(
    // The control plane's purpose for a signing key's private key (apps/control-plane signingKeyPurpose).
    (await signingKeyRows(stack.databaseUrl)).map(async (row) => controlPlaneKek.unsealText(`control-plane/signing-key/${row.keyId}/private-key`, row.privateKeyPem)),
  );
  // The throwaway cluster's password is a fixed word ("postgres") that ordinary lines contain;
  // what a leaked DATABASE_URL would show is its user:password@ part.
  const databaseUrl = new URL(stack.databaseUrl);
  const databaseCredentials = databaseUrl.password === '' ? '' : `${databaseUrl.username}:${databaseUrl.password}@`;
  const secrets: NamedSecret[] = [
    { name: 'admin API token', forms: [readFileSync(stack.adminTokenFile, 'utf8').trim()] },
    ...stack.enrollmentTokens.map((token, index) => ({ name: `enrollment token ${index + 1}`, forms: [token] })),
    { name: 'control plane KEK', forms: kekForms(stack.kekFiles.controlPlane) },
    { name: 'worker KEK', forms: kekForms(stack.kekFiles.worker ?? '') },
    ...signingKeys.map((pem, index) => ({ name: `signing private key ${index + 1}`, forms: privateKeyForms(pem) })),
    { name: 'worker private key', forms: privateKeyForms(readFileSync(join(stack.worker.stateDir, 'worker-key.pem'), 'utf8')) },
    { name: 'worker TLS key', forms: privateKeyForms(readFileSync(join(stack.worker.stateDir, 'tls-key.pem'), 'utf8')) },
    { name: 'client CA key', forms: privateKeyForms(readFileSync(stack.controlPlane.clientCaKeyFile!, 'utf8')) },
    { name: 'worker MAC key', forms: [readFileSync(join(stack.worker.stateDir, 'mac.key')).toString('hex'), readFileSync(join(stack.worker.stateDir, 'mac.key')).toString('base64')] },
    { name: 'forge token', forms: [tokens.forgeToken] },
    { name: 'tracker token', forms: [tokens.trackerToken] },
    ...(databaseCredentials === '' ? [] : [{ name: 'database credentials', forms: [databaseCredentials] }]),
  ];
  expect(signingKeys.length).toBeGreaterThanOrEqual(1);
  expect(stack.enrollmentTokens.length).toBeGreaterThanOrEqual(1);
  return secrets;
}
