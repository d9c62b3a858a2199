import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const WORKSPACE_ROOT = resolve(__dirname, '..', '..', '..', '..');
const MAIN = join(WORKSPACE_ROOT, 'apps', 'worker', 'src', 'main.ts');

/** Runs the worker CLI to completion without blocking the event loop (a fake control plane may live in this process). */
export function runWorkerCli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', MAIN, ...args], { cwd: WORKSPACE_ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('close', (status) => resolvePromise({ status, stdout, stderr }));
  });
}
