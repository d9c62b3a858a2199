import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FailureCode } from '@airlock/protocol';
import type { SandboxLimits } from '../../config/worker-config.loader';
import { JsonLogger } from '../../logging/json-logger';
import { JobPhaseFailedError } from '../job-phase-failed.error';
import { SetupRunner } from '../setup/setup.runner';
import { TestCommandRunner } from '../test-command.runner';
import { findCgroupParent } from './cgroup-parent';
import { type SandboxLimitName, SandboxLimiter } from './sandbox-limiter';
import { TestSandbox, hiddenPathsOf } from './test-sandbox';

jest.setTimeout(60_000);

/**
 * Small limits, so that each is reached in a second or two — yet room for setup's egress
 * relay, which from the sources (`-r @swc-node/register`) decodes a 30 MiB native addon into
 * its HOME on /tmp first.
 */
const LIMITS: SandboxLimits = { cpuSeconds: 2, memoryMiB: 256, processes: 64, diskMiB: 48 };
const PAST_DISK_LIMIT = 64 * 1024 * 1024;

/** A command that runs into each limit, and nothing else: none of them runs out of wall time (the timeout is 30 s). */
const EXCEEDS: Record<SandboxLimitName, readonly string[]> = {
  cpu: ['node', '-e', 'for (;;) {}'],
  memory: ['node', '-e', 'const kept = []; for (;;) kept.push(Buffer.alloc(1 << 20, 1))'],
  // Bounded: at most 200 sleeps, each gone within 5 s even if nothing killed it.
  processes: ['sh', '-c', 'i=0; while [ $i -lt 200 ]; do sleep 5 & i=$((i+1)); done; wait'],
  disk: ['node', '-e', `require('fs').writeFileSync('big.bin', Buffer.alloc(${PAST_DISK_LIMIT}, 1))`],
};

/** Within every limit: 32 MiB held, 8 processes at once, a 512 KiB file in the worktree and one in /tmp, a fraction of a second of CPU. */
const WITHIN = [
  'sh',
  '-c',
  'for i in 1 2 3 4 5 6 7 8; do sleep 0.2 & done; wait; node -e "const b = Buffer.alloc(32 << 20, 1); require(\'fs\').writeFileSync(\'half.bin\', b.subarray(0, 512 << 10)); require(\'fs\').writeFileSync(\'/tmp/half.bin\', b.subarray(0, 512 << 10))"',
];

const cgroups = findCgroupParent();

/** A fresh path under `dir` for a scratch directory, created by the hooks that use it. */
function scratchName(dir: string, prefix: string): string {
  return join(dir, `${prefix}${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * `sandbox.limits` against the real kernel: real bwrap, real cgroups where this host lets the
 * worker create them (cgroup v1 on the build machines, v2 with delegation at customers), real
 * rlimits. Each limit is reached by a command that does nothing but reach it, and must come
 * back as that limit — from setup as its own failure code — while a command within them passes.
 */
describe('sandbox limits (real bwrap, real kernel)', () => {
  // Named now, made in beforeAll: a run filtered to other tests (-t) runs no hook here, and must leave nothing behind.
  const base = scratchName(tmpdir(), 'airlock-limits-it-');
  const stateDir = join(base, 'state');
  const workspaceDir = join(base, 'workspace');
  const worktree = join(workspaceDir, 'jobs', 'job-1');
  const host = { path: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin', lang: 'C.UTF-8' };
  const config = { stateDir, workspaceDir, configFile: join(base, 'worker.yml'), host };
  const sandboxWith = (limits: SandboxLimits, limiter?: SandboxLimiter) => new TestSandbox('bwrap', hiddenPathsOf(config), {}, limits, limiter);
  const run = (sandbox: TestSandbox, argv: readonly string[]) =>
    new TestCommandRunner(host, sandbox, 200).run({ argv, cwd: worktree, timeoutMs: 30_000, signal: new AbortController().signal, logFile: join(base, 'test.log') });
  const setupRun = (sandbox: TestSandbox, argv: readonly string[]) =>
    new SetupRunner(new TestCommandRunner(host, sandbox, 200), sandbox, { setup: { mirrors: [], env: {}, timeout: 30_000 } }).run({
      setup: { commands: [[...argv]] },
      worktree,
      logFile: join(base, 'setup.log'),
      signal: new AbortController().signal,
      logger: new JsonLogger(() => undefined),
    });
  /** What setup threw: the failure code, or 'passed'. */
  const setupCode = (sandbox: TestSandbox, argv: readonly string[]) =>
    setupRun(sandbox, argv).then(
      () => 'passed',
      (error: unknown) => (error instanceof JobPhaseFailedError ? error.failureCode : `not a phase failure: ${String(error)}`),
    );

  beforeAll(() => {
    for (const dir of [stateDir, worktree]) mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(join(worktree, '.git'), 'gitdir: /nowhere\n');
  });

  afterEach(() => {
    for (const name of readdirSync(worktree)) if (name.endsWith('.bin')) rmSync(join(worktree, name));
  });

  afterAll(() => {
    rmSync(base, { recursive: true, force: true });
  });

  (cgroups.parent === undefined ? describe.skip : describe)(`in a cgroup of its own (skipped only where the worker may create none: ${cgroups.parent === undefined ? cgroups.reason : 'here it may'})`, () => {
    const sandbox = sandboxWith(LIMITS);

    it('says which mechanism applies: a cgroup, plus RLIMIT_CPU and RLIMIT_FSIZE', () => {
      expect(sandbox.limiter?.mechanism).toMatch(/^cgroup v[12] .*, plus RLIMIT_CPU and RLIMIT_FSIZE per process$/);
    });

    it('lets a test command within every limit pass', async () => {
      expect(await run(sandbox, WITHIN)).toEqual({ started: true, exitCode: 0, timedOut: false, aborted: false });
    });

    it.each(Object.keys(EXCEEDS) as SandboxLimitName[])('reports a test command past the %s limit as that limit', async (limit) => {
      const outcome = await run(sandbox, EXCEEDS[limit]);
      expect(outcome).toMatchObject({ started: true, timedOut: false, limit });
      expect(outcome.exitCode).not.toBe(0);
    });

    it('counts the CPU time of all the processes together: none of them alone reaches the limit', async () => {
      // Ten processes of 300 ms each, one after the other: 3 s in all against a limit of 2 s.
      const burst = "const start = process.cpuUsage(); while (process.cpuUsage(start).user < 300000) {}";
      const outcome = await run(sandbox, ['sh', '-c', `for i in 1 2 3 4 5 6 7 8 9 10; do node -e "${burst}" || exit 1; done`]);
      expect(outcome).toMatchObject({ limit: 'cpu' });
    });

    it.each([
      ['cpu', FailureCode.SANDBOX_CPU_LIMIT],
      ['memory', FailureCode.SANDBOX_MEMORY_LIMIT],
      ['processes', FailureCode.SANDBOX_PROCESS_LIMIT],
      ['disk', FailureCode.SANDBOX_DISK_LIMIT],
    ] as const)('fails a setup command past the %s limit with %s', async (limit, code) => {
      expect(await setupCode(sandbox, EXCEEDS[limit])).toBe(code);
    });

    it('lets a setup within every limit pass, and a failing one still fail SETUP_FAILED', async () => {
      expect(await setupCode(sandbox, WITHIN)).toBe('passed');
      expect(await setupCode(sandbox, ['sh', '-c', 'exit 3'])).toBe(FailureCode.SETUP_FAILED);
    });

    it('leaves no cgroup behind', async () => {
      await run(sandbox, EXCEEDS.processes);
      const description = cgroups.parent?.description ?? '';
      const parents = [...description.matchAll(/ at (\/[^,)]+)/g)].map((match) => match[1] ?? '');
      expect(parents.length).toBeGreaterThan(0);
      for (const parent of parents) expect(readdirSync(parent).filter((name) => name.startsWith(`airlock-sandbox-${process.pid}-`))).toEqual([]);
    });
  });

  describe('with rlimits only (a host without a cgroup the worker may use)', () => {
    // RLIMIT_DATA counts every thread's stack: the relay's native addon starts a thread per core.
    const rlimits = { ...LIMITS, memoryMiB: 1_024 };
    const sandbox = sandboxWith(rlimits, new SandboxLimiter(rlimits, null));

    it('says so', () => {
      expect(sandbox.limiter?.mechanism).toMatch(/^rlimits only/);
    });

    it('lets a test command within every limit pass', async () => {
      expect(await run(sandbox, WITHIN)).toEqual({ started: true, exitCode: 0, timedOut: false, aborted: false });
    });

    it('reports a process killed by RLIMIT_CPU (SIGXCPU) as the CPU limit, in tests and in setup', async () => {
      expect(await run(sandbox, EXCEEDS.cpu)).toMatchObject({ exitCode: 152, limit: 'cpu' });
      expect(await setupCode(sandbox, EXCEEDS.cpu)).toBe(FailureCode.SANDBOX_CPU_LIMIT);
    });

    it('reports a process killed by RLIMIT_FSIZE (SIGXFSZ) as the disk limit, in tests and in setup', async () => {
      const killed = ['sh', '-c', `head -c ${PAST_DISK_LIMIT} /dev/zero > big.bin`];
      expect(await run(sandbox, killed)).toMatchObject({ exitCode: 153, limit: 'disk' });
      expect(await setupCode(sandbox, killed)).toBe(FailureCode.SANDBOX_DISK_LIMIT);
    });

    it('reports a file cut at the limit as the disk limit when the writer ignores SIGXFSZ (Node.js: EFBIG)', async () => {
      expect(await run(sandbox, EXCEEDS.disk)).toMatchObject({ exitCode: 1, limit: 'disk' });
    });

    it('bounds memory with RLIMIT_DATA, but cannot tell the refused allocation from any other failure', async () => {
      const outcome = await run(sandboxWith(LIMITS, new SandboxLimiter(LIMITS, null)), EXCEEDS.memory);
      expect(outcome.exitCode).not.toBe(0);
      expect(outcome.limit).toBeUndefined();
    });

    it('bounds /tmp at diskMiB: a write past it fails with ENOSPC, as an ordinary failure', async () => {
      // Two files, each under the file size limit, together over /tmp's size.
      const script = "const fs = require('fs'); const part = Buffer.alloc(30 << 20, 1); try { fs.writeFileSync('/tmp/a.bin', part); fs.writeFileSync('/tmp/b.bin', part); } catch (e) { console.log(e.code); process.exit(e.code === 'ENOSPC' ? 7 : 8); }";
      expect(await run(sandbox, ['node', '-e', script])).toEqual({ started: true, exitCode: 7, timedOut: false, aborted: false });
    });
  });
});

/**
 * connect() on a unix socket ignores a read-only mount: every socket bound to a path the
 * sandbox shows must be masked, or a test reaches a database, an agent or a daemon by its
 * socket file. Abstract sockets belong to the network namespace the sandbox does not share.
 */
describe('unix sockets outside /run and the hidden directories (real bwrap)', () => {
  // Not under /tmp: the sandbox's /tmp is its own already. /var/tmp stands for /var/lib/postgresql, /home/u/.gnupg, …
  const socketDir = scratchName('/var/tmp', 'airlock-sockets-it-');
  const base = scratchName(tmpdir(), 'airlock-sockets-it-');
  const worktree = join(base, 'workspace', 'jobs', 'job-1');
  const host = { path: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin', lang: 'C.UTF-8' };
  const config = { stateDir: join(base, 'state'), workspaceDir: join(base, 'workspace'), configFile: join(base, 'worker.yml'), host };
  const pathSocket = join(socketDir, 'db.sock');
  const abstractName = `\0airlock-sockets-it-${process.pid}`;
  const servers: Server[] = [];
  let accepted = 0;

  /** Exits 0 when `target` cannot be connected to, 1 when it can. */
  const connects = (runner: TestCommandRunner, target: string) =>
    runner.run({
      argv: [
        'node',
        '-e',
        `const s = require('net').connect(${JSON.stringify(target)}); s.on('connect', () => process.exit(1)); s.on('error', (e) => { console.log(e.code); process.exit(0); }); setTimeout(() => process.exit(3), 5000);`,
      ],
      cwd: worktree,
      timeoutMs: 20_000,
      signal: new AbortController().signal,
      logFile: join(base, 'test.log'),
    });

  beforeAll(async () => {
    mkdirSync(socketDir, { mode: 0o700 });
    mkdirSync(worktree, { recursive: true });
    mkdirSync(config.stateDir, { recursive: true });
    for (const address of [pathSocket, abstractName, join(config.stateDir, 'hidden.sock')]) {
      const server = createServer((socket) => {
        accepted += 1;
        socket.destroy();
      });
      await new Promise<void>((resolve) => server.listen(address, resolve));
      servers.push(server);
    }
  });

  afterAll(async () => {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    rmSync(socketDir, { recursive: true, force: true });
    rmSync(base, { recursive: true, force: true });
  });

  it('cannot connect to a socket listening at a path the sandbox shows read-only (the control: it can unsandboxed)', async () => {
    const sandboxed = new TestCommandRunner(host, TestSandbox.fromConfig({ ...config, sandbox: { mode: 'bwrap' } }));
    const unsandboxed = new TestCommandRunner(host, TestSandbox.fromConfig({ ...config, sandbox: { mode: 'none' } }));
    expect((await connects(sandboxed, pathSocket)).exitCode).toBe(0);
    expect(accepted).toBe(0);
    expect((await connects(unsandboxed, pathSocket)).exitCode).toBe(1);
    expect(accepted).toBe(1);
  });

  it('cannot connect to an abstract socket of the host (own network namespace; the control: it can unsandboxed)', async () => {
    const sandboxed = new TestCommandRunner(host, TestSandbox.fromConfig({ ...config, sandbox: { mode: 'bwrap' } }));
    const unsandboxed = new TestCommandRunner(host, TestSandbox.fromConfig({ ...config, sandbox: { mode: 'none' } }));
    const before = accepted;
    expect((await connects(sandboxed, abstractName)).exitCode).toBe(0);
    expect(accepted).toBe(before);
    expect((await connects(unsandboxed, abstractName)).exitCode).toBe(1);
    expect(accepted).toBe(before + 1);
  });

  it('masks each visible socket by its path, and none in a hidden directory (already gone) or the sandbox /tmp', () => {
    const argv = TestSandbox.fromConfig({ ...config, sandbox: { mode: 'bwrap' } }).wrap(['true'], worktree);
    const masked = argv.flatMap((arg, index) => (arg === '/dev/null' && argv[index - 1] === '--ro-bind' ? [argv[index + 1]] : []));
    expect(masked).toContain(pathSocket);
    expect(masked.filter((path) => path?.startsWith(config.stateDir) || path?.startsWith('/tmp/'))).toEqual([]);
  });
});
