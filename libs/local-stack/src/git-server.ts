import { join } from 'node:path';
import { findFreePort, waitForTcpListener } from '@airlock/testing';
import { ManagedProcess } from './managed-process';

/** A real git server (git daemon, smart protocol, push enabled) standing in for a customer's forge. */
export interface GitServer {
  /** The git:// URL of a bare repository under the server's root, e.g. `demo.git`. */
  urlOf(repositoryName: string): string;
  stop(): Promise<void>;
}

/**
 * Serves every bare repository under `rootDir` on 127.0.0.1 with receive-pack enabled, so
 * workers can clone and push exactly as they would against a customer's git server.
 */
export async function startGitServer(rootDir: string, logDir: string): Promise<GitServer> {
  for (let attempt = 1; ; attempt += 1) {
    const port = await findFreePort();
    const daemon = new ManagedProcess({
      name: 'git daemon',
      command: 'git',
      args: [
        'daemon',
        '--verbose',
        '--reuseaddr',
        '--export-all',
        '--enable=receive-pack',
        '--informative-errors',
        '--listen=127.0.0.1',
        `--port=${port}`,
        `--base-path=${rootDir}`,
        rootDir,
      ],
      logFile: join(logDir, 'git-daemon.log'),
    });
    try {
      await waitForTcpListener(port, 10_000, () => !daemon.hasExited);
      return {
        urlOf: (repositoryName) => `git://127.0.0.1:${port}/${repositoryName}`,
        stop: () => daemon.stop(),
      };
    } catch (error) {
      await daemon.stop();
      // Another process may have taken the port between our probe and the daemon's bind.
      if (attempt >= 3) throw error;
    }
  }
}
