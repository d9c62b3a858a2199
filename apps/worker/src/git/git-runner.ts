import { spawn } from 'node:child_process';
import type { HostEnvironment } from '../config/worker-config.loader';
import { GitCommandFailedError } from './git-command-failed.error';

/** Options for one git invocation. */
export interface GitRunOptions {
  readonly cwd: string;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Bytes for stdin, e.g. a commit message. */
  readonly input?: string;
  /** Extra environment entries (author identity); merged over the scrubbed base. */
  readonly env?: Readonly<Record<string, string>>;
}

/** What a successful git invocation printed. */
export interface GitResult {
  readonly stdout: string;
  readonly stderr: string;
}

const MAX_CAPTURE_BYTES = 32 * 1024 * 1024;

/**
 * Runs git with an argv array (never a shell), a timeout, an abort signal and a scrubbed
 * environment: no credential helpers prompting, no inherited GIT_* variables that could
 * redirect the repository, no user or system config that could add hooks or aliases.
 * Callers put `--` before anything an instruction influenced.
 */
export class GitRunner {
  constructor(
    private readonly host: HostEnvironment,
    private readonly defaultTimeoutMs = 10 * 60_000,
  ) {}

  /** Runs `git <args>` and resolves with its output, or rejects with GitCommandFailedError. */
  run(args: readonly string[], options: GitRunOptions): Promise<GitResult> {
    const env: Record<string, string> = {
      PATH: this.host.path,
      LANG: this.host.lang,
      HOME: options.cwd,
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_ASKPASS: 'true',
      SSH_ASKPASS: 'true',
      GIT_SSH_COMMAND: 'ssh -oBatchMode=yes',
      ...options.env,
    };
    const subcommand = args[0] ?? '';
    return new Promise<GitResult>((resolvePromise, reject) => {
      if (options.signal?.aborted) {
        reject(new GitCommandFailedError(subcommand, null, '', 'aborted'));
        return;
      }
      const child = spawn('git', ['-c', 'core.hooksPath=/dev/null', '-c', 'protocol.ext.allow=never', ...args], {
        cwd: options.cwd,
        env,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let stdoutBytes = 0;
      let reason: 'timeout' | 'aborted' | undefined;
      child.stdout.on('data', (chunk: Buffer) => {
        stdoutBytes += chunk.length;
        if (stdoutBytes <= MAX_CAPTURE_BYTES) stdout.push(chunk);
      });
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      const kill = (why: 'timeout' | 'aborted') => {
        reason = why;
        child.kill('SIGKILL');
      };
      const timer = setTimeout(() => kill('timeout'), options.timeoutMs ?? this.defaultTimeoutMs);
      const onAbort = () => kill('aborted');
      options.signal?.addEventListener('abort', onAbort, { once: true });
      child.stdin.on('error', () => undefined); // git may exit before reading stdin
      child.stdin.end(options.input ?? '');
      child.on('error', () => {
        clearTimeout(timer);
        reject(new GitCommandFailedError(subcommand, null, '', 'spawn'));
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        const err = Buffer.concat(stderr).toString('utf8').slice(-4096);
        if (reason) reject(new GitCommandFailedError(subcommand, code, err, reason));
        else if (code !== 0) reject(new GitCommandFailedError(subcommand, code, err, 'exit'));
        else resolvePromise({ stdout: Buffer.concat(stdout).toString('utf8'), stderr: err });
      });
    });
  }
}
