import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the listener serves: the text exposition format and its content type. */
export interface MetricsExposition {
  readonly contentType: string;
  exposition(): Promise<string>;
}

/**
 * The listener of `GET /metrics` (AIRLOCK_METRICS_HOST / AIRLOCK_METRICS_PORT). A port of its
 * own, never the REST API's: the metrics name tenants, and nothing on this port asks for a
 * token, so it belongs on a network only Prometheus reaches. Anything but GET or HEAD of
 * /metrics is 404 (405 for another method on /metrics).
 */
export class MetricsServer {
  private server: Server | undefined;

  constructor(private readonly metrics: MetricsExposition) {}

  /** Starts listening; resolves with the URL of /metrics. */
  async listen(host: string, port: number): Promise<string> {
    const server = createServer((request, response) => {
      const path = (request.url ?? '').split('?')[0];
      if (path !== '/metrics') {
        response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: this listener serves GET /metrics only\n');
        return;
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
        return;
      }
      this.metrics.exposition().then(
        (text) => response.writeHead(200, { 'content-type': this.metrics.contentType }).end(request.method === 'HEAD' ? undefined : text),
        // The name only: a message could carry anything a collector saw.
        (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics collection failed (${(error as Error).name})\n`),
      );
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${shownHost}:${address.port}/metrics`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // A scraper's keep-alive connection would otherwise hold the close until it times out.
    server.closeAllConnections();
    await closed;
  }
}
