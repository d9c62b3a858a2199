import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { workerGatewayServiceDefinition, type EnrollRequest__Output, type EnrollResponse } from '@airlock/protocol';

/**
 * A real grpc-js WorkerGateway server bound with TLS the way the control plane binds with
 * AIRLOCK_GRPC_TLS_* (createSsl, no client certificate). It answers Enroll and counts the
 * calls that reached it, so a test can tell a refused handshake from a served call.
 */
export class TlsGatewayServer {
  enrollCalls = 0;
  private readonly server = new grpc.Server();

  private constructor(readonly port: number) {}

  static async start(certificates: { readonly certFile: string; readonly keyFile: string }): Promise<TlsGatewayServer> {
    const server = new TlsGatewayServer(0);
    server.server.addService(workerGatewayServiceDefinition(), {
      Enroll: (_call: grpc.ServerUnaryCall<EnrollRequest__Output, EnrollResponse>, callback: grpc.sendUnaryData<EnrollResponse>) => {
        server.enrollCalls += 1;
        callback(null, { workerId: 'w', tenantId: 't', signingKeys: [] });
      },
      Connect: (stream: grpc.ServerDuplexStream<unknown, unknown>) => stream.end(),
    });
    const credentials = grpc.ServerCredentials.createSsl(
      null,
      [{ cert_chain: readFileSync(certificates.certFile), private_key: readFileSync(certificates.keyFile) }],
      false,
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.server.bindAsync('127.0.0.1:0', credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    return Object.assign(server, { port });
  }

  stop(): void {
    this.server.forceShutdown();
  }
}
