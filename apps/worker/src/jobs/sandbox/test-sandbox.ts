import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, lstatSync, mkdtempSync, realpathSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, isAbsolute, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import type { HostEnvironment, SandboxConfig, SandboxLimits, WorkerConfig } from '../../config/worker-config.loader';
import { MAX_MASKED_SOCKETS, visibleHostSockets } from './host-sockets';
import { DEFAULT_SANDBOX_LIMITS, type LimitedRun, SandboxLimiter } from './sandbox-limiter';

/** HOME inside the sandbox: a fresh, empty directory on the sandbox's own /tmp. */
export const SANDBOX_HOME = '/tmp/airlock-home';

/**
 * Where the worktree is mounted inside the sandbox, for setup and tests alike, whatever its
 * path on the host (`workspaceDir/jobs/<jobKey>`, different for every job). Absolute paths
 * that setup writes — a Python venv's scripts and `.pth` files, a `node_modules/.bin` link —
 * then stay valid when the dependency cache restores them into another job's worktree.
 * On the sandbox's own `/tmp`: bwrap cannot create a new top-level directory on the
 * read-only host root.
 */
export const SANDBOX_WORKTREE = '/tmp/airlock/repo';

/** Where setup's egress socket (the worker's proxy to the package mirrors) appears inside the sandbox. */
export const SANDBOX_EGRESS_SOCKET = '/tmp/airlock/egress.sock';

/** The pipe bwrap reports on (`--json-status-fd`, see `bwrapStartedCommand`): the first descriptor after stdio. */
export const SANDBOX_STATUS_FD = 3;

/** What the sandbox hides from the test command: the worker's secrets and shared state. */
export interface SandboxHidden {
  /** Each replaced by an empty tmpfs: `stateDir`, `workspaceDir`, the worker's HOME, `/run`. Missing ones are skipped. */
  readonly dirs: readonly string[];
  /** Each replaced by an unreadable node: the worker's config file (and credential files in HOME). Missing ones are skipped. */
  readonly files: readonly string[];
}

/** What one run adds to the sandbox; tests add nothing, setup adds its way to the mirrors. */
export interface SandboxRunOptions {
  /**
   * A unix socket on the host (the worker's egress proxy), bound at SANDBOX_EGRESS_SOCKET:
   * the sandbox still has no network of its own, only this one socket.
   */
  readonly egressSocket?: string;
  /**
   * Files of the worker's own program that the run starts (the egress relay), made visible
   * read-only at their own path even when they lie in a hidden directory (a worker installed
   * in its HOME).
   */
  readonly programFiles?: readonly string[];
  /** Where the command starts: SANDBOX_WORKTREE (default), or `/` for a program of ours that starts the repository's command there itself. */
  readonly startIn?: 'worktree' | 'root';
}

/**
 * Runs the repository's test command under bubblewrap (`bwrap`), or not at all sandboxed
 * when the operator chose `sandbox.mode: none`.
 *
 * With bwrap the command sees: the host's file system read-only; its own worktree
 * read-write (but the worktree's `.git` file read-only, so that it cannot be pointed at a
 * crafted git dir that a later `git commit` by the worker would obey); an empty `/tmp`
 * and HOME; and none of the worker's secrets or shared state — `stateDir` (identity key,
 * mac.key, nonce store, egress audit log, outbox, logs), `workspaceDir` (every mirror and
 * its git config, every other job's worktree), the worker's own HOME (ssh keys, git
 * credentials), `/run` (daemon sockets: a unix socket ignores network namespaces) and the
 * worker's config file. It has no network (`--unshare-all`: own net, pid, ipc, uts,
 * cgroup and user namespaces; even loopback is a different one), no capabilities, and it
 * dies with the worker. The worktree is mounted at SANDBOX_WORKTREE, the same path for
 * every job. Every unix socket bound to a path the command could still see (a database's
 * under /var/lib, an agent's under HOME, anything under /var/tmp) is masked at each run,
 * since connect() ignores a read-only mount; the command's /tmp is a tmpfs of
 * `limits.diskMiB`, and `limiter` puts the command under the rest of `sandbox.limits`.
 */
export class TestSandbox {
  /** Applies `sandbox.limits` to each command; undefined with `mode: none`, which limits nothing. */
  readonly limiter: SandboxLimiter | undefined;

  constructor(
    readonly mode: SandboxConfig['mode'],
    private readonly hidden: SandboxHidden,
    /** Variables every command in the sandbox gets (`sandbox.env`: toolchain locations such as RUSTUP_HOME or JAVA_HOME). */
    readonly commandEnv: Readonly<Record<string, string>> = {},
    readonly limits: SandboxLimits = DEFAULT_SANDBOX_LIMITS,
    limiter?: SandboxLimiter,
  ) {
    this.limiter = mode === 'none' ? undefined : (limiter ?? new SandboxLimiter(limits));
  }

  /** The sandbox a worker config implies. */
  static fromConfig(config: Pick<WorkerConfig, 'sandbox' | 'stateDir' | 'workspaceDir' | 'configFile' | 'host'> & Partial<Pick<WorkerConfig, 'secretFiles'>>): TestSandbox {
    return new TestSandbox(config.sandbox.mode, hiddenPathsOf(config), config.sandbox.env ?? {}, config.sandbox.limits ?? DEFAULT_SANDBOX_LIMITS);
  }

  /**
   * The argv that runs `argv` in `worktree` inside the sandbox (bwrap mode), or `argv`
   * itself (none). Throws a SandboxUnavailableError when a path to hide cannot be hidden.
   * With `statusFd`, bwrap reports on that open file descriptor whether it started the
   * command (see `bwrapStartedCommand`); the sandboxed command cannot write to it.
   */
  wrap(argv: readonly string[], worktree: string, options: SandboxRunOptions & { readonly statusFd?: number } = {}): readonly string[] {
    if (this.mode === 'none') return argv;
    const status = options.statusFd === undefined ? [] : ['--json-status-fd', String(options.statusFd)];
    return ['bwrap', ...this.bwrapOptions(worktree, options), ...status, '--', ...argv];
  }

  /** The worktree's path as the command sees it: SANDBOX_WORKTREE inside the sandbox; without one, the worktree itself. */
  worktreePath(worktree: string): string {
    return this.mode === 'none' ? worktree : SANDBOX_WORKTREE;
  }

  /** The egress socket's path as the command sees it: SANDBOX_EGRESS_SOCKET inside the sandbox; without one, the socket itself. */
  egressSocketPath(socket: string): string {
    return this.mode === 'none' ? socket : SANDBOX_EGRESS_SOCKET;
  }

  /** HOME for the command: inside the sandbox a fixed path on its own /tmp; without one, `fallback`. */
  homeFor(fallback: string): string {
    return this.mode === 'none' ? fallback : SANDBOX_HOME;
  }

  private bwrapOptions(worktree: string, run: SandboxRunOptions): string[] {
    const root = canonical(worktree);
    const tmpBytes = String(this.limits.diskMiB * 1024 ** 2);
    const options = ['--unshare-all', '--die-with-parent', '--cap-drop', 'ALL', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--size', tmpBytes, '--tmpfs', '/tmp'];
    const dirs = unique(this.hidden.dirs.map(canonical)).filter((dir) => existsSync(dir));
    if (dirs.includes('/')) throw new SandboxUnavailableError('cannot hide / (stateDir or workspaceDir is the root directory)');
    // Listed afresh for every command: a daemon may have bound a socket since the last one.
    const sockets = visibleHostSockets(dirs);
    if (sockets.length > MAX_MASKED_SOCKETS) {
      throw new SandboxUnavailableError(`${sockets.length} unix sockets outside /run and the hidden directories, more than the ${MAX_MASKED_SOCKETS} the sandbox masks`);
    }
    for (const socket of sockets) options.push('--ro-bind', '/dev/null', socket);
    // Mounts apply in order. A hidden directory holding the worktree (workspaceDir does) is
    // hidden first and the worktree bound back on top; one inside the worktree, after.
    const below = dirs.filter((dir) => dir !== root && isInside(dir, root));
    for (const dir of dirs.filter((dir) => !below.includes(dir))) options.push('--tmpfs', dir);
    for (const file of unique(this.hidden.files.map(canonical))) {
      if (existsSync(file) && !lstatSync(file).isDirectory()) options.push('--ro-bind', '/dev/null', file);
    }
    options.push('--dir', SANDBOX_HOME, '--bind', root, SANDBOX_WORKTREE);
    for (const dir of below) options.push('--tmpfs', join(SANDBOX_WORKTREE, relative(root, dir)));
    // A worktree's `.git` file names the git dir the worker's own git commands use later
    // (DELIVER): read-only, the command cannot point it at a git dir with hostile config.
    const gitLink = join(root, '.git');
    if (existsSync(gitLink)) options.push('--ro-bind', gitLink, join(SANDBOX_WORKTREE, '.git'));
    if (run.egressSocket !== undefined) options.push('--bind', run.egressSocket, SANDBOX_EGRESS_SOCKET);
    for (const file of unique((run.programFiles ?? []).map(canonical))) options.push('--ro-bind', file, file);
    options.push('--chdir', run.startIn === 'root' ? '/' : SANDBOX_WORKTREE);
    return options;
  }
}

/**
 * Whether bwrap, given `--json-status-fd`, says it started the command: bwrap itself always
 * starts, and when the command is missing or not executable it prints `bwrap: execvp <cmd>:
 * No such file or directory` and exits 1 — the exit code of a failing test. On the status fd
 * it writes `{ "child-pid": N, … }` once the sandbox exists, then `{ "exit-code": N }` only
 * if the command itself was exec'd and exited (bwrap ≥ 0.3.2). bwrap closes that fd in the
 * sandbox before the exec, so the command cannot forge the line.
 */
export function bwrapStartedCommand(status: string): boolean {
  return status.split('\n').some((line) => {
    try {
      const report: unknown = JSON.parse(line);
      return typeof report === 'object' && report !== null && typeof (report as Record<string, unknown>)['exit-code'] === 'number';
    } catch {
      return false;
    }
  });
}

/** The sandbox cannot be set up here; the worker must not run tests unsandboxed instead. */
export class SandboxUnavailableError extends Error {
  override readonly name = 'SandboxUnavailableError';
}

/** Credential stores in a HOME that cannot be hidden whole. */
const HOME_SECRET_DIRS = ['.ssh', '.gnupg', '.aws', '.azure', '.docker', '.kube', '.config/gh', '.config/gcloud', '.config/git'];
const HOME_SECRET_FILES = ['.git-credentials', '.netrc', '.npmrc', '.pypirc', '.gitconfig'];

/**
 * What to hide for a worker config: its state, its workspace, its config file, `/run`,
 * and the worker's own HOME — whole, unless a PATH entry lies inside it (hiding it would
 * hide the toolchain, e.g. a node installed by nvm); then its usual credential stores.
 */
export function hiddenPathsOf(config: Pick<WorkerConfig, 'stateDir' | 'workspaceDir' | 'configFile' | 'host'> & Partial<Pick<WorkerConfig, 'secretFiles'>>, home = homedir()): SandboxHidden {
  const dirs = [config.stateDir, config.workspaceDir, '/run'];
  // The KEK and token files may lie anywhere the host's read-only view shows.
  const files = [config.configFile, ...(config.secretFiles ?? [])];
  const pathEntries = config.host.path.split(delimiter).filter((entry) => isAbsolute(entry));
  if (home !== '' && canonical(home) !== '/') {
    if (!pathEntries.some((entry) => isInside(canonical(entry), canonical(home)))) dirs.push(home);
    else {
      dirs.push(...HOME_SECRET_DIRS.map((dir) => join(home, dir)));
      files.push(...HOME_SECRET_FILES.map((file) => join(home, file)));
    }
  }
  return { dirs, files };
}

/**
 * Proves the sandbox works on this host: runs `true` inside it, set up as for a real test
 * run (a throwaway worktree, bwrap's status pipe, the limits: cgroup, prlimit), and requires
 * bwrap to report that it started the command — which also turns away a bwrap older than
 * 0.5.0, whose missing `--size` (0.3.2: `--json-status-fd`) would otherwise fail every test
 * run. The detail names the limits' mechanism. With `mode: none` it passes with a loud
 * warning instead.
 */
export async function checkSandbox(sandbox: TestSandbox, host: HostEnvironment): Promise<{ readonly name: string; readonly ok: boolean; readonly detail: string }> {
  const name = 'sandbox';
  if (sandbox.mode === 'none') {
    return { name, ok: true, detail: SANDBOX_DISABLED_WARNING };
  }
  const missing = ['bwrap', 'prlimit'].find((program) => !isOnPath(program, host.path));
  if (missing !== undefined) return { name, ok: false, detail: sandboxBroken(`${missing} not found on PATH`) };
  const worktree = mkdtempSync(join(tmpdir(), 'airlock-sandbox-probe-'));
  let argv: readonly string[];
  let limited: LimitedRun | undefined;
  try {
    limited = await sandbox.limiter?.start();
    const wrapped = sandbox.wrap(['true'], worktree, { statusFd: SANDBOX_STATUS_FD });
    argv = limited === undefined ? wrapped : limited.wrap(wrapped);
  } catch (error) {
    await limited?.dispose();
    rmSync(worktree, { recursive: true, force: true });
    return { name, ok: false, detail: `bubblewrap sandbox cannot be set up: ${(error as Error).message}` };
  }
  const limitsDetail = sandbox.limiter === undefined ? '' : `; limits: ${sandbox.limiter.mechanism}`;
  const [command, ...args] = argv as [string, ...string[]];
  return await new Promise((resolve) => {
    const child = spawn(command, args, { env: { PATH: host.path, LANG: host.lang, HOME: sandbox.homeFor(worktree) }, stdio: ['ignore', 'ignore', 'pipe', 'pipe'], timeout: 10_000 });
    let stderr = '';
    let status = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const statusPipe = child.stdio[SANDBOX_STATUS_FD];
    if (statusPipe instanceof Readable) statusPipe.on('data', (chunk: Buffer) => (status += chunk.toString('utf8')));
    let settled = false;
    const settle = (why: string | undefined) => {
      if (settled) return; // 'error' and 'close' can both fire
      settled = true;
      rmSync(worktree, { recursive: true, force: true });
      const report =
        why === undefined
          ? { name, ok: true, detail: `bubblewrap works: no network, read-only host, worker state, workspace and config hidden${limitsDetail}` }
          : { name, ok: false, detail: sandboxBroken(why) };
      void (limited?.dispose() ?? Promise.resolve()).then(
        () => resolve(report),
        (error: Error) => resolve({ name, ok: false, detail: `the sandbox's cgroup could not be removed: ${error.message}` }),
      );
    };
    child.on('error', (error: NodeJS.ErrnoException) => settle(error.code === 'ENOENT' ? `${command} not found on PATH` : error.message));
    child.on('close', (code, signal) => {
      if (code !== 0) settle(stderr.trim().split('\n')[0] || `bwrap exited ${code ?? signal ?? 'abnormally'}`);
      else if (!bwrapStartedCommand(status)) settle('bwrap did not report starting the command: bubblewrap 0.3.2 or later is needed');
      else settle(undefined);
    });
  });
}

function sandboxBroken(why: string): string {
  return `bubblewrap sandbox does not work here (${why}); install bubblewrap 0.5.0 or later and prlimit (util-linux), and allow user namespaces, or set sandbox.mode: none to run test commands unsandboxed (not recommended)`;
}

/** Whether `program` is an executable file in one of `path`'s directories. */
function isOnPath(program: string, path: string): boolean {
  return path
    .split(delimiter)
    .filter((dir) => isAbsolute(dir))
    .some((dir) => {
      try {
        accessSync(join(dir, program), constants.X_OK);
        return statSync(join(dir, program)).isFile();
      } catch {
        return false;
      }
    });
}

/** Printed at start and by `doctor` when tests run unsandboxed. */
export const SANDBOX_DISABLED_WARNING =
  "WARNING: sandbox.mode is none: repository test commands run with the worker's own rights, network and files (its keys, mac.key, mirrors). Use only for repositories whose every allowed base branch you trust.";

function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** Whether `path` is `dir` or below it. */
function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
