import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findFreePort, waitForTcpListener } from './loopback-port';

/** A throwaway nats-server with JetStream, for tests: a real process on a free 127.0.0.1 port. */
export interface NatsServer {
  /** nats://127.0.0.1:<port>; the same across restarts. */
  readonly url: string;
  /** The JetStream store directory (kept across restarts unless `wipeStore` is asked for). */
  readonly storeDir: string;
  /** Kills the server (SIGKILL: as when its host fails) and waits for it to be gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port; with `wipeStore`, its JetStream store is deleted first. */
  restart(options?: { readonly wipeStore?: boolean }): Promise<void>;
  /** Stops it and removes its files. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;

/** Starts Debian's `nats-server -js` on a free port with its store in a temporary directory. */
export async function startNatsServer(): Promise<NatsServer> {
  const root = await mkdtemp(path.join(tmpdir(), 'airlock-nats-'));
  const storeDir = path.join(root, 'jetstream');
  const port = await findFreePort();
  let child: ChildProcess | null = null;
  const launch = async (): Promise<void> => {
    const started = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], { stdio: 'ignore' });
    let exited = false;
    started.once('exit', () => (exited = true));
    await new Promise<void>((resolve, reject) => {
      started.once('spawn', resolve);
      started.once('error', (error) => reject(new Error(`nats-server did not start (is Debian's nats-server installed?): ${error.message}`)));
    });
    await waitForTcpListener(port, START_TIMEOUT_MS, () => !exited);
    if (exited) throw new Error(`nats-server exited at start (port ${port})`);
    child = started;
  };
  const kill = async (): Promise<void> => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    const gone = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await gone;
  };
  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    storeDir,
    kill,
    async restart(options = {}) {
      await kill();
      if (options.wipeStore) await rm(storeDir, { recursive: true, force: true });
      await launch();
    },
    async stop() {
      await kill();
      await rm(root, { recursive: true, force: true });
    },
  };
}
