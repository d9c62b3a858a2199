import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What `/healthz` reports. Local only: it names no job, path or host. */
export interface HealthSnapshot {
  readonly state: string;
  readonly connected: boolean;
  readonly lastConnectedAt: string | null;
  readonly lastHeartbeatAt: string | null;
  readonly lastReadinessCheckAt: string | null;
  readonly running: number;
  readonly capacity: number;
  readonly refusedFrames: number;
  /** False while the egress audit log refuses writes (e.g. a full disk): nothing can be sent then. */
  readonly egressAuditHealthy: boolean;
}

/**
 * A tiny HTTP listener for `/healthz` (200 with a JSON snapshot; 503 once stopped). It
 * binds to 127.0.0.1 by default: it is for the host's own supervisor, not the network.
 */
export class HealthServer {
  private server: Server | undefined;

  constructor(private readonly snapshot: () => HealthSnapshot) {}

  /** Starts listening and returns the URL of `/healthz`. */
  async listen(host: string, port: number): Promise<string> {
    const server = createServer((request, response) => {
      if (request.method !== 'GET' || request.url !== '/healthz') {
        response.writeHead(404).end();
        return;
      }
      const body = this.snapshot();
      response.writeHead(body.state === 'STOPPED' ? 503 : 200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${shownHost}:${address.port}/healthz`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
  }
}
