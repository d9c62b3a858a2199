import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostEnvironment } from '../config/worker-config.loader';
import type { TestSandbox } from './sandbox/test-sandbox';

/** How a test run ended. Output stays on the worker: only `exitCode` and `timedOut` are reported. */
export interface TestRunOutcome {
  readonly exitCode: number;
  readonly timedOut: boolean;
  readonly aborted: boolean;
}

/** One test run: the repository's own argv, where, how long, and where its log goes. */
export interface TestRunRequest {
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  readonly logFile: string;
}

const MAX_LOG_BYTES = 64 * 1024;
const KILL_GRACE_MS = 2_000;

/**
 * Runs a repository's test command: argv without a shell, inside the sandbox (bubblewrap:
 * no network, read-only host, only its worktree writable, the worker's state, workspace
 * and config hidden — see TestSandbox), in its own process group so a timeout or cancel
 * kills everything it started, with an environment holding only PATH, a throwaway HOME,
 * LANG and CI=true (no tokens or proxies of the worker leak into it). The last 64 KiB of
 * output go to a local log file, never upstream.
 */
export class TestCommandRunner {
  constructor(
    private readonly host: HostEnvironment,
    private readonly sandbox: TestSandbox,
  ) {}

  async run(request: TestRunRequest): Promise<TestRunOutcome> {
    if (request.argv[0] === undefined) throw new RangeError('empty test command');
    // Throws (SandboxUnavailableError) rather than ever falling back to running unsandboxed.
    const [command, ...args] = this.sandbox.wrap(request.argv, request.cwd) as [string, ...string[]];
    const home = await mkdtemp(join(tmpdir(), 'airlock-test-home-'));
    try {
      return await new Promise<TestRunOutcome>((resolve) => {
        let tail = Buffer.alloc(0);
        const keep = (chunk: Buffer) => {
          tail = Buffer.concat([tail, chunk]);
          if (tail.length > MAX_LOG_BYTES) tail = tail.subarray(tail.length - MAX_LOG_BYTES);
        };
        let timedOut = false;
        let aborted = false;
        const child = spawn(command, args, {
          cwd: request.cwd,
          env: { PATH: this.host.path, HOME: this.sandbox.homeFor(home), LANG: this.host.lang, CI: 'true' },
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true,
        });
        const killGroup = (signal: NodeJS.Signals) => {
          if (child.pid === undefined) return;
          try {
            process.kill(-child.pid, signal);
          } catch {
            // The group is already gone.
          }
        };
        const stop = () => {
          killGroup('SIGTERM');
          setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS).unref();
        };
        const timer = setTimeout(() => {
          timedOut = true;
          stop();
        }, request.timeoutMs);
        const onAbort = () => {
          aborted = true;
          stop();
        };
        request.signal.addEventListener('abort', onAbort, { once: true });
        if (request.signal.aborted) onAbort();
        child.stdout.on('data', keep);
        child.stderr.on('data', keep);
        let finished = false;
        const finish = (exitCode: number) => {
          if (finished) return; // 'error' and 'close' can both fire
          finished = true;
          clearTimeout(timer);
          request.signal.removeEventListener('abort', onAbort);
          // Whatever the command left running in its group goes too.
          killGroup('SIGKILL');
          writeFile(request.logFile, tail).then(
            () => resolve({ exitCode, timedOut, aborted }),
            () => resolve({ exitCode, timedOut, aborted }),
          );
        };
        child.on('error', () => finish(127));
        child.on('close', (code, signal) => finish(code ?? (signal ? 128 + 9 : 1)));
      });
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  }
}
