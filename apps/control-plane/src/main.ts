import 'reflect-metadata';
import { join } from 'node:path';
import { buildInfo } from '@airlock/protocol';
import { loadAppConfig } from './app/config/app-config';
import { InvalidConfigError } from './app/config/invalid-config.error';
import { startControlPlane } from './app/control-plane';

/**
 * The environment the config is read from. A bundle serves the dashboard copied beside its
 * main.js unless AIRLOCK_DASHBOARD_DIR names another; from sources the config's default
 * (dist/apps/dashboard under the working directory) stands.
 */
function configEnvironment(): NodeJS.ProcessEnv {
  return buildInfo().bundled ? { AIRLOCK_DASHBOARD_DIR: join(__dirname, 'dashboard'), ...process.env } : process.env;
}

async function main(): Promise<void> {
  // First, so that even a start that fails says which build it was.
  const { version, commit, builtAt } = buildInfo();
  process.stdout.write(`${JSON.stringify({ event: 'build_info', version, commit, builtAt })}\n`);
  let config;
  try {
    config = loadAppConfig(configEnvironment());
  } catch (error) {
    if (!(error instanceof InvalidConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  const controlPlane = await startControlPlane(config);
  if (controlPlane.bootstrapToken) {
    // The path only: stdout ends up in logs, and logs never carry a token.
    process.stdout.write(
      `${JSON.stringify({ event: 'bootstrap_admin_token', file: config.bootstrapTokenFile, note: 'first start: the admin API token is in this file (mode 0600); only its hash is kept' })}\n`,
    );
  }
  process.stdout.write(`${JSON.stringify({ event: 'ready', httpUrl: controlPlane.httpUrl, grpcAddress: controlPlane.grpcAddress, grpcTls: controlPlane.grpcTls })}\n`);
  const shutdown = () => {
    controlPlane.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`control plane failed to start: ${(error as Error).name}: ${(error as Error).message}\n`);
  process.exit(1);
});
