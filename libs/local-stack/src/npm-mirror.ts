import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { findFreePort } from '@airlock/testing';
import { stringify } from 'yaml';
import { ManagedProcess } from './managed-process';

const execFileAsync = promisify(execFile);

/** The public registry, used when npm cannot tell which one this machine is set up for. */
export const PUBLIC_NPM_REGISTRY = 'https://registry.npmjs.org/';

export interface NpmMirrorOptions {
  /**
   * Where the mirror keeps the packuments and tarballs it fetched. Give a folder that
   * outlives the mirror to keep a warm cache between runs (CI, one case after another);
   * without one, it lives in the work folder.
   */
  readonly storageDir?: string;
  /**
   * Folder for the generated config, the htpasswd file and the logs. When absent, a
   * temporary one is made and removed on stop (with the storage, unless one was given).
   */
  readonly workDir?: string;
  /** The registry the mirror proxies to; by default the one `npm config get registry` names. */
  readonly uplinkUrl?: string;
  /** How long to wait for the first answer to `/-/ping`. */
  readonly startTimeoutMs?: number;
}

/** A running Verdaccio: an npm registry on 127.0.0.1 that proxies, and caches, the uplink. */
export interface NpmMirror {
  /** Registry URL with a trailing slash, as `--registry` and `npm_config_registry` take it. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly storageDir: string;
  /** Verdaccio's own log (one JSON object a line: every request and every uplink fetch). */
  readonly logFile: string;
  stop(): Promise<void>;
}

/** The registry this machine's npm is configured for (user and global npmrc, environment). */
export async function configuredNpmRegistry(): Promise<string> {
  try {
    const { stdout } = await execFileAsync('npm', ['config', 'get', 'registry'], { cwd: tmpdir(), timeout: 30_000 });
    const registry = stdout.trim();
    if (/^https?:\/\//.test(registry)) return registry.endsWith('/') ? registry : `${registry}/`;
  } catch {
    // No npm on PATH or an unreadable config: the public registry is npm's own default too.
  }
  return PUBLIC_NPM_REGISTRY;
}

/** Where the installed Verdaccio's command-line entry point is (a devDependency of the workspace). */
function verdaccioEntryPoint(): string {
  const manifestPath = require.resolve('verdaccio/package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { bin: string | Record<string, string> };
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin['verdaccio'];
  if (!bin) throw new Error(`verdaccio's package.json (${manifestPath}) names no verdaccio command`);
  return join(dirname(manifestPath), bin);
}

/**
 * Verdaccio's config: everyone may read every package (a customer's mirror is read
 * anonymously by build machines), nothing is published, every package comes through the
 * one uplink, the web UI is off, and the log goes to a file rather than the console.
 */
function verdaccioConfig(storageDir: string, workDir: string, uplinkUrl: string, logFile: string): string {
  return stringify({
    storage: storageDir,
    auth: { htpasswd: { file: join(workDir, 'htpasswd'), max_users: -1 } },
    uplinks: {
      upstream: {
        url: uplinkUrl,
        timeout: '60s',
        // A warm storage answers metadata from cache for this long before asking the uplink
        // again: consecutive cases then install without waiting on the network.
        maxage: '30m',
        max_fails: 5,
        fail_timeout: '1m',
      },
    },
    packages: {
      '@*/*': { access: '$all', publish: '$authenticated', proxy: 'upstream' },
      '**': { access: '$all', publish: '$authenticated', proxy: 'upstream' },
    },
    web: { enable: false },
    log: { type: 'file', path: logFile, format: 'json', level: 'http' },
    // Some packages' metadata is large (tens of MB for popular ones with many versions).
    max_body_size: '200mb',
  });
}

async function answersPing(url: string): Promise<boolean> {
  try {
    const response = await fetch(new URL('-/ping', url), { signal: AbortSignal.timeout(2_000) });
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * Starts a real Verdaccio as a child process on a free port of 127.0.0.1, the stand-in for
 * a customer's npm mirror: `npm install --registry <url>` (or `npm_config_registry`) then
 * fetches everything through it and nothing directly from the internet-facing registry.
 * Resolves once the mirror answers `/-/ping`.
 */
export async function startNpmMirror(options: NpmMirrorOptions = {}): Promise<NpmMirror> {
  const ownsWorkDir = options.workDir === undefined;
  const workDir = options.workDir ?? mkdtempSync(join(tmpdir(), 'airlock-npm-mirror-'));
  const storageDir = options.storageDir ?? join(workDir, 'storage');
  mkdirSync(workDir, { recursive: true });
  mkdirSync(storageDir, { recursive: true });
  const uplinkUrl = options.uplinkUrl ?? (await configuredNpmRegistry());
  const logFile = join(workDir, 'verdaccio.log');
  const configFile = join(workDir, 'verdaccio.yaml');
  writeFileSync(configFile, verdaccioConfig(storageDir, workDir, uplinkUrl, logFile));
  const entryPoint = verdaccioEntryPoint();
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;

  for (let attempt = 1; ; attempt += 1) {
    const port = await findFreePort();
    const url = `http://127.0.0.1:${port}/`;
    const verdaccio = new ManagedProcess({
      name: 'verdaccio',
      command: process.execPath,
      args: [entryPoint, '--config', configFile, '--listen', `127.0.0.1:${port}`],
      cwd: workDir,
      // Its startup warnings (Node version, running as root) go to stderr, kept beside the log.
      logFile: join(workDir, 'verdaccio.console.log'),
    });
    const deadline = Date.now() + startTimeoutMs;
    let ready = false;
    while (!verdaccio.hasExited && Date.now() < deadline) {
      if (await answersPing(url)) {
        ready = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (ready) {
      return {
        url,
        host: '127.0.0.1',
        port,
        storageDir,
        logFile,
        stop: async () => {
          await verdaccio.stop();
          // A temporary work folder holds the storage too unless a lasting one was given.
          if (ownsWorkDir) rmSync(workDir, { recursive: true, force: true });
        },
      };
    }
    const exited = verdaccio.hasExited;
    await verdaccio.stop();
    // An exit is most likely a port taken between our probe and Verdaccio's bind: try another.
    if (!exited || attempt >= 3) {
      throw new Error(
        `Verdaccio did not answer ${url}-/ping ${exited ? 'and exited' : `within ${startTimeoutMs} ms`}; see ${join(workDir, 'verdaccio.console.log')} and ${logFile}`,
      );
    }
  }
}
