import { createServer } from 'node:net';

/**
 * Asks the kernel for a free port on 127.0.0.1. Only for programs that cannot bind port 0
 * themselves and report it (git daemon); the port could in principle be taken before the
 * program binds it, so callers retry on a bind failure.
 */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
