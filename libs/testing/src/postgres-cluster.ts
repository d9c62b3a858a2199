import { execFile, spawn } from 'node:child_process';
import { chmod, chown, copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { findFreePort } from './loopback-port';

const execFileAsync = promisify(execFile);
const POSTGRES_BIN_ROOT = '/usr/lib/postgresql';
const SUPERUSER = 'postgres';
const SUPERUSER_PASSWORD = 'postgres';

/** A throwaway PostgreSQL cluster owned by one test run. */
export interface PostgresCluster {
  /** Superuser URL of the cluster's `postgres` database. */
  readonly url: string;
  /**
   * Stops the server at once (open connections are cut, as in a crash or an outage) but
   * keeps its data, so `startServer` brings the same cluster back on the same port.
   */
  stopServer(): Promise<void>;
  /** Starts the server `stopServer` stopped; resolves once it accepts connections. */
  startServer(): Promise<void>;
  /** Stops the server and deletes its data directory. */
  stop(): Promise<void>;
}

async function findPostgresBinDir(): Promise<string> {
  const versions = existsSync(POSTGRES_BIN_ROOT) ? await readdir(POSTGRES_BIN_ROOT) : [];
  const newestFirst = versions.filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  for (const version of newestFirst) {
    const bin = path.join(POSTGRES_BIN_ROOT, version, 'bin');
    if (existsSync(path.join(bin, 'initdb')) && existsSync(path.join(bin, 'pg_ctl'))) return bin;
  }
  throw new Error(
    `No PostgreSQL server binaries under ${POSTGRES_BIN_ROOT}/*/bin (initdb, pg_ctl). Install them with: apt-get install -y postgresql`,
  );
}

async function postgresUserIds(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([
    execFileAsync('id', ['-u', SUPERUSER]),
    execFileAsync('id', ['-g', SUPERUSER]),
  ]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * Runs a PostgreSQL binary. PostgreSQL refuses to run as root, so as root it runs as the
 * `postgres` system user (which the Debian package creates).
 */
function runPostgresBinary(binary: string, args: string[]): Promise<void> {
  const asRoot = process.getuid?.() === 0;
  const command = asRoot ? 'runuser' : binary;
  const fullArgs = asRoot ? ['-u', SUPERUSER, '--', binary, ...args] : args;
  return new Promise((resolve, reject) => {
    const child = spawn(command, fullArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${path.basename(binary)} exited with ${code}: ${output.trim()}`)),
    );
  });
}

export interface PostgresClusterOptions {
  /**
   * Run as a production server does: fsync and synchronous_commit on, and initdb's files
   * flushed, so a commit is on disk when it returns (for benchmarks that compare durable
   * queues). Default false: fsync off, which tests do not need and which makes them faster.
   */
  readonly durable?: boolean;
  /**
   * Serve TLS with this certificate and key (PEM files, copied into the cluster's folder with
   * the owner and mode the server demands). Plaintext connections are still accepted: the
   * client's sslmode decides.
   */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
}

/**
 * Creates and starts a real PostgreSQL cluster in a temporary directory on a free
 * 127.0.0.1 port, for integration tests. Never a fixed port, never an embedded engine.
 */
export async function startPostgresCluster(options: PostgresClusterOptions = {}): Promise<PostgresCluster> {
  const durable = options.durable === true;
  const bin = await findPostgresBinDir();
  const root = await mkdtemp(path.join(tmpdir(), 'airlock-pg-'));
  const dataDir = path.join(root, 'data');
  const passwordFile = path.join(root, 'password');
  await writeFile(passwordFile, SUPERUSER_PASSWORD);
  if (process.getuid?.() === 0) {
    const { uid, gid } = await postgresUserIds();
    await chown(root, uid, gid);
    await chown(passwordFile, uid, gid);
  }
  await chmod(root, 0o700);
  const tlsOptions = options.tls === undefined ? '' : await installServerCertificate(root, options.tls);

  await runPostgresBinary(path.join(bin, 'initdb'), [
    '-D', dataDir, '-U', SUPERUSER, '--pwfile', passwordFile, '-A', 'scram-sha-256', '-E', 'UTF8', ...(durable ? [] : ['--no-sync']),
  ]);
  const port = await findFreePort();
  const durability = durable ? '-c fsync=on -c synchronous_commit=on' : '-c fsync=off';
  const serverOptions = `-c listen_addresses=127.0.0.1 -p ${port} -k ${root} ${durability} -c max_connections=200${tlsOptions}`;
  const pgCtl = path.join(bin, 'pg_ctl');
  const runPgCtlStart = () => runPostgresBinary(pgCtl, ['-D', dataDir, '-o', serverOptions, '-l', path.join(root, 'server.log'), '-w', 'start']);
  // Immediate mode: clients see their connections cut, as when the database host fails.
  const runPgCtlStop = () => runPostgresBinary(pgCtl, ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
  await runPgCtlStart();

  let serverRunning = true;
  let removed = false;
  return {
    url: `postgresql://${SUPERUSER}:${SUPERUSER_PASSWORD}@127.0.0.1:${port}/postgres`,
    async stopServer() {
      if (!serverRunning) return;
      await runPgCtlStop();
      serverRunning = false;
    },
    async startServer() {
      if (serverRunning || removed) return;
      await runPgCtlStart();
      serverRunning = true;
    },
    async stop() {
      if (removed) return;
      removed = true;
      if (serverRunning) await runPgCtlStop();
      serverRunning = false;
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Copies a server certificate and key where the server reads them (the key 0600, owned by the server's user) and returns the server options that turn TLS on. */
async function installServerCertificate(root: string, tls: { readonly certFile: string; readonly keyFile: string }): Promise<string> {
  const certFile = path.join(root, 'server.crt');
  const keyFile = path.join(root, 'server.key');
  await copyFile(tls.certFile, certFile);
  await copyFile(tls.keyFile, keyFile);
  await chmod(keyFile, 0o600);
  if (process.getuid?.() === 0) {
    const { uid, gid } = await postgresUserIds();
    await chown(certFile, uid, gid);
    await chown(keyFile, uid, gid);
  }
  return ` -c ssl=on -c ssl_cert_file=${certFile} -c ssl_key_file=${keyFile}`;
}

/**
 * Creates an empty database on the cluster behind `url` and returns its URL, so each test
 * file gets its own database on one shared cluster.
 */
export async function createDatabase(url: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new Error(`database name must match ^[a-z_][a-z0-9_]{0,62}$, got ${JSON.stringify(name)}`);
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const databaseUrl = new URL(url);
  databaseUrl.pathname = `/${name}`;
  return databaseUrl.toString();
}
