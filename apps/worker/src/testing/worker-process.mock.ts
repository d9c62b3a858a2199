import { type ChildProcess, spawn } from 'node:child_process';
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

/** A `worker run` process whose JSON log lines are collected as events. */
export class WorkerProcess {
  readonly events: Array<Record<string, unknown>> = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(configFile: string) {
    this.child = spawn(process.execPath, ['-r', '@swc-node/register', MAIN, 'run', '--config', configFile], { cwd: WORKSPACE_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    this.exited = new Promise((resolvePromise) => this.child.on('exit', (code) => resolvePromise(code)));
    let buffer = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) this.events.push(JSON.parse(line) as Record<string, unknown>);
    });
  }

  /** Resolves with the first event (past or future) named `event` that satisfies `where`. */
  async waitForEvent(event: string, where: (line: Record<string, unknown>) => boolean = () => true, timeoutMs = 60_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.events.find((line) => line['event'] === event && where(line));
      if (found) return found;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no ${event} event on the worker's stdout`);
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Kills the process if it still runs (test clean-up). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
