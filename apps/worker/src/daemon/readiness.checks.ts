import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdir, rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InferenceEndpointConfig, WorkerConfig } from '../config/worker-config.loader';
import type { InferenceClient } from '../jobs/inference/inference.client';
import { checkSandbox, type TestSandbox } from '../jobs/sandbox/test-sandbox';

/** One check's verdict, worded for an operator. */
export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** Below this much free space the workspace is reported unfit (mirrors and worktrees need room). */
export const MIN_FREE_DISK_BYTES = 1024 * 1024 * 1024;

/** `git --version`, proving git is on PATH. */
export function checkGit(config: Pick<WorkerConfig, 'host'>): Promise<CheckResult> {
  return new Promise((resolve) => {
    execFile('git', ['--version'], { env: { PATH: config.host.path }, timeout: 10_000 }, (error, stdout) => {
      resolve(error ? { name: 'git', ok: false, detail: 'git not found on PATH' } : { name: 'git', ok: true, detail: stdout.trim() });
    });
  });
}

/** The workspace dir can be written to and has enough free space. */
export async function checkWorkspace(config: Pick<WorkerConfig, 'workspaceDir'>): Promise<CheckResult> {
  const probe = join(config.workspaceDir, `.probe-${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(config.workspaceDir, { recursive: true });
    await writeFile(probe, 'ok');
    await rm(probe);
    const stats = await statfs(config.workspaceDir);
    const free = stats.bavail * stats.bsize;
    const freeGiB = (free / 1024 ** 3).toFixed(1);
    return free < MIN_FREE_DISK_BYTES
      ? { name: 'workspace', ok: false, detail: `${config.workspaceDir} has only ${freeGiB} GiB free (need 1 GiB)` }
      : { name: 'workspace', ok: true, detail: `${config.workspaceDir} writable, ${freeGiB} GiB free` };
  } catch (error) {
    return { name: 'workspace', ok: false, detail: `${config.workspaceDir} not writable (${(error as NodeJS.ErrnoException).code ?? 'error'})` };
  }
}

/** `GET /v1/models` answers and lists the configured model. */
export async function checkInferenceEndpoint(client: InferenceClient, endpoint: InferenceEndpointConfig): Promise<CheckResult> {
  const name = `inference ${endpoint.name}`;
  try {
    const models = await client.listModels(endpoint);
    return models.includes(endpoint.model)
      ? { name, ok: true, detail: `${endpoint.baseUrl} serves ${endpoint.model}` }
      : { name, ok: false, detail: `${endpoint.baseUrl} answers but does not list model ${endpoint.model}` };
  } catch (error) {
    // ModelListUnavailableError says what the server did: unreachable, an HTTP status, no model list.
    return { name, ok: false, detail: `${endpoint.baseUrl} ${error instanceof Error ? error.message : String(error)}` };
  }
}

/**
 * What must hold before the daemon takes work: git present, workspace writable, the test
 * sandbox working (a worker whose bubblewrap cannot run stays not ready rather than run
 * tests unsandboxed), and at least one inference endpoint answering with its model.
 */
export async function readinessChecks(config: WorkerConfig, client: InferenceClient, sandbox: TestSandbox): Promise<CheckResult[]> {
  const inference = await Promise.all(config.inference.endpoints.map((endpoint) => checkInferenceEndpoint(client, endpoint)));
  const anyInference = inference.find((check) => check.ok) ?? inference[0];
  const checks = [await checkGit(config), await checkWorkspace(config), await checkSandbox(sandbox, config.host)];
  return anyInference ? [...checks, anyInference] : checks;
}
