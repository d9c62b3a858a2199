import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, startPostgresCluster, type PostgresCluster } from '@airlock/testing';
import { loadAppConfig } from '../config/app-config';
import { startControlPlane, type RunningControlPlane } from '../control-plane';

jest.setTimeout(60_000);

let cluster: PostgresCluster;
const dirs: string[] = [];

beforeAll(async () => {
  cluster = await startPostgresCluster();
});

afterAll(async () => {
  await cluster?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const start = (databaseUrl: string, dataDir: string, tokenFile?: string): Promise<RunningControlPlane> =>
  startControlPlane(
    loadAppConfig({
      DATABASE_URL: databaseUrl,
      AIRLOCK_DATA_DIR: dataDir,
      AIRLOCK_HTTP_PORT: '0',
      AIRLOCK_GRPC_PORT: '0',
      AIRLOCK_METRICS_PORT: '0',
      LOG_LEVEL: 'fatal',
      ...(tokenFile === undefined ? {} : { AIRLOCK_BOOTSTRAP_TOKEN_FILE: tokenFile }),
    }),
  );

const workersWith = async (controlPlane: RunningControlPlane, token: string) =>
  (await fetch(`${controlPlane.httpUrl}/api/v1/workers`, { headers: { authorization: `Bearer ${token}` } })).status;

describe('the bootstrap admin token', () => {
  it('is written to a 0600 file under the data folder on the first start, works, and is not made again', async () => {
    const databaseUrl = await createDatabase(cluster.url, 'first_start_it');
    const dataDir = join(mkdtempSync(join(tmpdir(), 'airlock-first-start-')), 'data');
    dirs.push(dataDir);
    const first = await start(databaseUrl, dataDir);
    const file = join(dataDir, 'bootstrap-admin-token');
    const token = readFileSync(file, 'utf8').trim();
    try {
      expect(first.bootstrapToken).toBe(token);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
      expect(await workersWith(first, token)).toBe(200);
    } finally {
      await first.stop();
    }
    const second = await start(databaseUrl, dataDir);
    try {
      expect(second.bootstrapToken).toBeNull();
      expect(readFileSync(file, 'utf8').trim()).toBe(token);
    } finally {
      await second.stop();
    }
  });

  it('stops the start when the file cannot be written, makes no token, and makes one at the next start that can', async () => {
    const databaseUrl = await createDatabase(cluster.url, 'first_start_unwritable_it');
    const root = mkdtempSync(join(tmpdir(), 'airlock-first-start-'));
    dirs.push(root);
    // A folder where the file should go: no write succeeds there, even as root.
    const blocked = join(root, 'token');
    mkdirSync(blocked);
    await expect(start(databaseUrl, join(root, 'data'), blocked)).rejects.toThrow(/cannot write the bootstrap admin token to .*token \(EISDIR\)/);
    const retried = await start(databaseUrl, join(root, 'data'), join(root, 'token-file'));
    try {
      const token = readFileSync(join(root, 'token-file'), 'utf8').trim();
      expect(retried.bootstrapToken).toBe(token);
      expect(await workersWith(retried, token)).toBe(200);
    } finally {
      await retried.stop();
    }
  });
});
