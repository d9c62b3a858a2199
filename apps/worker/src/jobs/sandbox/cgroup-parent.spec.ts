import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CgroupV2Parent, findCgroupParent } from './cgroup-parent';
import { LimitedRun } from './sandbox-limiter';

/**
 * The cgroup v2 path as customers have it (systemd `Delegate=yes`), which the build machines'
 * cgroup v1 kernel cannot give a real test: a directory tree stands in for /sys/fs/cgroup, with
 * the files the kernel would show. What the kernel does with them is the integration spec's
 * (sandbox-limits.integration-spec.ts, on the v1 hierarchies here).
 */
describe('CgroupV2Parent (a directory tree in place of /sys/fs/cgroup)', () => {
  let root: string;
  const service = '/system.slice/airlock-worker.service';
  const own = () => join(root, service);
  const host = () => ({ root, selfCgroup: `0::${service}\n`, pid: 4242 });

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'airlock-cgroup-spec-'));
    writeFileSync(join(root, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma misc\n');
    mkdirSync(own(), { recursive: true });
    writeFileSync(join(own(), 'cgroup.controllers'), 'cpu memory pids\n');
    writeFileSync(join(own(), 'cgroup.subtree_control'), '');
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('uses the worker’s own delegated cgroup, enabling memory, pids and cpu for its children', () => {
    const found = findCgroupParent(host());
    expect(found.parent?.description).toBe(`cgroup v2 at ${own()}`);
    expect(readFileSync(join(own(), 'cgroup.subtree_control'), 'utf8')).toBe('+memory +pids +cpu');
  });

  it('refuses a cgroup without the controllers delegated, saying which are missing, and falls back to rlimits', () => {
    writeFileSync(join(own(), 'cgroup.controllers'), 'cpu\n');
    const found = findCgroupParent(host());
    expect(found.parent).toBeUndefined();
    expect('reason' in found ? found.reason : '').toMatch(/lacks the memory, pids controller\(s\)/);
  });

  it('creates one cgroup per command with memory.max, no swap, group OOM kill and pids.max', async () => {
    const found = CgroupV2Parent.find(host(), service);
    if (!('parent' in found)) throw new Error(found.reason);
    const cgroup = await found.parent.create('airlock-sandbox-1-abc', { memoryBytes: 64 * 1024 ** 2, processes: 100 });
    const dir = join(own(), 'airlock-sandbox-1-abc');
    const read = (file: string) => readFileSync(join(dir, file), 'utf8');
    expect([read('memory.max'), read('memory.swap.max'), read('memory.oom.group'), read('pids.max')]).toEqual([String(64 * 1024 ** 2), '0', '1', '100']);
    expect(cgroup.procsFiles).toEqual([join(dir, 'cgroup.procs')]);
  });

  it.each([
    ['memory', { 'memory.events': 'low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 1\n' }],
    ['processes', { 'pids.events': 'max 3\n' }],
    ['cpu', { 'cpu.stat': 'usage_usec 2000001\nuser_usec 1900000\nsystem_usec 100001\n' }],
  ] as const)("reads a command that failed past the %s limit from the kernel's counters", async (limit, files) => {
    const found = CgroupV2Parent.find(host(), service);
    if (!('parent' in found)) throw new Error(found.reason);
    const cgroup = await found.parent.create('airlock-sandbox-1-def', { memoryBytes: 64 * 1024 ** 2, processes: 100 });
    const run = new LimitedRun({ cpuSeconds: 2, memoryMiB: 64, processes: 100, diskMiB: 8 }, cgroup);
    expect(await run.limitHit(1)).toBeUndefined();
    for (const [file, text] of Object.entries(files)) writeFileSync(join(own(), 'airlock-sandbox-1-def', file), text);
    expect(await run.limitHit(137)).toBe(limit);
    // A command that passed anyway (it handled the refused fork, a child's OOM kill) passed.
    expect(await run.limitHit(0)).toBeUndefined();
  });

  it('joins the cgroup before prlimit and bwrap, and leaves RLIMIT_DATA and RLIMIT_NPROC to the cgroup', async () => {
    const found = CgroupV2Parent.find(host(), service);
    if (!('parent' in found)) throw new Error(found.reason);
    const cgroup = await found.parent.create('airlock-sandbox-1-ghi', { memoryBytes: 64 * 1024 ** 2, processes: 100 });
    const argv = new LimitedRun({ cpuSeconds: 2, memoryMiB: 64, processes: 100, diskMiB: 8 }, cgroup).wrap(['bwrap', '--', 'npm', 'test']);
    expect(argv.slice(3)).toEqual(['airlock-cgroup-join', ...cgroup.procsFiles, '--', 'prlimit', '--cpu=2:3', `--fsize=${8 * 1024 ** 2}:${8 * 1024 ** 2}`, '--', 'bwrap', '--', 'npm', 'test']);
    const rlimitsOnly = new LimitedRun({ cpuSeconds: 2, memoryMiB: 64, processes: 100, diskMiB: 8 }, undefined).wrap(['bwrap']);
    expect(rlimitsOnly).toEqual(['prlimit', '--cpu=2:3', `--fsize=${8 * 1024 ** 2}:${8 * 1024 ** 2}`, `--data=${64 * 1024 ** 2}:${64 * 1024 ** 2}`, '--nproc=100:100', '--', 'bwrap']);
  });
});
