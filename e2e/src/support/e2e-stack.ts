import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase } from '@airlock/testing';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '@airlock/local-stack';

export interface E2eStack extends LocalStack {
  readonly canary: string;
  readonly databaseUrl: string;
  readonly baseDir: string;
}

/**
 * A full stack for one test file: its own database in the run's PostgreSQL cluster, its own
 * folders, and a fresh canary. Short leases so crash recovery is quick to observe.
 */
export async function startE2eStack(name: string, overrides: Partial<LocalStackOptions> = {}): Promise<E2eStack> {
  const clusterUrl = process.env['AIRLOCK_E2E_POSTGRES_URL'];
  if (!clusterUrl) throw new Error('AIRLOCK_E2E_POSTGRES_URL is not set: run the e2e suite through e2e/jest.config.js');
  const databaseUrl = await createDatabase(clusterUrl, `e2e_${name}_${randomBytes(3).toString('hex')}`);
  const baseDir = mkdtempSync(join(tmpdir(), `airlock-e2e-${name}-`));
  const canary = `AIRLOCK-CANARY-${randomBytes(8).toString('hex')}`;
  const stack = await startLocalStack({
    baseDir,
    canary,
    databaseUrl,
    leaseTtl: '3s',
    heartbeatInterval: '500ms',
    ...overrides,
  });
  const stopProcesses = stack.stop;
  return Object.assign(stack, {
    canary,
    databaseUrl,
    baseDir,
    stop: async () => {
      await stopProcesses();
      // AIRLOCK_E2E_KEEP=1 keeps the stack's folders (job records, logs, mirrors) to look at after a failure.
      if (process.env["AIRLOCK_E2E_KEEP"] === undefined) rmSync(baseDir, { recursive: true, force: true });
    },
  });
}
