import 'reflect-metadata';
import { loadAppConfig } from './app/config/app-config';
import { InvalidConfigError } from './app/config/invalid-config.error';
import { startControlPlane } from './app/control-plane';

async function main(): Promise<void> {
  let config;
  try {
    config = loadAppConfig(process.env);
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
