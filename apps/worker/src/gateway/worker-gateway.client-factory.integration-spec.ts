import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createThrowawayCertificates, type ThrowawayCertificates } from '@airlock/local-stack';
import type { EnrollResponse, WorkerGatewayClient } from '@airlock/protocol';
import { TlsGatewayServer } from '../testing/tls-gateway-server.mock';
import { createWorkerGatewayClient } from './worker-gateway.client-factory';

/**
 * A real TLS handshake between the worker's client factory and a grpc-js server bound the
 * way the control plane binds with AIRLOCK_GRPC_TLS_* (createSsl, no client certificate).
 */
describe('createWorkerGatewayClient over TLS', () => {
  let dir: string;
  let serverCerts: ThrowawayCertificates;
  let otherCa: ThrowawayCertificates;
  let gateway: TlsGatewayServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-worker-tls-'));
    serverCerts = await createThrowawayCertificates(join(dir, 'server'));
    otherCa = await createThrowawayCertificates(join(dir, 'other'), 'Some other CA');
    gateway = await TlsGatewayServer.start(serverCerts);
  });

  afterAll(() => {
    gateway.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const tlsTo = (address: string, caFile: string, serverName?: string) => ({ address, tls: { caFile, caPem: readFileSync(caFile), serverName } });

  function enroll(client: WorkerGatewayClient): Promise<EnrollResponse> {
    return new Promise<EnrollResponse>((resolve, reject) => {
      client.Enroll({ enrollmentToken: 'aet_x', workerPublicKey: Buffer.alloc(32), workerVersion: '0.1.0' }, { deadline: Date.now() + 5_000 }, (error, value) =>
        error || !value ? reject(error ?? new Error('empty response')) : resolve(value),
      );
    }).finally(() => client.close());
  }

  it('completes a call when the server certificate chains to the pinned CA', async () => {
    const before = gateway.enrollCalls;
    await expect(enroll(createWorkerGatewayClient(tlsTo(`127.0.0.1:${gateway.port}`, serverCerts.caFile)))).resolves.toMatchObject({ workerId: 'w' });
    await expect(enroll(createWorkerGatewayClient(tlsTo(`localhost:${gateway.port}`, serverCerts.caFile)))).resolves.toMatchObject({ workerId: 'w' });
    expect(gateway.enrollCalls).toBe(before + 2);
  });

  it('refuses a server whose certificate another CA issued, before sending anything', async () => {
    const before = gateway.enrollCalls;
    await expect(enroll(createWorkerGatewayClient(tlsTo(`127.0.0.1:${gateway.port}`, otherCa.caFile)))).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(gateway.enrollCalls).toBe(before);
  });

  it('checks the certificate against serverName when set', async () => {
    const before = gateway.enrollCalls;
    await expect(enroll(createWorkerGatewayClient(tlsTo(`127.0.0.1:${gateway.port}`, serverCerts.caFile, 'localhost')))).resolves.toMatchObject({ workerId: 'w' });
    await expect(enroll(createWorkerGatewayClient(tlsTo(`127.0.0.1:${gateway.port}`, serverCerts.caFile, 'airlock.example.com')))).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
    });
    expect(gateway.enrollCalls).toBe(before + 1);
  });

  it('cannot talk plain text to a TLS server', async () => {
    await expect(enroll(createWorkerGatewayClient({ address: `127.0.0.1:${gateway.port}`, tls: undefined }))).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });
});
