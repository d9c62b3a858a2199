import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAppConfig, type AppConfig } from '../app/config/app-config';

const scratch: string[] = [];
process.once('exit', () => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

/**
 * A control plane's config for a test against the database at `databaseUrl`: ports (REST,
 * gateway, metrics) picked by the system, quiet logs, and the first-start token file in a folder of its own under the
 * system's temp folder (removed when the test process exits), never in the repository.
 * `vars` adds or overrides environment variables.
 */
export function testAppConfig(databaseUrl: string, vars: Record<string, string> = {}): AppConfig {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-control-plane-test-'));
  scratch.push(dir);
  return loadAppConfig({
    DATABASE_URL: databaseUrl,
    AIRLOCK_DATA_DIR: dir,
    AIRLOCK_HTTP_PORT: '0',
    AIRLOCK_GRPC_PORT: '0',
    AIRLOCK_METRICS_PORT: '0',
    LOG_LEVEL: 'fatal',
    ...vars,
  });
}
