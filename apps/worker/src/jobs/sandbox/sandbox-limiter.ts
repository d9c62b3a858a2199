import { randomBytes } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { constants } from 'node:os';
import { FailureCode } from '@airlock/protocol';
import type { SandboxLimits } from '../../config/worker-config.loader';
import type { FailureCodeName } from '../job-result.builder';
import { JobPhaseFailedError } from '../job-phase-failed.error';
import { COMMAND_CGROUP_PREFIX, type CgroupParent, type CommandCgroup, findCgroupParent } from './cgroup-parent';

/** `sandbox.limits` when the config names none (the schema's defaults). */
export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = { cpuSeconds: 3_600, memoryMiB: 4_096, processes: 2_048, diskMiB: 8_192 };

/** Which limit a command ran into. */
export type SandboxLimitName = 'cpu' | 'memory' | 'processes' | 'disk';

/** The failure code each limit ends a job with, whichever command (setup, baseline, test) hit it. */
export const SANDBOX_LIMIT_FAILURES = {
  cpu: FailureCode.SANDBOX_CPU_LIMIT,
  memory: FailureCode.SANDBOX_MEMORY_LIMIT,
  processes: FailureCode.SANDBOX_PROCESS_LIMIT,
  disk: FailureCode.SANDBOX_DISK_LIMIT,
} as const satisfies Record<SandboxLimitName, FailureCodeName>;

/** What each limit is called in the local failure detail: "setup command 1 of 2 ran past the sandbox's memory limit". */
export const SANDBOX_LIMIT_NAMES = {
  cpu: 'CPU time',
  memory: 'memory',
  processes: 'process',
  disk: 'file size',
} as const satisfies Record<SandboxLimitName, string>;

/** The phase error for a command that ran into `limit`; `which` names the command ("the test command at the base commit"). */
export function sandboxLimitFailure(limit: SandboxLimitName, which: string): JobPhaseFailedError {
  return new JobPhaseFailedError(SANDBOX_LIMIT_FAILURES[limit], `${which} ran past the sandbox's ${SANDBOX_LIMIT_NAMES[limit]} limit (sandbox.limits)`);
}

/** What bwrap reports for a command killed by a signal: 128 + the signal, as a shell does. */
const KILLED_BY_SIGXCPU = 128 + constants.signals.SIGXCPU;
const KILLED_BY_SIGXFSZ = 128 + constants.signals.SIGXFSZ;

/** At most this many directory entries are looked at for a file cut at the disk limit: the look stays short in a large worktree. */
const MAX_ENTRIES_SCANNED = 200_000;

/**
 * Whether a regular file of exactly `bytes`, last written at `sinceMs` or later, lies in `dir`
 * or below (symbolic links not followed; at most MAX_ENTRIES_SCANNED entries).
 */
export async function hasFileOfSize(dir: string, bytes: number, sinceMs: number): Promise<boolean> {
  const pending = [dir];
  let seen = 0;
  while (pending.length > 0 && seen < MAX_ENTRIES_SCANNED) {
    const current = pending.pop() as string;
    const entries = await readdir(current, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      seen += 1;
      const path = join(current, entry.name);
      if (entry.isDirectory()) pending.push(path);
      if (!entry.isFile()) continue;
      const info = await stat(path).catch(() => undefined);
      if (info !== undefined && info.size === bytes && info.mtimeMs >= sinceMs) return true;
    }
  }
  return false;
}

/** How often a cgroup's CPU time is read while its command runs. */
const CPU_POLL_MS = 200;

/**
 * Puts a command under `sandbox.limits`, with what the kernel offers:
 *
 * - a cgroup per command when the worker may create them (see findCgroupParent): memory and
 *   processes bounded for the command as a whole (memory.max / memory.limit_in_bytes,
 *   pids.max), its CPU time summed by the kernel and read every 200 ms, the command killed
 *   once past `cpuSeconds`; which limit was hit is read from the kernel's own counters
 *   (oom_kill, pids `max` events, CPU usage), never from the command's output;
 * - rlimits in every case (`prlimit` around bwrap, inherited by everything inside):
 *   RLIMIT_CPU per process (SIGXCPU, SIGKILL a second later) and RLIMIT_FSIZE per file
 *   (SIGXFSZ); without a cgroup also RLIMIT_DATA per process and RLIMIT_NPROC (per user
 *   across the machine, not binding root), whose refusals the command sees as failed
 *   allocations and forks and reports as it likes: then SANDBOX_MEMORY_LIMIT and
 *   SANDBOX_PROCESS_LIMIT are never reported, the command fails as itself.
 *
 * The size of the sandbox's /tmp is TestSandbox's (`--size`).
 */
export class SandboxLimiter {
  private found: { readonly parent: CgroupParent | undefined; readonly reason: string } | undefined;

  /**
   * @param cgroups the cgroup parent, `null` for none (rlimits only), or undefined to find one on first use.
   */
  constructor(
    readonly limits: SandboxLimits,
    cgroups?: CgroupParent | null,
  ) {
    if (cgroups !== undefined) this.found = { parent: cgroups ?? undefined, reason: 'cgroups not used' };
  }

  /** Which mechanism applies on this host, for `doctor` and the start-up log. */
  get mechanism(): string {
    const { parent, reason } = this.cgroups();
    return parent === undefined
      ? `rlimits only (RLIMIT_CPU, RLIMIT_DATA, RLIMIT_NPROC, RLIMIT_FSIZE): ${reason}`
      : `${parent.description}, plus RLIMIT_CPU and RLIMIT_FSIZE per process`;
  }

  /** Prepares one command's limits: its cgroup, when there is one, exists once this resolves; `dispose()` removes it. */
  async start(): Promise<LimitedRun> {
    const { parent } = this.cgroups();
    const memoryBytes = this.limits.memoryMiB * 1024 ** 2;
    const cgroup = parent === undefined ? undefined : await parent.create(`${COMMAND_CGROUP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`, { memoryBytes, processes: this.limits.processes });
    return new LimitedRun(this.limits, cgroup);
  }

  private cgroups(): { readonly parent: CgroupParent | undefined; readonly reason: string } {
    if (this.found === undefined) {
      const found = findCgroupParent();
      this.found = found.parent === undefined ? found : { parent: found.parent, reason: '' };
    }
    return this.found;
  }
}

/** One command under its limits: the argv prefix that applies them, the CPU watch, and which limit, if any, ended it. */
export class LimitedRun {
  private readonly startedAt = Date.now();
  private cpuExceeded = false;
  private watch: NodeJS.Timeout | undefined;

  constructor(
    readonly limits: SandboxLimits,
    private readonly cgroup: CommandCgroup | undefined,
  ) {}

  /**
   * `argv` (bwrap and all) behind the limits: with a cgroup, a shell that writes its own pid
   * into the cgroup first — so bwrap and everything it starts are in it from their first
   * instruction — then `prlimit`, which sets the rlimits and execs `argv`. Exit 125 from the
   * shell: the cgroup could not be joined.
   */
  wrap(argv: readonly string[]): string[] {
    const { cpuSeconds, memoryMiB, processes, diskMiB } = this.limits;
    const fileBytes = diskMiB * 1024 ** 2;
    // One second past SIGXCPU for a process that ignores it, then SIGKILL.
    const rlimits = [`--cpu=${cpuSeconds}:${cpuSeconds + 1}`, `--fsize=${fileBytes}:${fileBytes}`];
    if (this.cgroup === undefined) {
      const dataBytes = memoryMiB * 1024 ** 2;
      rlimits.push(`--data=${dataBytes}:${dataBytes}`, `--nproc=${processes}:${processes}`);
    }
    const limited = ['prlimit', ...rlimits, '--', ...argv];
    if (this.cgroup === undefined) return limited;
    const join = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"';
    return ['/bin/sh', '-c', join, 'airlock-cgroup-join', ...this.cgroup.procsFiles, '--', ...limited];
  }

  /** Whether the command runs in a cgroup of its own (else rlimits only). */
  get inCgroup(): boolean {
    return this.cgroup !== undefined;
  }

  /** With a cgroup, watches the command's CPU time and, past `cpuSeconds`, calls `exceeded` (once) and kills every process in it. */
  watchCpu(exceeded: () => void): void {
    const { cgroup } = this;
    if (cgroup === undefined || this.watch !== undefined) return;
    const limitUsec = this.limits.cpuSeconds * 1_000_000;
    let reading = false;
    this.watch = setInterval(() => {
      if (reading || this.cpuExceeded) return;
      reading = true;
      void cgroup
        .counters()
        .then(async ({ cpuUsec }) => {
          if (cpuUsec < limitUsec || this.cpuExceeded) return;
          // Said before the kill: the command may end, and be reported, while the kill still runs.
          this.cpuExceeded = true;
          exceeded();
          await cgroup.kill();
        })
        .catch(() => undefined)
        .finally(() => (reading = false));
    }, CPU_POLL_MS);
    this.watch.unref();
  }

  /**
   * Which limit ended the command, from the kernel's own account: the CPU watch killed it;
   * else, for a command that failed (a command that handled a refused fork and still passed,
   * passed), its cgroup's counters — an OOM kill, a refused fork, CPU time at the limit — or
   * the exit status bwrap reports for a command killed by SIGXFSZ (RLIMIT_FSIZE) or SIGXCPU
   * (RLIMIT_CPU; a command could exit 152 of its own accord, and is then told it ran past
   * the CPU limit: it fails either way); last, a file in `worktree` of exactly `diskMiB`, which is
   * what RLIMIT_FSIZE leaves behind (it cuts the write that crosses it at the limit) also for
   * programs that ignore SIGXFSZ and see EFBIG instead (Node.js, Python). A process inside
   * that dies of SIGXCPU while its parent goes on and exits with a code of its own is seen
   * only through the cgroup's counters.
   */
  async limitHit(exitCode: number, worktree?: string): Promise<SandboxLimitName | undefined> {
    this.stopWatch();
    if (this.cpuExceeded) return 'cpu';
    if (exitCode === 0) return undefined;
    if (this.cgroup !== undefined) {
      const counters = await this.cgroup.counters();
      if (counters.oomKills > 0) return 'memory';
      if (counters.forksRefused > 0) return 'processes';
      if (counters.cpuUsec >= this.limits.cpuSeconds * 1_000_000) return 'cpu';
    }
    // RLIMIT_CPU counts in ticks, the cgroup in nanoseconds: a process may get SIGXCPU a little before the cgroup's sum reaches the limit.
    if (exitCode === KILLED_BY_SIGXCPU) return 'cpu';
    if (exitCode === KILLED_BY_SIGXFSZ) return 'disk';
    // Written during this run only: a file an earlier command left at that size says nothing of this one. The
    // slack covers the file system's coarse clock.
    if (worktree !== undefined && (await hasFileOfSize(worktree, this.limits.diskMiB * 1024 ** 2, this.startedAt - 50))) return 'disk';
    return undefined;
  }

  /** Kills whatever the command left in its cgroup and removes the cgroup. */
  async dispose(): Promise<void> {
    this.stopWatch();
    await this.cgroup?.remove();
  }

  private stopWatch(): void {
    if (this.watch !== undefined) clearInterval(this.watch);
  }
}
