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
    // Deliberately not a log record: logs never carry tokens. Shown once, on first start.
    process.stdout.write(
      `${JSON.stringify({ event: 'bootstrap_admin_token', token: controlPlane.bootstrapToken, note: 'shown once: store it now; only its hash is kept' })}\n`,
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
