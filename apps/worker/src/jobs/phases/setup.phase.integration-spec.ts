import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FailureCode } from '@airlock/protocol';
import type { RepositoryConfig } from '../../config/worker-config.loader';
import { JobPhaseFailedError } from '../job-phase-failed.error';
import { JobContext } from '../pipeline/job-context';
import { fakeJobContext } from '../pipeline/job-context.mock';
import type { SetupConfig } from '../repo-config/repo-config.schema';
import { TestSandbox } from '../sandbox/test-sandbox';
import { DependencyCache } from '../setup/dependency-cache';
import { SetupRunner } from '../setup/setup.runner';
import { TestCommandRunner } from '../test-command.runner';
import { SetupPhase } from './setup.phase';

jest.setTimeout(60_000);

const setupOf = (commands: string[][], extra: Partial<SetupConfig> = {}): SetupConfig => ({ commands, cacheKey: [], cachePaths: [], ...extra });

/** Node one-liner for a setup command: writes a fresh random marker into node_modules, as an install would write packages. */
const INSTALL = ['node', '-e', "const fs = require('fs'); fs.mkdirSync('node_modules', { recursive: true }); fs.writeFileSync('node_modules/.marker', require('crypto').randomUUID());"];

/** The argv of every process on the host that mentions `needle` (the sandbox's pids are its own, its argv are not). */
function processesMentioning(needle: string): string[][] {
  const found: string[][] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv.some((arg) => arg.includes(needle)) && !argv.some((arg) => arg.includes('jest'))) found.push(argv);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/**
 * SETUP through the real SetupRunner in real bwrap with the real dependency cache: what
 * runs (the catalog's setup over `.airlock.yml`'s), the failure codes, and cache hits that
 * skip the commands. The network rules have their own spec (setup-network).
 */
describe('SetupPhase (real bwrap, real cache)', () => {
  const base = mkdtempSync(join(tmpdir(), 'airlock-setup-phase-'));
  const stateDir = join(base, 'state');
  const workspaceDir = join(base, 'workspace');
  const host = { path: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin', lang: 'C.UTF-8' };
  const sandbox = TestSandbox.fromConfig({ stateDir, workspaceDir, configFile: join(base, 'worker.yml'), host, sandbox: { mode: 'bwrap' } });
  const runner = new TestCommandRunner(host, sandbox, 300);
  const cache = new DependencyCache(join(workspaceDir, 'dependency-cache'), 1024 ** 3, host);
  const phase = new SetupPhase(new SetupRunner(runner, sandbox, { setup: { mirrors: [], env: {}, timeout: 30_000 } }), cache, { stateDir });
  let jobs = 0;

  beforeAll(async () => {
    mkdirSync(join(stateDir, 'job-logs'), { recursive: true });
    await cache.removeStale(fakeJobContext().ctx.logger);
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  /** One attempt's context: a fresh worktree holding `files`, `.airlock.yml`'s setup, and the catalog's. */
  function job(options: { readonly files?: Record<string, string>; readonly repoSetup?: SetupConfig; readonly catalogSetup?: SetupConfig; readonly signal?: AbortSignal }) {
    jobs += 1;
    const fake = fakeJobContext(options.signal ? { signal: options.signal } : {});
    const repo: RepositoryConfig = { ...fake.ctx.request.repo, ...(options.catalogSetup ? { setup: options.catalogSetup } : {}) };
    const ctx = new JobContext({ ...fake.ctx.request, jobId: `job-${jobs}`, repo }, fake.ctx.logger, fake.record);
    const worktree = join(workspaceDir, 'jobs', ctx.jobKey);
    mkdirSync(worktree, { recursive: true });
    for (const [path, content] of Object.entries(options.files ?? {})) writeFileSync(join(worktree, path), content);
    ctx.provide('workspace', { worktree, baseCommit: '0'.repeat(40) });
    ctx.provide('repoConfig', { version: 1, test: { command: ['true'] }, ...(options.repoSetup ? { setup: options.repoSetup } : {}) });
    const setupLog = join(stateDir, 'job-logs', `${ctx.jobKey}.setup.log`);
    return { ctx, worktree, logs: fake.logs, setupLog, readLog: () => readFileSync(setupLog, 'utf8') };
  }

  const failureOf = (promise: Promise<void>) =>
    promise.then(
      () => undefined,
      (error: unknown) => (error instanceof JobPhaseFailedError ? error.failureCode : error),
    );

  it('completes at once, running nothing, when neither the catalog nor .airlock.yml declares a setup', async () => {
    const { ctx, setupLog, logs } = job({});
    await phase.run(ctx);
    expect(existsSync(setupLog)).toBe(false);
    expect(logs).toEqual([]);
  });

  it("runs the catalog's setup, not .airlock.yml's, when both declare one", async () => {
    const write = (who: string) => setupOf([['sh', '-c', `echo ${who} > who-ran`]]);
    const { ctx, worktree } = job({ repoSetup: write('repository'), catalogSetup: write('catalog') });
    await phase.run(ctx);
    expect(readFileSync(join(worktree, 'who-ran'), 'utf8')).toBe('catalog\n');
  });

  it('runs the commands in order and stops at the first that exits non-zero: SETUP_FAILED, its output in the local log', async () => {
    const { ctx, worktree, readLog } = job({ repoSetup: setupOf([['sh', '-c', 'echo first > order'], ['sh', '-c', 'echo boom; exit 3'], ['sh', '-c', 'echo third >> order']]) });
    expect(await failureOf(phase.run(ctx))).toBe(FailureCode.SETUP_FAILED);
    expect(readFileSync(join(worktree, 'order'), 'utf8')).toBe('first\n');
    expect(readLog()).toBe('$ ["sh","-c","echo first > order"]\n\n[exit 0]\n$ ["sh","-c","echo boom; exit 3"]\nboom\n\n[exit 3]\n');
  });

  it('fails SETUP_FAILED when a command cannot start, saying so in the log', async () => {
    const { ctx, readLog } = job({ repoSetup: setupOf([['airlock-no-such-setup-command', '--flag']]) });
    expect(await failureOf(phase.run(ctx))).toBe(FailureCode.SETUP_FAILED);
    expect(readLog()).toContain('airlock-egress-relay: cannot start airlock-no-such-setup-command: ENOENT');
    expect(readLog()).toContain('[exit 127]');
  });

  it("fails SETUP_TIMED_OUT past setup.timeout, and the command's whole process tree is gone", async () => {
    const marker = `${(Date.now() % 1000) + 1000}.25`; // a sleep duration no other process uses
    // The timeout counts from the setup's start, so it includes starting the sandbox and the
    // egress relay (here from its TypeScript sources, about 1 s on a loaded machine): 800 ms once
    // ran out before the command began (a CI run saw no sleep at all). 3 s leaves time to see them.
    const { ctx, readLog } = job({ repoSetup: setupOf([['sh', '-c', `sleep ${marker} & sleep ${marker}; echo never`]], { timeout: 3_000 }) });
    const started = Date.now();
    const failure = failureOf(phase.run(ctx));
    // The control: both sleeps do run (the shell's and its background child) before the timeout.
    const sleeps = () => processesMentioning(marker).filter(([command, duration]) => command === 'sleep' && duration === marker);
    while (sleeps().length < 2 && Date.now() - started < 5_000) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sleeps()).toHaveLength(2);
    expect(await failure).toBe(FailureCode.SETUP_TIMED_OUT);
    // timeout + killGrace (300 ms), give or take the sandbox's start.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(readLog()).toContain('[timed out]');
    // Nothing of it is left: not the sleeps, the shell, the relay, nor bwrap.
    expect(processesMentioning(marker)).toEqual([]);
  });

  it('lets the phase runner report an abort: it stops the commands and rethrows the abort', async () => {
    const controller = new AbortController();
    const { ctx } = job({ repoSetup: setupOf([['sleep', '30']]), signal: controller.signal });
    setTimeout(() => controller.abort('cancelled'), 500);
    const started = Date.now();
    await expect(phase.run(ctx)).rejects.toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('misses, then hits for a second job with the same lockfile (no command runs), and misses again once the lockfile changes', async () => {
    const cached = setupOf([INSTALL], { cacheKey: ['package-lock.json'], cachePaths: ['node_modules'] });
    const first = job({ files: { 'package-lock.json': '{"v":1}' }, repoSetup: cached });
    await phase.run(first.ctx);
    const marker = readFileSync(join(first.worktree, 'node_modules', '.marker'), 'utf8');
    expect(first.logs.map((line) => [line['event'], line['result']])).toEqual([
      ['setup-cache', 'miss'],
      ['setup-cache-stored', undefined],
    ]);

    const second = job({ files: { 'package-lock.json': '{"v":1}' }, repoSetup: cached });
    await phase.run(second.ctx);
    // The marker is the first job's: restored from the cache, and setup never ran (no log at all).
    expect(readFileSync(join(second.worktree, 'node_modules', '.marker'), 'utf8')).toBe(marker);
    expect(existsSync(second.setupLog)).toBe(false);
    expect(second.logs.map((line) => [line['event'], line['result']])).toEqual([['setup-cache', 'hit']]);

    const third = job({ files: { 'package-lock.json': '{"v":2}' }, repoSetup: cached });
    await phase.run(third.ctx);
    expect(readFileSync(join(third.worktree, 'node_modules', '.marker'), 'utf8')).not.toBe(marker);
    expect(third.logs[0]).toMatchObject({ event: 'setup-cache', result: 'miss' });
  });

  it('runs setup every job, storing nothing, without cacheKey or cachePaths', async () => {
    const uncached = setupOf([INSTALL], { cachePaths: ['node_modules'] });
    const first = job({ repoSetup: uncached });
    await phase.run(first.ctx);
    const second = job({ repoSetup: uncached });
    await phase.run(second.ctx);
    expect(readFileSync(join(second.worktree, 'node_modules', '.marker'), 'utf8')).not.toBe(readFileSync(join(first.worktree, 'node_modules', '.marker'), 'utf8'));
    expect(second.logs).toEqual([expect.objectContaining({ event: 'setup-cache', result: 'off' })]);
  });

  it('falls back to running setup when the cache entry is broken, and logs it', async () => {
    const cached = setupOf([INSTALL], { cacheKey: ['package-lock.json'], cachePaths: ['node_modules'] });
    const first = job({ files: { 'package-lock.json': '{"broken":1}' }, repoSetup: cached });
    await phase.run(first.ctx);
    const [entry] = readdirSync(join(workspaceDir, 'dependency-cache', 'entries')).filter((name) => first.logs.some((line) => line['key'] === name));
    rmSync(join(workspaceDir, 'dependency-cache', 'entries', entry ?? 'none', 'content'), { recursive: true });
    const second = job({ files: { 'package-lock.json': '{"broken":1}' }, repoSetup: cached });
    await phase.run(second.ctx);
    expect(readFileSync(join(second.worktree, 'node_modules', '.marker'), 'utf8')).toMatch(/^[0-9a-f-]{36}$/);
    expect(second.logs.map((line) => line['event'])).toEqual(['setup-cache-unusable', 'setup-cache-removed', 'setup-cache-stored']);
    expect(second.readLog()).toContain('[exit 0]');
  });
});
