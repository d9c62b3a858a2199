import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The lifecycle states in which the daemon has ended (see daemon/worker-lifecycle.ts): `/healthz` answers 503. */
const ENDED_STATES: ReadonlySet<string> = new Set(['STOPPED', 'FAILED']);

/** What `/healthz` reports. Local only: it names no job, path or host. */
export interface HealthSnapshot {
  /** The daemon's lifecycle state. */
  readonly state: string;
  /** Whether the stream to the control plane is up (welcomed). */
  readonly connected: boolean;
  /** When the session loop was last welcomed: its last success at connecting. */
  readonly lastConnectedAt: string | null;
  /** When the last heartbeat left: the heartbeat loop's last success. */
  readonly lastHeartbeatAt: string | null;
  /** When the readiness checks last ran. */
  readonly lastReadinessCheckAt: string | null;
  readonly running: number;
  readonly capacity: number;
  readonly refusedFrames: number;
  /** False while the egress audit log refuses writes (e.g. a full disk): nothing can be sent then. */
  readonly egressAuditHealthy: boolean;
}

/** What `/metrics` serves: the text exposition format and its content type (WorkerMetrics). */
export interface MetricsExposition {
  readonly contentType: string;
  exposition(): Promise<string>;
}

/**
 * A tiny HTTP listener for `/healthz` (200 with a JSON snapshot; 503 once stopped or failed)
 * and, given the metrics, `/metrics` (Prometheus text format). It binds to 127.0.0.1 by
 * default: it is for the host's own supervisor and a Prometheus inside the customer's
 * network, never the control plane, which the worker only dials.
 */
export class HealthServer {
  private server: Server | undefined;

  constructor(
    private readonly snapshot: () => HealthSnapshot,
    private readonly metrics?: MetricsExposition,
  ) {}

  /** Starts listening and returns the URL of `/healthz`. */
  async listen(host: string, port: number): Promise<string> {
    const server = createServer((request, response) => {
      if (request.method === 'GET' && request.url === '/metrics' && this.metrics) {
        const metrics = this.metrics;
        metrics.exposition().then(
          (text) => response.writeHead(200, { 'content-type': metrics.contentType }).end(text),
          // The name only: a message could carry anything a collector saw.
          (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics collection failed (${(error as Error).name})\n`),
        );
        return;
      }
      if (request.method !== 'GET' || request.url !== '/healthz') {
        response.writeHead(404).end();
        return;
      }
      const body = this.snapshot();
      response.writeHead(ENDED_STATES.has(body.state) ? 503 : 200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
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
