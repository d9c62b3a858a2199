import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

let processGitHome: string | undefined;

/**
 * The empty folder every GitRunner of this process gives git as HOME: made once, ours
 * alone (mkdtemp), and removed when the process exits — one per process, not one per
 * runner left behind in the temp folder.
 */
function emptyGitHome(): string {
  if (processGitHome === undefined) {
    const home = mkdtempSync(join(tmpdir(), 'airlock-git-home-'));
    process.once('exit', () => rmSync(home, { recursive: true, force: true }));
    processGitHome = home;
  }
  return processGitHome;
}

const MAX_CAPTURE_BYTES = 32 * 1024 * 1024;
const MAX_STDERR_BYTES = 64 * 1024;

/** Who the worker's commits, and every reflog entry its git writes, are by: `Airlock <airlock@localhost>`. */
export const AIRLOCK_GIT_IDENTITY = { GIT_AUTHOR_NAME: 'Airlock', GIT_AUTHOR_EMAIL: 'airlock@localhost', GIT_COMMITTER_NAME: 'Airlock', GIT_COMMITTER_EMAIL: 'airlock@localhost' } as const;

/**
 * Runs git with an argv array (never a shell), a timeout, an abort signal and a scrubbed
 * environment: no credential helpers prompting, no inherited GIT_* variables that could
 * redirect the repository, no user or system config that could add hooks or aliases.
 * Callers put `--` before anything an instruction influenced.
 */
export class GitRunner {
  // An empty HOME: the worktree would do, but files the model writes there
  // (.config/git/ignore, .netrc) would then be honoured by git.
  private readonly home = emptyGitHome();

  constructor(
    private readonly host: HostEnvironment,
    private readonly defaultTimeoutMs = 10 * 60_000,
    private readonly maxStdoutBytes = MAX_CAPTURE_BYTES,
  ) {}

  /** Runs `git <args>` and resolves with its output, or rejects with GitCommandFailedError. */
  run(args: readonly string[], options: GitRunOptions): Promise<GitResult> {
    const env: Record<string, string> = {
      PATH: this.host.path,
      LANG: this.host.lang,
      HOME: this.home,
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_ASKPASS: 'true',
      SSH_ASKPASS: 'true',
      GIT_SSH_COMMAND: 'ssh -oBatchMode=yes',
      // Every ref git writes gets a reflog entry signed by the committer. Without one, git asks
      // the system for the user (getpwuid) and the host's canonical name (getaddrinfo): a DNS
      // query wherever the host name is not in /etc/hosts (seen by e2e/src/worker-egress).
      ...AIRLOCK_GIT_IDENTITY,
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
      let stderr = Buffer.alloc(0);
      let stdoutBytes = 0;
      let reason: 'timeout' | 'aborted' | 'output-too-large' | undefined;
      child.stdout.on('data', (chunk: Buffer) => {
        stdoutBytes += chunk.length;
        // A cut-off diff would yield wrong counts and a wrong MAC: fail rather than truncate.
        if (stdoutBytes > this.maxStdoutBytes) kill('output-too-large');
        else stdout.push(chunk);
      });
      child.stderr.on('data', (chunk: Buffer) => {
        const joined = Buffer.concat([stderr, chunk]);
        stderr = joined.length > MAX_STDERR_BYTES ? joined.subarray(joined.length - MAX_STDERR_BYTES) : joined;
      });
      const kill = (why: 'timeout' | 'aborted' | 'output-too-large') => {
        if (reason) return;
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
        const err = stderr.toString('utf8').slice(-4096);
        if (reason) reject(new GitCommandFailedError(subcommand, code, err, reason));
        else if (code !== 0) reject(new GitCommandFailedError(subcommand, code, err, 'exit'));
        else resolvePromise({ stdout: Buffer.concat(stdout).toString('utf8'), stderr: err });
      });
    });
  }
}
