import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { FailureCode } from '@airlock/protocol';
import type { WorkerConfig } from '../../config/worker-config.loader';
import type { Logger } from '../../logging/json-logger';
import { JobPhaseFailedError } from '../job-phase-failed.error';
import type { SetupConfig } from '../repo-config/repo-config.schema';
import { SANDBOX_LIMIT_NAMES, sandboxLimitFailure } from '../sandbox/sandbox-limiter';
import type { TestSandbox } from '../sandbox/test-sandbox';
import type { TestCommandRunner } from '../test-command.runner';
import { EgressProxy, type EgressProxyLimits } from './egress-proxy';
import { isLoopbackMirror } from './egress-relay';
import { nodeProgramArgv, nodeProgramFiles } from './node-program';

/** The relay program (`egress-relay.ts`, or `.js` once compiled), beside this module. */
export const EGRESS_RELAY_ENTRY = join(__dirname, `egress-relay${extname(__filename)}`);

/**
 * The port of the proxy inside the setup sandbox: fixed, so that tools configured by file
 * rather than by HTTP_PROXY (Maven's settings.xml, Gradle's properties) can name it. The
 * sandbox's loopback is its own, so the port is free unless a loopback mirror uses it.
 */
export const SANDBOX_PROXY_PORT = 3128;

/** Refusals logged one by one per setup run; past it only the total, so a setup cannot flood the log. */
const MAX_REFUSALS_LOGGED = 20;

/** One setup run: the commands, where, and where their output goes. */
export interface SetupRunRequest {
  readonly setup: Pick<SetupConfig, 'commands' | 'timeout'>;
  /** The worktree on the host. */
  readonly worktree: string;
  /** `<stateDir>/job-logs/<jobKey>.setup.log`: every command's output, local only. */
  readonly logFile: string;
  readonly signal: AbortSignal;
  /** The job's logger (local only). */
  readonly logger: Logger;
}

/** What setup takes from the worker's config. */
export interface SetupRunnerConfig {
  readonly setup: Pick<WorkerConfig['setup'], 'mirrors' | 'env' | 'timeout'>;
}

/**
 * Runs a repository's setup commands in order, each in the sandbox the tests use (bwrap:
 * own network namespace, read-only host, the worker's state hidden, the worktree at the
 * fixed SANDBOX_WORKTREE) and through the same TestCommandRunner (process group, timeout,
 * abort, the `limits.killGrace` kill ladder). The only network they have is an egress proxy
 * started for this run alone on a unix socket, which reaches exactly `setup.mirrors`; the
 * egress relay inside the sandbox (started by bwrap, it starts the command) carries TCP to
 * it. Their environment: PATH, a throwaway HOME, LANG, CI=true, the proxy variables and
 * `setup.env` — nothing else of the worker's.
 *
 * Throws JobPhaseFailedError SETUP_FAILED (a command exits non-zero or cannot start),
 * SETUP_TIMED_OUT (the whole setup outlives its timeout), or the SANDBOX_*_LIMIT code of the
 * `sandbox.limits` entry a command ran past (each command has the whole of them); returns
 * early on abort, for the phase runner to report.
 */
export class SetupRunner {
  constructor(
    private readonly commands: Pick<TestCommandRunner, 'run'>,
    private readonly sandbox: Pick<TestSandbox, 'mode' | 'worktreePath' | 'egressSocketPath'>,
    private readonly config: SetupRunnerConfig,
    private readonly proxyLimits: Partial<EgressProxyLimits> = {},
    private readonly relayEntry = EGRESS_RELAY_ENTRY,
  ) {}

  async run(request: SetupRunRequest): Promise<void> {
    const { setup, logger } = request;
    const timeoutMs = setup.timeout ?? this.config.setup.timeout;
    const deadline = Date.now() + timeoutMs;
    // A fresh 0700 directory: only the worker's user can reach the socket from the host.
    const runDir = await mkdtemp(join(tmpdir(), 'airlock-setup-'));
    let refusals = 0;
    const proxy = await EgressProxy.start({
      socketPath: join(runDir, 'egress.sock'),
      allowed: this.config.setup.mirrors,
      limits: this.proxyLimits,
      onRefused: (target) => {
        refusals += 1;
        if (refusals <= MAX_REFUSALS_LOGGED) logger.warn('setup-egress-refused', { target: target.slice(0, 300) });
      },
    }).catch(async (error: unknown) => {
      await rm(runDir, { recursive: true, force: true });
      throw error;
    });
    try {
      await writeFile(request.logFile, '');
      const total = setup.commands.length;
      for (const [index, argv] of setup.commands.entries()) {
        const which = `setup command ${index + 1} of ${total}`;
        const remainingMs = deadline - Date.now();
        if (remainingMs <= 0) throw new JobPhaseFailedError(FailureCode.SETUP_TIMED_OUT, `setup timed out after ${timeoutMs} ms, before ${which}`);
        await appendFile(request.logFile, `$ ${JSON.stringify(argv)}\n`);
        const partLog = join(runDir, `command-${index + 1}.log`);
        const outcome = await this.commands.run({
          argv: this.relayArgv(join(runDir, 'egress.sock'), request.worktree, argv),
          cwd: request.worktree,
          timeoutMs: remainingMs,
          signal: request.signal,
          logFile: partLog,
          env: this.config.setup.env,
          sandbox: { egressSocket: join(runDir, 'egress.sock'), programFiles: nodeProgramFiles(nodeProgramArgv(this.relayEntry)), startIn: 'root' },
        });
        const output = await readFile(partLog).catch(() => Buffer.alloc(0));
        const ending = outcome.limit !== undefined ? `${SANDBOX_LIMIT_NAMES[outcome.limit]} limit` : outcome.timedOut ? 'timed out' : `exit ${outcome.exitCode}`;
        await appendFile(request.logFile, Buffer.concat([output, Buffer.from(`\n[${ending}]\n`)]));
        request.signal.throwIfAborted();
        if (outcome.limit !== undefined) throw sandboxLimitFailure(outcome.limit, which);
        if (outcome.timedOut) throw new JobPhaseFailedError(FailureCode.SETUP_TIMED_OUT, `setup timed out after ${timeoutMs} ms, in ${which}`);
        if (!outcome.started) throw new JobPhaseFailedError(FailureCode.SETUP_FAILED, `${which} could not start`);
        if (outcome.exitCode !== 0) throw new JobPhaseFailedError(FailureCode.SETUP_FAILED, `${which} exited ${outcome.exitCode}`);
      }
    } finally {
      if (refusals > MAX_REFUSALS_LOGGED) logger.warn('setup-egress-refusals', { total: refusals, logged: MAX_REFUSALS_LOGGED });
      await proxy.close();
      await rm(runDir, { recursive: true, force: true });
    }
  }

  /** The relay's argv around the command: it listens inside the sandbox, then starts the command in the worktree. */
  private relayArgv(socket: string, worktree: string, argv: readonly string[]): string[] {
    const sandboxed = this.sandbox.mode === 'bwrap';
    // Without the sandbox the host's loopback mirrors are reachable directly, and their ports taken.
    const tunnels = sandboxed ? this.config.setup.mirrors.filter(isLoopbackMirror) : [];
    const proxyPortTaken = tunnels.some((mirror) => mirror.endsWith(`:${SANDBOX_PROXY_PORT}`));
    const proxyPort = sandboxed && !proxyPortTaken ? SANDBOX_PROXY_PORT : 0;
    return [
      ...nodeProgramArgv(this.relayEntry),
      '--socket',
      this.sandbox.egressSocketPath(socket),
      '--cwd',
      this.sandbox.worktreePath(worktree),
      '--proxy-port',
      String(proxyPort),
      ...tunnels.flatMap((mirror) => ['--tunnel', mirror]),
      '--',
      ...argv,
    ];
  }
}
