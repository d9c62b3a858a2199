import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type NpmMirror, type PythonIndex, startNpmMirror, startPythonIndex } from '@airlock/local-stack';
import { JsonLogger } from '../../logging/json-logger';
import type { SetupConfig } from '../repo-config/repo-config.schema';
import { SANDBOX_WORKTREE, TestSandbox } from '../sandbox/test-sandbox';
import { TestCommandRunner } from '../test-command.runner';
import { DependencyCache } from './dependency-cache';
import { SetupRunner } from './setup.runner';

jest.setTimeout(180_000);

const execFileAsync = promisify(execFile);

/**
 * The npm and pip recipes of docs/worker.md, run for real: a real Verdaccio and a real
 * PEP 503 index on the host's loopback as the customer's mirrors, the real package managers
 * in the real setup sandbox, the dependency cache between two jobs, and the TEST sandbox
 * (no network) using what setup installed. The pip case is the one the fixed worktree path
 * exists for: a venv's scripts name their interpreter by absolute path, so a venv restored
 * into another job's worktree works only if every worktree is at the same path.
 */
describe('setup recipes: npm ci and a pip venv through real mirrors, cached across jobs (real bwrap)', () => {
  const base = mkdtempSync(join(tmpdir(), 'airlock-setup-recipes-'));
  const stateDir = join(base, 'state');
  const workspaceDir = join(base, 'workspace');
  const host = { path: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin', lang: 'C.UTF-8' };
  const sandbox = TestSandbox.fromConfig({ stateDir, workspaceDir, configFile: join(base, 'worker.yml'), host, sandbox: { mode: 'bwrap' } });
  const runner = new TestCommandRunner(host, sandbox);
  const cache = new DependencyCache(join(workspaceDir, 'dependency-cache'), 1024 ** 3, host);
  const logs: Array<Record<string, unknown>> = [];
  const logger = new JsonLogger((line) => logs.push(JSON.parse(line) as Record<string, unknown>));
  const signal = new AbortController().signal;
  let npmMirror: NpmMirror;
  let pythonIndex: PythonIndex;
  let jobs = 0;

  beforeAll(async () => {
    mkdirSync(join(stateDir, 'job-logs'), { recursive: true });
    await cache.removeStale(logger);
    [npmMirror, pythonIndex] = await Promise.all([startNpmMirror({ workDir: join(base, 'npm-mirror') }), startPythonIndex()]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([npmMirror?.stop(), pythonIndex?.stop()]);
    rmSync(base, { recursive: true, force: true });
  });

  /** What SetupPhase does for one job, with the worker's setup config: restore, or run and store. Returns the worktree. */
  async function setUpJob(files: Record<string, string>, setup: SetupConfig, workerSetup: { mirrors: string[]; env: Record<string, string> }) {
    jobs += 1;
    const worktree = join(workspaceDir, 'jobs', `job-${jobs}`);
    mkdirSync(worktree, { recursive: true });
    for (const [path, content] of Object.entries(files)) writeFileSync(join(worktree, path), content);
    const key = await cache.keyFor('demo', setup, worktree);
    if (!(await cache.restore(key, worktree, setup.cachePaths, logger, signal))) {
      const logFile = join(stateDir, 'job-logs', `job-${jobs}.setup.log`);
      const setups = new SetupRunner(runner, sandbox, { setup: { ...workerSetup, timeout: 150_000 } });
      await setups.run({ setup, worktree, logFile, signal, logger }).catch((error: unknown) => {
        throw new Error(`${String(error)}\n${readFileSync(logFile, 'utf8')}`);
      });
      await cache.store(key, worktree, setup.cachePaths, logger, signal);
    }
    return worktree;
  }

  /** Runs `argv` in the TEST sandbox (no network at all) in `worktree`; resolves with its exit code and output. */
  async function testRun(worktree: string, argv: string[]) {
    const logFile = join(base, `test-${jobs}.log`);
    const outcome = await runner.run({ argv, cwd: worktree, timeoutMs: 60_000, signal, logFile });
    return { exitCode: outcome.exitCode, output: readFileSync(logFile, 'utf8') };
  }

  const cacheResults = () => logs.filter((line) => line['event'] === 'setup-cache').map((line) => line['result']);

  it('npm ci from a Verdaccio mirror; the next job gets node_modules from the cache; tests use it without network', async () => {
    // The lockfile, as the repository would commit it (made on the host, through the mirror).
    const project = join(base, 'npm-project');
    mkdirSync(project);
    const manifest = JSON.stringify({ name: 'demo', version: '1.0.0', private: true, dependencies: { 'escape-html': '1.0.3' } });
    writeFileSync(join(project, 'package.json'), manifest);
    await execFileAsync('npm', ['install', '--package-lock-only', '--no-audit', '--no-fund', '--registry', npmMirror.url], { cwd: project, timeout: 120_000 });
    const files = { 'package.json': manifest, 'package-lock.json': readFileSync(join(project, 'package-lock.json'), 'utf8') };
    const setup: SetupConfig = { commands: [['npm', 'ci', '--no-audit', '--no-fund']], cacheKey: ['package-lock.json'], cachePaths: ['node_modules'] };
    const workerSetup = { mirrors: [`${npmMirror.host}:${npmMirror.port}`], env: { npm_config_registry: npmMirror.url } };
    logs.length = 0;

    const first = await setUpJob(files, setup, workerSetup);
    const requireIt = ['node', '-e', "process.stdout.write(require('escape-html')('<a>'))"];
    expect(await testRun(first, requireIt)).toEqual({ exitCode: 0, output: '&lt;a&gt;' });
    expect(readFileSync(npmMirror.logFile, 'utf8')).toContain('GET /escape-html/-/escape-html-1.0.3.tgz');

    const second = await setUpJob(files, setup, workerSetup);
    expect(await testRun(second, requireIt)).toEqual({ exitCode: 0, output: '&lt;a&gt;' });
    expect(cacheResults()).toEqual(['miss', 'hit']);
  });

  it('a pip venv from a PEP 503 index (pip install -r); the venv restored into another worktree still runs, at the same path', async () => {
    const files = { 'requirements.txt': 'pytest\n', 'test_add.py': 'def test_add():\n    assert 1 + 2 == 3\n' };
    const setup: SetupConfig = {
      commands: [
        ['python3', '-m', 'venv', '.venv'],
        ['.venv/bin/pip', 'install', '-r', 'requirements.txt'],
      ],
      cacheKey: ['requirements.txt'],
      cachePaths: ['.venv'],
    };
    // PIP_CONFIG_FILE=/dev/null: the host's pip.conf (readable in the sandbox) must not add a second index.
    const workerSetup = {
      mirrors: [`${pythonIndex.host}:${pythonIndex.port}`],
      env: { PIP_INDEX_URL: pythonIndex.url, PIP_CONFIG_FILE: '/dev/null', PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_CACHE_DIR: '1' },
    };
    logs.length = 0;

    const first = await setUpJob(files, setup, workerSetup);
    expect(pythonIndex.servedFiles().some((file) => file.startsWith('pytest-'))).toBe(true);
    // The venv's scripts name the interpreter by the sandbox's path, not the host's.
    expect(readFileSync(join(first, '.venv', 'bin', 'pytest'), 'utf8').split('\n')[0]).toBe(`#!${SANDBOX_WORKTREE}/.venv/bin/python3`);

    const second = await setUpJob(files, setup, workerSetup);
    expect(cacheResults()).toEqual(['miss', 'hit']);
    const pytest = await testRun(second, ['.venv/bin/pytest', '-q', '-p', 'no:cacheprovider', 'test_add.py']);
    expect({ exitCode: pytest.exitCode, passed: /1 passed/.test(pytest.output) }).toEqual({ exitCode: 0, passed: true });
  });
});
