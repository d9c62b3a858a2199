import { loadWorkerConfig, type WorkerConfig } from '../config/worker-config.loader';
import { WorkerConfigInvalidError } from '../config/worker-config-invalid.error';
import { checkGit, checkInferenceEndpoint, checkWorkspace, type CheckResult } from '../daemon/readiness.checks';
import { createWorkerGatewayClient } from '../gateway/worker-gateway.client-factory';
import { WorkerIdentityStore } from '../identity/worker-identity.store';
import { InferenceClient } from '../jobs/inference/inference.client';
import { checkSandbox, TestSandbox } from '../jobs/sandbox/test-sandbox';
import { JsonLogger } from '../logging/json-logger';
import { EXIT_CODES } from './exit-codes';

const CONNECT_DEADLINE_MS = 5_000;

/** Checks everything the worker needs, one `PASS`/`FAIL <name>: <why>` line each; exit 1 if any fails. */
export async function doctorCommand(options: { readonly config: string }, print: (text: string) => void): Promise<number> {
  const results: CheckResult[] = [];
  const report = (result: CheckResult) => {
    results.push(result);
    print(`${result.ok ? 'PASS' : 'FAIL'} ${result.name}: ${result.detail}\n`);
  };
  let config: WorkerConfig;
  try {
    config = loadWorkerConfig(options.config);
    report({ name: 'config', ok: true, detail: config.configFile });
  } catch (error) {
    if (!(error instanceof WorkerConfigInvalidError)) throw error;
    report({ name: 'config', ok: false, detail: error.message.replace(/\n\s*/g, '; ') });
    return EXIT_CODES.failed;
  }
  report(checkIdentity(config));
  report(await checkControlPlane(config));
  // Doctor must not print request logs in between its PASS/FAIL lines.
  const inference = new InferenceClient(config.inference.endpoints, new JsonLogger(() => undefined));
  for (const endpoint of config.inference.endpoints) report(await checkInferenceEndpoint(inference, endpoint));
  await inference.close();
  report(await checkGit(config));
  report(await checkWorkspace(config));
  const sandbox = TestSandbox.fromConfig(config);
  const sandboxCheck = await checkSandbox(sandbox, config.host);
  if (sandbox.mode === 'none') print(`WARN sandbox: ${sandboxCheck.detail}\n`);
  else report(sandboxCheck);
  return results.every((result) => result.ok) ? EXIT_CODES.ok : EXIT_CODES.failed;
}

function checkIdentity(config: WorkerConfig): CheckResult {
  try {
    const identity = new WorkerIdentityStore(config.stateDir);
    const { workerId, pool } = identity.load();
    identity.loadMacKey();
    return { name: 'identity', ok: true, detail: `worker ${workerId}${pool === null ? '' : `, enrolled into pool ${pool}`}` };
  } catch (error) {
    return { name: 'identity', ok: false, detail: (error as Error).message };
  }
}

function checkControlPlane(config: WorkerConfig): Promise<CheckResult> {
  // The enrolled client certificate too: a gateway that requires one would refuse the TLS handshake's Connect without it.
  const client = createWorkerGatewayClient(config.controlPlane, new WorkerIdentityStore(config.stateDir).loadClientCertificate());
  // The proxy URL never carries credentials (they stay in the env var), so it is safe to print.
  const via = config.controlPlane.proxy ? ` through HTTP CONNECT proxy ${config.controlPlane.proxy.url}` : '';
  return new Promise((resolve) => {
    client.waitForReady(Date.now() + CONNECT_DEADLINE_MS, (error) => {
      client.close();
      resolve(
        error
          ? { name: 'control plane', ok: false, detail: `${config.controlPlane.address} not reachable${via} within ${CONNECT_DEADLINE_MS / 1000}s` }
          : { name: 'control plane', ok: true, detail: `${config.controlPlane.address} reachable${via}` },
      );
    });
  });
}
