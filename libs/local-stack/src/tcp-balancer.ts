import { connect, createServer, type Socket } from 'node:net';

/** A backend the balancer may hand a connection to; null while it is down. */
export type BalancerBackend = { readonly host: string; readonly port: number } | null;

/** One address in front of several: what a TCP load balancer does for the replicas of a production deployment. */
export interface TcpBalancer {
  readonly port: number;
  /** Connections passed on so far, per backend index. */
  readonly connectionsPerBackend: readonly number[];
  stop(): Promise<void>;
}

const CONNECT_TIMEOUT_MS = 2_000;

/**
 * A layer-4 round-robin balancer on 127.0.0.1: each incoming connection goes to the next
 * backend that accepts it (a backend that is down, or refuses, is skipped), and bytes pass
 * through untouched, TLS included. When either side closes or fails, both do: a replica
 * killed mid-stream cuts its clients off, as a real balancer would.
 */
export async function startTcpBalancer(backends: () => readonly BalancerBackend[]): Promise<TcpBalancer> {
  const sockets = new Set<Socket>();
  const connectionsPerBackend: number[] = [];
  let next = 0;
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const connectToBackend = async (): Promise<{ socket: Socket; index: number } | null> => {
    const current = backends();
    for (let tried = 0; tried < current.length; tried += 1) {
      const index = (next + tried) % current.length;
      const backend = current[index];
      if (!backend) continue;
      const socket = await new Promise<Socket | null>((resolve) => {
        const attempt = connect(backend.port, backend.host);
        const timer = setTimeout(() => attempt.destroy(), CONNECT_TIMEOUT_MS);
        attempt.once('connect', () => {
          clearTimeout(timer);
          resolve(attempt);
        });
        attempt.once('error', () => resolve(null));
        attempt.once('close', () => resolve(null));
      });
      if (socket) {
        next = index + 1;
        connectionsPerBackend[index] = (connectionsPerBackend[index] ?? 0) + 1;
        return { socket, index };
      }
    }
    return null;
  };
  const server = createServer((client) => {
    track(client);
    client.pause();
    void connectToBackend().then((backend) => {
      if (!backend || client.destroyed) {
        backend?.socket.destroy();
        client.destroy();
        return;
      }
      track(backend.socket);
      client.pipe(backend.socket);
      backend.socket.pipe(client);
      const closeBoth = (): void => {
        client.destroy();
        backend.socket.destroy();
      };
      client.once('error', closeBoth).once('close', closeBoth);
      backend.socket.once('error', closeBoth).once('close', closeBoth);
      client.resume();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the balancer did not bind a port');
  return {
    port: address.port,
    connectionsPerBackend,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
