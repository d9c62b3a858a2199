import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { HostEnvironment } from '../config/worker-config.loader';
import type { WorkerMetrics } from '../metrics/worker-metrics';
import type { LimitedRun, SandboxLimitName } from './sandbox/sandbox-limiter';
import { SANDBOX_STATUS_FD, type SandboxRunOptions, SandboxUnavailableError, bwrapStartedCommand, type TestSandbox } from './sandbox/test-sandbox';

/** How a test run ended. Output stays on the worker: only `started`, `exitCode`, `timedOut` and `limit` are reported. */
export interface TestRunOutcome {
  /**
   * Whether the test command itself started. False when it could not be executed (not
   * found, not executable) — `exitCode` is then not the command's: 127 when the process could
   * not be spawned at all, 1 from bwrap.
   */
  readonly started: boolean;
  readonly exitCode: number;
  readonly timedOut: boolean;
  readonly aborted: boolean;
  /** The `sandbox.limits` entry the command ran into, as the kernel tells (see LimitedRun.limitHit); absent when none. */
  readonly limit?: SandboxLimitName;
}

/** One test run: the repository's own argv, where, how long, and where its log goes. */
export interface TestRunRequest {
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  readonly logFile: string;
  /** Variables besides the runner's own (setup's mirror settings); PATH, HOME, LANG and CI stay the runner's. */
  readonly env?: Readonly<Record<string, string>>;
  /** What this run adds to the sandbox (setup: the egress socket and the relay). */
  readonly sandbox?: SandboxRunOptions;
}

const MAX_LOG_BYTES = 64 * 1024;

/**
 * Runs a repository's test command: argv without a shell, inside the sandbox (bubblewrap:
 * no network, read-only host, only its worktree writable, the worker's state, workspace
 * and config hidden — see TestSandbox), in its own process group so a timeout or cancel
 * kills everything it started, with an environment holding only PATH, a throwaway HOME,
 * LANG and CI=true (no tokens or proxies of the worker leak into it) besides what the request
 * adds. The last 64 KiB of output go to a local log file, never upstream. SETUP runs its
 * commands through it too (behind the egress relay), for the same process group and kill ladder.
 *
 * It tells whether the command started: not when the process cannot be spawned (the
 * command, or bwrap, missing from PATH); under bwrap, which starts even when the command
 * it is to run is missing, only when bwrap reports on its status pipe that it exec'd the
 * command (`bwrapStartedCommand`). A run the runner stopped itself (timeout, cancel) counts
 * as started: bwrap is killed before it can report, but a command bwrap cannot exec makes it
 * exit at once, not run until stopped.
 *
 * Under bwrap every run is put under `sandbox.limits` (the sandbox's SandboxLimiter: a cgroup
 * of its own where the host allows, rlimits in any case), and the outcome says which limit,
 * if any, ended it; the cgroup is removed, with anything left in it, before the run resolves.
 */
export class TestCommandRunner {
  /**
   * @param killGraceMs how long a stopped test command's process group has between SIGTERM
   *   and SIGKILL (`limits.killGrace`).
   * @param metrics counts the commands stopped at a sandbox limit or their timeout.
   */
  constructor(
    private readonly host: HostEnvironment,
    private readonly sandbox: TestSandbox,
    private readonly killGraceMs = 2_000,
    private readonly metrics?: Pick<WorkerMetrics, 'sandboxKilled'>,
  ) {}

  async run(request: TestRunRequest): Promise<TestRunOutcome> {
    const outcome = await this.runSandboxed(request);
    // A limit wins over the timeout a run also reached, as the job's failure code does.
    if (outcome.limit !== undefined) this.metrics?.sandboxKilled(outcome.limit);
    else if (outcome.timedOut) this.metrics?.sandboxKilled('timeout');
    return outcome;
  }

  private async runSandboxed(request: TestRunRequest): Promise<TestRunOutcome> {
    if (request.argv[0] === undefined) throw new RangeError('empty test command');
    const reportsStart = this.sandbox.mode === 'bwrap';
    // Throws (SandboxUnavailableError) rather than ever falling back to running unsandboxed.
    const sandboxed = this.sandbox.wrap(request.argv, request.cwd, { ...request.sandbox, ...(reportsStart ? { statusFd: SANDBOX_STATUS_FD } : {}) });
    const home = await mkdtemp(join(tmpdir(), 'airlock-test-home-'));
    let limited: LimitedRun | undefined;
    try {
      limited = await this.sandbox.limiter?.start();
      const [command, ...args] = (limited === undefined ? sandboxed : limited.wrap(sandboxed)) as [string, ...string[]];
      const watched = limited;
      const outcome = await new Promise<TestRunOutcome & { readonly status: string }>((resolve) => {
        let tail = Buffer.alloc(0);
        const keep = (chunk: Buffer) => {
          tail = Buffer.concat([tail, chunk]);
          if (tail.length > MAX_LOG_BYTES) tail = tail.subarray(tail.length - MAX_LOG_BYTES);
        };
        let timedOut = false;
        let aborted = false;
        // The CPU watch killed the command: it ran, though bwrap could not report its end.
        let stoppedAtLimit = false;
        let spawned = false;
        let status = '';
        const child = spawn(command, args, {
          cwd: request.cwd,
          env: { ...this.sandbox.commandEnv, ...request.env, PATH: this.host.path, HOME: this.sandbox.homeFor(home), LANG: this.host.lang, CI: 'true' },
          stdio: ['ignore', 'pipe', 'pipe', reportsStart ? 'pipe' : 'ignore'],
          detached: true,
        });
        child.on('spawn', () => {
          spawned = true;
          watched?.watchCpu(() => {
            stoppedAtLimit = true;
            stop();
          });
        });
        const statusPipe = child.stdio[SANDBOX_STATUS_FD];
        if (statusPipe instanceof Readable) statusPipe.on('data', (chunk: Buffer) => (status += chunk.toString('utf8')));
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
          setTimeout(() => killGroup('SIGKILL'), this.killGraceMs).unref();
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
        // Both piped above; a fourth stdio entry only defeats the typings' three-pipe overload.
        child.stdout!.on('data', keep);
        child.stderr!.on('data', keep);
        let finished = false;
        const finish = (exitCode: number) => {
          if (finished) return; // 'error' and 'close' can both fire
          finished = true;
          clearTimeout(timer);
          request.signal.removeEventListener('abort', onAbort);
          // Whatever the command left running in its group goes too.
          killGroup('SIGKILL');
          const started = spawned && (!reportsStart || timedOut || aborted || stoppedAtLimit || bwrapStartedCommand(status));
          const outcome = { started, exitCode, timedOut, aborted, status };
          writeFile(request.logFile, tail).then(
            () => resolve(outcome),
            () => resolve(outcome),
          );
        };
        child.on('error', () => finish(127));
        child.on('close', (code, signal) => finish(code ?? (signal ? 128 + 9 : 1)));
      });
      const { status, ...result } = outcome;
      if (limited === undefined) return result;
      // The join shell's own exit, before bwrap ever ran: the worker could not put the command in its cgroup.
      if (limited.inCgroup && status === '' && result.exitCode === 125) throw new SandboxUnavailableError('the command could not join its cgroup');
      const limit = result.started && !result.aborted ? await limited.limitHit(result.exitCode, request.cwd) : undefined;
      return limit === undefined ? result : { ...result, limit };
    } finally {
      await limited?.dispose();
      await rm(home, { recursive: true, force: true });
    }
  }
}
