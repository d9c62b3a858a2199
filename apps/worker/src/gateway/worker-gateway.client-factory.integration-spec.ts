import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createThrowawayCertificates, type ThrowawayCertificates } from '@airlock/local-stack';
import { workerGatewayServiceDefinition, type EnrollRequest__Output, type EnrollResponse, type WorkerGatewayClient } from '@airlock/protocol';
import { createWorkerGatewayClient } from './worker-gateway.client-factory';

/**
 * A real TLS handshake between the worker's client factory and a grpc-js server bound the
 * way the control plane binds with AIRLOCK_GRPC_TLS_* (createSsl, no client certificate).
 */
describe('createWorkerGatewayClient over TLS', () => {
  let dir: string;
  let serverCerts: ThrowawayCertificates;
  let otherCa: ThrowawayCertificates;
  let server: grpc.Server;
  let port: number;
  let enrollCalls = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-worker-tls-'));
    serverCerts = await createThrowawayCertificates(join(dir, 'server'));
    otherCa = await createThrowawayCertificates(join(dir, 'other'), 'Some other CA');
    server = new grpc.Server();
    server.addService(workerGatewayServiceDefinition(), {
      Enroll: (_call: grpc.ServerUnaryCall<EnrollRequest__Output, EnrollResponse>, callback: grpc.sendUnaryData<EnrollResponse>) => {
        enrollCalls += 1;
        callback(null, { workerId: 'w', tenantId: 't', signingKeys: [] });
      },
      Connect: (stream: grpc.ServerDuplexStream<unknown, unknown>) => stream.end(),
    });
    const credentials = grpc.ServerCredentials.createSsl(null, [{ cert_chain: readFileSync(serverCerts.certFile), private_key: readFileSync(serverCerts.keyFile) }], false);
    port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', credentials, (error, bound) => (error ? reject(error) : resolve(bound))));
  });

  afterAll(() => {
    server.forceShutdown();
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
    const before = enrollCalls;
    await expect(enroll(createWorkerGatewayClient(tlsTo(`127.0.0.1:${port}`, serverCerts.caFile)))).resolves.toMatchObject({ workerId: 'w' });
    await expect(enroll(createWorkerGatewayClient(tlsTo(`localhost:${port}`, serverCerts.caFile)))).resolves.toMatchObject({ workerId: 'w' });
    expect(enrollCalls).toBe(before + 2);
  });

  it('refuses a server whose certificate another CA issued, before sending anything', async () => {
    const before = enrollCalls;
    await expect(enroll(createWorkerGatewayClient(tlsTo(`127.0.0.1:${port}`, otherCa.caFile)))).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(enrollCalls).toBe(before);
  });

  it('checks the certificate against serverName when set', async () => {
    const before = enrollCalls;
    await expect(enroll(createWorkerGatewayClient(tlsTo(`127.0.0.1:${port}`, serverCerts.caFile, 'localhost')))).resolves.toMatchObject({ workerId: 'w' });
    await expect(enroll(createWorkerGatewayClient(tlsTo(`127.0.0.1:${port}`, serverCerts.caFile, 'airlock.example.com')))).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
    });
    expect(enrollCalls).toBe(before + 1);
  });

  it('cannot talk plain text to a TLS server', async () => {
    await expect(enroll(createWorkerGatewayClient({ address: `127.0.0.1:${port}`, tls: undefined }))).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });
});
