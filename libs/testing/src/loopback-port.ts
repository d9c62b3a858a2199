import { connect, createServer } from 'node:net';

/**
 * Asks the kernel for a free port on 127.0.0.1, for programs that cannot bind port 0 and
 * report it (PostgreSQL, git daemon, tinyproxy). The port could be taken before the program
 * binds it, so callers that can retry on a bind failure should.
 */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Polls until something accepts TCP connections on 127.0.0.1:`port`. `stillStarting` is
 * asked between tries so a caller can give up at once when its program has exited.
 */
export async function waitForTcpListener(port: number, timeoutMs: number, stillStarting: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const listening = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (listening) return;
    if (!stillStarting()) throw new Error(`the program meant to listen on port ${port} exited`);
    if (Date.now() > deadline) throw new Error(`nothing listened on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
