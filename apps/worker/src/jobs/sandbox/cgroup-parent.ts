import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** What the kernel counted for one command's cgroup. */
export interface CgroupCounters {
  /** CPU time of all its processes, past and present, in microseconds. */
  readonly cpuUsec: number;
  /** Processes the OOM killer ended because the cgroup was at its memory limit. */
  readonly oomKills: number;
  /** Forks (and clones) refused because the cgroup was at its process limit. */
  readonly forksRefused: number;
}

/** One command's cgroup (under v1, one per controller): its limits set, joined by the command's wrapper, read and removed by the worker. */
export interface CommandCgroup {
  /** The `cgroup.procs` files the command's wrapper writes its own pid into before it execs the sandbox. */
  readonly procsFiles: readonly string[];
  counters(): Promise<CgroupCounters>;
  /** Sends SIGKILL to every process in it. */
  kill(): Promise<void>;
  /** Kills whatever is left in it and removes it. */
  remove(): Promise<void>;
}

/** The limits a command's cgroup is created with. */
export interface CgroupLimits {
  readonly memoryBytes: number;
  readonly processes: number;
}

/** A cgroup the worker may create children in, each child with its own memory and process limit and CPU accounting. */
export interface CgroupParent {
  /** Which hierarchy and where, for `doctor` and the docs: `cgroup v2 at /sys/fs/cgroup/…`. */
  readonly description: string;
  create(name: string, limits: CgroupLimits): Promise<CommandCgroup>;
}

/** Where the kernel shows cgroups; parameters so that a spec can stand a directory tree in for them. */
export interface CgroupHost {
  /** The cgroup file system's mount point (`/sys/fs/cgroup`). */
  readonly root: string;
  /** `/proc/self/cgroup`'s text: which cgroup this process is in, per hierarchy. */
  readonly selfCgroup: string;
  /** This process's pid, which a v2 parent may move into a leaf of its own cgroup (see CgroupV2Parent). */
  readonly pid: number;
}

/** The controllers v2 must delegate: memory (memory.max, oom_kill), pids (pids.max) and cpu (usage accounting). */
const V2_CONTROLLERS = ['memory', 'pids', 'cpu'] as const;

/** The leaf a v2 worker moves itself into, so that its own cgroup may enable controllers for its children. */
export const V2_WORKER_LEAF = 'airlock-worker';

/**
 * The cgroup the worker may put its commands in, or why there is none: a cgroup v2
 * hierarchy with memory, pids and cpu delegated to the worker's own cgroup (systemd
 * `Delegate=yes`), else cgroup v1 memory, pids and cpuacct hierarchies the worker may write
 * (root on a v1 host). Probes by creating and removing a child; touches nothing else except,
 * under v2, moving this process into `<own>/airlock-worker` when its own cgroup must stop
 * holding processes to delegate controllers (the kernel's "no internal processes" rule).
 */
export function findCgroupParent(host: CgroupHost = defaultCgroupHost()): { readonly parent: CgroupParent } | { readonly parent: undefined; readonly reason: string } {
  const lines = host.selfCgroup.split('\n').filter(Boolean);
  const reasons: string[] = [];
  const unified = lines.find((line) => line.startsWith('0::'));
  if (unified !== undefined) {
    const v2 = CgroupV2Parent.find(host, unified.slice(3));
    if ('parent' in v2) return v2;
    reasons.push(v2.reason);
  }
  const v1 = CgroupV1Parent.find(host, lines);
  if ('parent' in v1) return v1;
  reasons.push(v1.reason);
  return { parent: undefined, reason: reasons.join('; ') };
}

function defaultCgroupHost(): CgroupHost {
  let selfCgroup = '';
  try {
    selfCgroup = readFileSync('/proc/self/cgroup', 'utf8');
  } catch {
    // Not Linux, or no /proc: no cgroups.
  }
  return { root: '/sys/fs/cgroup', selfCgroup, pid: process.pid };
}

/** cgroup v2: one directory per command under the worker's own (delegated) cgroup. */
export class CgroupV2Parent implements CgroupParent {
  readonly description: string;

  private constructor(private readonly dir: string) {
    this.description = `cgroup v2 at ${dir}`;
  }

  static find(host: CgroupHost, ownPath: string): { readonly parent: CgroupV2Parent } | { readonly reason: string } {
    // A pure v2 host mounts it at the root; a hybrid one at `unified`, usually with no controller in it.
    const mount = [host.root, join(host.root, 'unified')].find((dir) => existsSync(join(dir, 'cgroup.controllers')));
    if (mount === undefined) return { reason: 'no cgroup v2 hierarchy mounted' };
    const own = join(mount, ownPath);
    const available = readWords(join(own, 'cgroup.controllers'));
    const missing = V2_CONTROLLERS.filter((controller) => !available.includes(controller));
    if (missing.length > 0) return { reason: `cgroup v2 at ${own} lacks the ${missing.join(', ')} controller(s) (not delegated to the worker)` };
    try {
      enableV2Controllers(own, host.pid);
      probe(own);
      sweepLeftovers(own);
    } catch (error) {
      return { reason: `cgroup v2 at ${own} is not writable by the worker (${errorCode(error)}; run it with systemd Delegate=yes)` };
    }
    return { parent: new CgroupV2Parent(own) };
  }

  async create(name: string, limits: CgroupLimits): Promise<CommandCgroup> {
    const dir = join(this.dir, name);
    await mkdir(dir);
    try {
      await writeFile(join(dir, 'memory.max'), String(limits.memoryBytes));
      // Swap would let a command past its memory limit, slowly; not every kernel has swap accounting.
      await writeFile(join(dir, 'memory.swap.max'), '0').catch(ignoreMissing);
      // On OOM the whole command dies, never a part of it that a runner might quietly restart.
      await writeFile(join(dir, 'memory.oom.group'), '1').catch(ignoreMissing);
      await writeFile(join(dir, 'pids.max'), String(limits.processes));
    } catch (error) {
      await rmdir(dir).catch(() => undefined);
      throw error;
    }
    return new CgroupV2Command(dir);
  }
}

/** Enables V2_CONTROLLERS for the children of `own`, moving `pid` into a leaf first when `own` holds processes. */
function enableV2Controllers(own: string, pid: number): void {
  const enabled = readWords(join(own, 'cgroup.subtree_control'));
  if (V2_CONTROLLERS.every((controller) => enabled.includes(controller))) return;
  const enable = V2_CONTROLLERS.map((controller) => `+${controller}`).join(' ');
  try {
    writeFileSync(join(own, 'cgroup.subtree_control'), enable);
  } catch (error) {
    if (errorCode(error) !== 'EBUSY') throw error;
    // EBUSY: `own` holds processes (this one, under systemd). Once this process is in a leaf of its own, `own` may delegate.
    mkdirSync(join(own, V2_WORKER_LEAF), { recursive: true });
    writeFileSync(join(own, V2_WORKER_LEAF, 'cgroup.procs'), String(pid));
    writeFileSync(join(own, 'cgroup.subtree_control'), enable);
  }
}

class CgroupV2Command implements CommandCgroup {
  readonly procsFiles: readonly string[];

  constructor(private readonly dir: string) {
    this.procsFiles = [join(dir, 'cgroup.procs')];
  }

  async counters(): Promise<CgroupCounters> {
    const [cpu, memory, pids] = await Promise.all(['cpu.stat', 'memory.events', 'pids.events'].map((file) => readKeyed(join(this.dir, file))));
    return { cpuUsec: cpu?.get('usage_usec') ?? 0, oomKills: memory?.get('oom_kill') ?? 0, forksRefused: pids?.get('max') ?? 0 };
  }

  async kill(): Promise<void> {
    // cgroup.kill (Linux 5.14+) kills every process in one step, however fast they fork.
    const killed = await writeFile(join(this.dir, 'cgroup.kill'), '1').then(
      () => true,
      () => false,
    );
    if (!killed) await killProcsIn([this.dir]);
  }

  async remove(): Promise<void> {
    await this.kill();
    await removeWhenEmpty([this.dir]);
  }
}

/** The v1 controllers used, each with a file its children have (a hierarchy's root may lack it: pids.max). */
const V1_CONTROLLERS = { memory: 'memory.limit_in_bytes', pids: 'pids.max', cpuacct: 'cpuacct.usage' } as const;
type V1Controller = keyof typeof V1_CONTROLLERS;

/** cgroup v1: one directory per command in each of the memory, pids and cpuacct hierarchies, under the worker's own cgroup in each. */
export class CgroupV1Parent implements CgroupParent {
  readonly description: string;

  private constructor(private readonly dirs: Readonly<Record<V1Controller, string>>) {
    this.description = `cgroup v1 (memory at ${dirs.memory}, pids at ${dirs.pids}, cpuacct at ${dirs.cpuacct})`;
  }

  static find(host: CgroupHost, lines: readonly string[]): { readonly parent: CgroupV1Parent } | { readonly reason: string } {
    const dirs: Partial<Record<V1Controller, string>> = {};
    for (const controller of Object.keys(V1_CONTROLLERS) as V1Controller[]) {
      // `4:memory:/path`, or `2:cpu,cpuacct:/path`; the mount is reachable by the controller's own name on systemd hosts.
      const line = lines.map((entry) => /^\d+:([^:]*):(.*)$/.exec(entry)).find((match) => match?.[1]?.split(',').includes(controller));
      const dir = line === undefined || line === null ? undefined : join(host.root, controller, line[2] ?? '/');
      if (dir === undefined || !existsSync(join(dir, 'cgroup.procs'))) return { reason: `no cgroup v1 ${controller} hierarchy` };
      dirs[controller] = dir;
    }
    const found = dirs as Record<V1Controller, string>;
    try {
      for (const [controller, dir] of Object.entries(found)) {
        if (!probe(dir, V1_CONTROLLERS[controller as V1Controller])) return { reason: `no cgroup v1 ${controller} controller at ${dir}` };
        sweepLeftovers(dir);
      }
    } catch (error) {
      return { reason: `cgroup v1 hierarchies are not writable by the worker (${errorCode(error)})` };
    }
    return { parent: new CgroupV1Parent(found) };
  }

  async create(name: string, limits: CgroupLimits): Promise<CommandCgroup> {
    const dirs = { memory: join(this.dirs.memory, name), pids: join(this.dirs.pids, name), cpuacct: join(this.dirs.cpuacct, name) };
    const made: string[] = [];
    try {
      for (const dir of Object.values(dirs)) {
        await mkdir(dir);
        made.push(dir);
      }
      await writeFile(join(dirs.memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
      // memory + swap: no further than memory alone. Absent without swap accounting.
      await writeFile(join(dirs.memory, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes)).catch(ignoreMissing);
      await writeFile(join(dirs.pids, 'pids.max'), String(limits.processes));
    } catch (error) {
      for (const dir of made) await rmdir(dir).catch(() => undefined);
      throw error;
    }
    return new CgroupV1Command(dirs);
  }
}

class CgroupV1Command implements CommandCgroup {
  readonly procsFiles: readonly string[];

  constructor(private readonly dirs: Readonly<Record<V1Controller, string>>) {
    this.procsFiles = Object.values(dirs).map((dir) => join(dir, 'cgroup.procs'));
  }

  async counters(): Promise<CgroupCounters> {
    const [usage, oom, pids] = await Promise.all([
      readFile(join(this.dirs.cpuacct, 'cpuacct.usage'), 'utf8').catch(() => '0'),
      readKeyed(join(this.dirs.memory, 'memory.oom_control')),
      readKeyed(join(this.dirs.pids, 'pids.events')),
    ]);
    return { cpuUsec: Math.floor(Number(usage.trim()) / 1000) || 0, oomKills: oom?.get('oom_kill') ?? 0, forksRefused: pids?.get('max') ?? 0 };
  }

  kill(): Promise<void> {
    return killProcsIn([this.dirs.pids]);
  }

  async remove(): Promise<void> {
    await this.kill();
    await removeWhenEmpty(Object.values(this.dirs));
  }
}

/** Creates and removes a child, the one sure way to know the worker may; whether the child had `file` (the controller's). */
function probe(dir: string, file?: string): boolean {
  const child = join(dir, `airlock-probe-${process.pid}`);
  mkdirSync(child);
  try {
    return file === undefined || existsSync(join(child, file));
  } finally {
    rmdirSync(child);
  }
}

/** What the worker names its commands' cgroups: `airlock-sandbox-<worker pid>-<random>`. */
export const COMMAND_CGROUP_PREFIX = 'airlock-sandbox-';

/**
 * Removes the empty command cgroups a worker that no longer runs left in `dir` (killed before
 * it could remove them). A cgroup with processes cannot be removed and stays: rmdir refuses.
 */
function sweepLeftovers(dir: string): void {
  for (const name of readdirSync(dir)) {
    const pid = Number(new RegExp(`^${COMMAND_CGROUP_PREFIX}(\\d+)-`).exec(name)?.[1] ?? NaN);
    if (Number.isNaN(pid) || isAlive(pid)) continue;
    try {
      rmdirSync(join(dir, name));
    } catch {
      // Not empty, or already gone.
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

/** SIGKILL to every pid listed, a few rounds: a process may fork while its siblings are killed (the pids limit bounds how many). */
async function killProcsIn(dirs: readonly string[]): Promise<void> {
  for (let round = 0; round < 20; round += 1) {
    const pids = (await Promise.all(dirs.map((dir) => readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '')))).join('\n').split('\n').filter(Boolean).map(Number);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    await sleep(10);
  }
}

/** rmdir as soon as the killed processes have left (EBUSY until then), for up to 5 s. */
async function removeWhenEmpty(dirs: readonly string[]): Promise<void> {
  for (const dir of dirs) {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await rmdir(dir);
        break;
      } catch (error) {
        if (errorCode(error) === 'ENOENT') break;
        if (attempt >= 250) throw error;
        await sleep(20);
      }
    }
  }
}

/** A cgroup file of `key value` lines (cpu.stat, memory.events, pids.events, memory.oom_control); undefined when absent. */
async function readKeyed(file: string): Promise<Map<string, number> | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key !== undefined && value !== undefined && /^\d+$/.test(value)) values.set(key, Number(value));
  }
  return values;
}

function readWords(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

function ignoreMissing(error: unknown): void {
  if (errorCode(error) !== 'ENOENT') throw error;
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
}
