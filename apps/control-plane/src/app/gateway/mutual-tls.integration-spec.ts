import { execFileSync } from 'node:child_process';
import { X509Certificate, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createThrowawayCertificates, createThrowawayClientCa } from '@airlock/local-stack';
import { loadAirlockV1, type WorkerGatewayClient } from '@airlock/protocol';
import { createDatabase, startPostgresCluster, type PostgresCluster } from '@airlock/testing';
import { createTenantWithAdminToken } from '../../test-support/tenant.fixture';
import { testAppConfig } from '../../test-support/test-app-config';
import { eventually, TestWorker } from '../../test-support/test-worker';
import { startControlPlane, type RunningControlPlane } from '../control-plane';
import { workerCertificateUri } from './client-certificate-authority';

/*
 * Mutual TLS on the gateway, over real TLS: with a client CA the control plane issues each
 * enrolling worker a certificate for the TLS key it sends, and (in `require` mode) lets a
 * Connect say Hello only as the worker its certificate names.
 */

jest.setTimeout(60_000);

const TLS_CHANNEL_OPTIONS = { 'grpc.ssl_target_name_override': 'localhost' };
const v1 = loadAirlockV1();

let cluster: PostgresCluster;
let certDir: string;
let caPem: Buffer;
let clientCaPem: Buffer;
const running: RunningControlPlane[] = [];

beforeAll(async () => {
  certDir = mkdtempSync(join(tmpdir(), 'airlock-mtls-it-'));
  const [startedCluster, server, clientCa] = await Promise.all([startPostgresCluster(), createThrowawayCertificates(join(certDir, 'server')), createThrowawayClientCa(join(certDir, 'client'))]);
  cluster = startedCluster;
  caPem = readFileSync(server.caFile);
  clientCaPem = readFileSync(clientCa.certFile);
  process.env['MTLS_IT_SERVER_CERT'] = server.certFile;
  process.env['MTLS_IT_SERVER_KEY'] = server.keyFile;
  process.env['MTLS_IT_CLIENT_CA_CERT'] = clientCa.certFile;
  process.env['MTLS_IT_CLIENT_CA_KEY'] = clientCa.keyFile;
});

afterAll(async () => {
  for (const controlPlane of running) await controlPlane.stop();
  await cluster?.stop();
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

let databaseCounter = 0;
async function controlPlaneWith(mode: 'issue' | 'require'): Promise<RunningControlPlane> {
  databaseCounter += 1;
  const controlPlane = await startControlPlane(
    testAppConfig(await createDatabase(cluster.url, `mtls_it_${databaseCounter}`), {
      AIRLOCK_GRPC_TLS_CERT_FILE: process.env['MTLS_IT_SERVER_CERT']!,
      AIRLOCK_GRPC_TLS_KEY_FILE: process.env['MTLS_IT_SERVER_KEY']!,
      AIRLOCK_GRPC_CLIENT_CA_CERT_FILE: process.env['MTLS_IT_CLIENT_CA_CERT']!,
      AIRLOCK_GRPC_CLIENT_CA_KEY_FILE: process.env['MTLS_IT_CLIENT_CA_KEY']!,
      AIRLOCK_GRPC_CLIENT_CERTS: mode,
    }),
  );
  running.push(controlPlane);
  return controlPlane;
}

function client(controlPlane: RunningControlPlane, certificate?: { keyPem: Buffer; certPem: Buffer }): WorkerGatewayClient {
  const credentials = grpc.credentials.createSsl(caPem, certificate?.keyPem ?? null, certificate?.certPem ?? null);
  return new v1.WorkerGateway(controlPlane.grpcAddress, credentials, TLS_CHANNEL_OPTIONS);
}

async function enrollmentToken(controlPlane: RunningControlPlane, tenantToken: string): Promise<string> {
  const response = await fetch(`${controlPlane.httpUrl}/api/v1/enrollment-tokens`, { method: 'POST', headers: { authorization: `Bearer ${tenantToken}`, 'content-type': 'application/json' }, body: '{}' });
  return ((await response.json()) as { token: string }).token;
}

interface EnrolledWorker {
  readonly worker: TestWorker;
  readonly tlsKey: KeyObject;
  readonly certificatePem: string;
}

async function enrolledWorker(controlPlane: RunningControlPlane, tenantToken: string, sendTlsKey = true): Promise<EnrolledWorker> {
  const tlsKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const worker = new TestWorker(client(controlPlane));
  const response = await worker.enroll(await enrollmentToken(controlPlane, tenantToken), '0.1.0', sendTlsKey ? tlsKey.publicKey.export({ format: 'der', type: 'spki' }) : undefined);
  return { worker, tlsKey: tlsKey.privateKey, certificatePem: response.clientCertificatePem };
}

function presenting(controlPlane: RunningControlPlane, enrolled: EnrolledWorker, certificateOf: EnrolledWorker = enrolled): WorkerGatewayClient {
  return client(controlPlane, { keyPem: Buffer.from(certificateOf.tlsKey.export({ format: 'pem', type: 'pkcs8' })), certPem: Buffer.from(certificateOf.certificatePem) });
}

async function helloOutcome(worker: TestWorker): Promise<'welcomed' | grpc.StatusObject> {
  await worker.connect();
  return eventually(() => (worker.received.some((frame) => frame.frame === 'welcome') ? 'welcomed' : (worker.status ?? undefined)), 'welcome or refusal');
}

describe('mutual TLS on the worker gateway', () => {
  it('issues an enrolling worker a client certificate for its TLS key, naming it, from the client CA', async () => {
    const controlPlane = await controlPlaneWith('require');
    const { token } = await createTenantWithAdminToken(controlPlane.dataAccess, 'mtls-issue');
    const enrolled = await enrolledWorker(controlPlane, token);
    const certificate = new X509Certificate(enrolled.certificatePem);
    expect(certificate.checkPrivateKey(enrolled.tlsKey)).toBe(true);
    expect(certificate.verify(new X509Certificate(clientCaPem).publicKey)).toBe(true);
    expect(certificate.subject.split('\n')).toEqual([`CN=${enrolled.worker.workerId}`, `O=${enrolled.worker.tenantId}`]);
    expect(certificate.subjectAltName).toBe(`URI:${workerCertificateUri(enrolled.worker.workerId)}`);
    expect(certificate.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']); // clientAuth only
    expect(certificate.ca).toBe(false);
  });

  it('in require mode lets a worker in only with its own certificate', async () => {
    const controlPlane = await controlPlaneWith('require');
    const { token } = await createTenantWithAdminToken(controlPlane.dataAccess, 'mtls-require');
    const [alice, bob] = [await enrolledWorker(controlPlane, token), await enrolledWorker(controlPlane, token)];

    alice.worker.useClient(presenting(controlPlane, alice));
    expect(await helloOutcome(alice.worker)).toBe('welcomed');

    // Bob's own Hello, signed with his enrolled key, but over a connection with Alice's certificate.
    bob.worker.useClient(presenting(controlPlane, bob, alice));
    expect(await helloOutcome(bob.worker)).toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: 'hello not accepted: the client certificate is for another worker' });

    // No certificate at all.
    const anonymous = await enrolledWorker(controlPlane, token);
    expect(await helloOutcome(anonymous.worker)).toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: expect.stringContaining('requires a client certificate') });
    alice.worker.close();
  });

  it('refuses at the TLS handshake a certificate the client CA did not issue', async () => {
    const controlPlane = await controlPlaneWith('require');
    const { token } = await createTenantWithAdminToken(controlPlane.dataAccess, 'mtls-foreign');
    const enrolled = await enrolledWorker(controlPlane, token);
    // A certificate for the same key and the same name, from a CA the gateway does not know.
    const foreignCa = await createThrowawayClientCa(join(certDir, 'foreign'));
    const keyFile = join(certDir, 'foreign', 'worker.key');
    const csrFile = join(certDir, 'foreign', 'worker.csr');
    writeFileSync(keyFile, enrolled.tlsKey.export({ format: 'pem', type: 'pkcs8' }));
    execFileSync('openssl', ['req', '-new', '-key', keyFile, '-out', csrFile, '-subj', `/CN=${enrolled.worker.workerId}`]);
    const foreignCert = execFileSync('openssl', ['x509', '-req', '-in', csrFile, '-CA', foreignCa.certFile, '-CAkey', foreignCa.keyFile, '-days', '1', '-sha256'], { encoding: 'utf8' });
    enrolled.worker.useClient(presenting(controlPlane, enrolled, { ...enrolled, certificatePem: foreignCert }));
    // The handshake fails, so no challenge ever comes: the stream ends with UNAVAILABLE.
    await expect(helloOutcome(enrolled.worker)).rejects.toThrow();
    expect(enrolled.worker.status?.code).toBe(grpc.status.UNAVAILABLE);
  });

  it('refuses to enroll a worker that sends no TLS key in require mode, before spending its token, and takes it in issue mode', async () => {
    const requiring = await controlPlaneWith('require');
    const { token } = await createTenantWithAdminToken(requiring.dataAccess, 'mtls-old-worker');
    const enrollment = await enrollmentToken(requiring, token);
    const oldWorker = new TestWorker(client(requiring));
    await expect(oldWorker.enroll(enrollment)).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION, details: expect.stringContaining('requires client certificates') });
    const upgraded = new TestWorker(client(requiring));
    const tlsKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    expect((await upgraded.enroll(enrollment, '0.1.0', tlsKey.publicKey.export({ format: 'der', type: 'spki' }))).clientCertificatePem).toContain('BEGIN CERTIFICATE');

    // A rollout: workers enrolled before the client CA go on without a certificate; one presented is still checked.
    const issuing = await controlPlaneWith('issue');
    const rollout = await createTenantWithAdminToken(issuing.dataAccess, 'mtls-rollout');
    const legacy = await enrolledWorker(issuing, rollout.token, false);
    expect(legacy.certificatePem).toBe('');
    expect(await helloOutcome(legacy.worker)).toBe('welcomed');
    const [carol, dave] = [await enrolledWorker(issuing, rollout.token), await enrolledWorker(issuing, rollout.token)];
    dave.worker.useClient(presenting(issuing, dave, carol));
    expect(await helloOutcome(dave.worker)).toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: 'hello not accepted: the client certificate is for another worker' });
    legacy.worker.close();
  });

  it('refuses a TLS key that is not P-256 SubjectPublicKeyInfo, naming the field', async () => {
    const controlPlane = await controlPlaneWith('issue');
    const { token } = await createTenantWithAdminToken(controlPlane.dataAccess, 'mtls-bad-key');
    const worker = new TestWorker(client(controlPlane));
    const ed25519 = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' });
    await expect(worker.enroll(await enrollmentToken(controlPlane, token), '0.1.0', ed25519)).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: 'tlsPublicKey: expected a P-256 (prime256v1) public key' });
    await expect(worker.enroll(await enrollmentToken(controlPlane, token), '0.1.0', Buffer.from('not a key'))).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: 'tlsPublicKey: expected DER SubjectPublicKeyInfo' });
  });
});
