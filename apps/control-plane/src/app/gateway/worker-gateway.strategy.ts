import * as grpc from '@grpc/grpc-js';
import { type CustomTransportStrategy, Server } from '@nestjs/microservices';
import { WIRE_LIMITS, workerGatewayServiceDefinition } from '@airlock/protocol';
import type { GrpcTlsConfig } from '../config/app-config';
import type { WorkerGatewayService } from './worker-gateway.service';

/**
 * Serves `airlock.v1.WorkerGateway` as a Nest microservice transport around a grpc-js
 * server: binds host:port (0 picks a free port and `address()` reports the real one), with
 * the wire limits as message-size caps and keepalive on.
 *
 * With a certificate and key (AIRLOCK_GRPC_TLS_*) it serves TLS, so that ticket text going
 * down cannot be read on the path; workers pin the (often private) CA. Without them it serves
 * plain text, which workers accept only on a loopback address. Workers prove who they are by
 * signing the Hello challenge with their enrolled key; with a client CA (AIRLOCK_GRPC_CLIENT_CA_*)
 * the handshake also asks for a client certificate, which it checks against that CA but does
 * not demand (Enroll comes before a worker has one): the stream session decides whether a
 * Connect without one is refused, and that one presented names the worker saying Hello.
 */
export class WorkerGatewayStrategy extends Server implements CustomTransportStrategy {
  private readonly server: grpc.Server;
  private boundPort: number | null = null;

  constructor(
    private readonly gateway: WorkerGatewayService,
    private readonly host: string,
    private readonly port: number,
    private readonly tls: GrpcTlsConfig | undefined = undefined,
    keepalive: { readonly timeMs: number; readonly timeoutMs: number } = { timeMs: 30_000, timeoutMs: 10_000 },
  ) {
    super();
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': WIRE_LIMITS.maxUpstreamMessageBytes,
      'grpc.max_send_message_length': WIRE_LIMITS.maxDownstreamMessageBytes,
      // A worker that stops answering pings (paused, cut off) loses its stream, so the
      // control plane stops counting on it and a Cancel waits for its reconnect instead.
      'grpc.keepalive_time_ms': keepalive.timeMs,
      'grpc.keepalive_timeout_ms': keepalive.timeoutMs,
      'grpc.keepalive_permit_without_calls': 1,
      // Workers ping at most every 10 s; tolerate that instead of sending GOAWAY.
      'grpc.http2.min_ping_interval_without_data_ms': 10_000,
    });
  }

  /** The "host:port" the gateway listens on, once listening. */
  address(): string {
    if (this.boundPort === null) throw new Error('the worker gateway is not listening yet');
    return `${this.host}:${this.boundPort}`;
  }

  listen(callback: (error?: unknown) => void): void {
    this.server.addService(workerGatewayServiceDefinition(), this.gateway.implementation());
    const credentials = this.serverCredentials();
    this.server.bindAsync(`${this.host}:${this.port}`, credentials, (error, port) => {
      if (error) return callback(error);
      this.boundPort = port;
      callback();
    });
  }

  private serverCredentials(): grpc.ServerCredentials {
    if (!this.tls) return grpc.ServerCredentials.createInsecure();
    const identity = { certificate: this.tls.certChainPem, privateKey: this.tls.privateKeyPem };
    if (!this.tls.clientCa) return grpc.ServerCredentials.createSsl(null, [{ cert_chain: identity.certificate, private_key: identity.privateKey }], false);
    // requestCert without rejectUnauthorized: a certificate is asked for and verified against
    // the client CA when presented, and a call reports it only when it verified.
    return grpc.experimental.createCertificateProviderServerCredentials(
      new StaticCertificateProvider(identity, this.tls.clientCa.certPem),
      new StaticCertificateProvider(identity, this.tls.clientCa.certPem),
      false,
    );
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      // Give open streams a moment to end cleanly, then cut them.
      const force = setTimeout(() => this.server.forceShutdown(), 2_000);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  on(): never {
    throw new Error('WorkerGatewayStrategy emits no events');
  }

  unwrap<T>(): T {
    return this.server as T;
  }
}

/**
 * Certificates that never change while the gateway runs (they are read once at boot), as
 * grpc-js's provider interface wants them. Listeners are answered on the next tick, as grpc-js's
 * own file watcher answers them: the credentials add their listeners before they register the
 * server's watcher, so an answer given at once would reach no one.
 */
class StaticCertificateProvider implements grpc.experimental.CertificateProvider {
  constructor(
    private readonly identity: { readonly certificate: Buffer; readonly privateKey: Buffer },
    private readonly caCertificate: Buffer,
  ) {}

  addCaCertificateListener(listener: grpc.experimental.CaCertificateUpdateListener): void {
    process.nextTick(() => listener({ caCertificate: this.caCertificate }));
  }

  removeCaCertificateListener(): void {}

  addIdentityCertificateListener(listener: grpc.experimental.IdentityCertificateUpdateListener): void {
    process.nextTick(() => listener({ certificate: this.identity.certificate, privateKey: this.identity.privateKey }));
  }

  removeIdentityCertificateListener(): void {}
}
