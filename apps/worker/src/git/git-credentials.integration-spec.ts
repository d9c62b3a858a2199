import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { type AuthenticatedGitHttpServer, startAuthenticatedGitHttpServer } from '@airlock/local-stack';
import { secretsSealCommand } from '../cli/secrets-seal.command';
import { type RepositoryConfig, loadWorkerConfig } from '../config/worker-config.loader';
import { BranchPusher } from '../delivery/branch-pusher';
import { TestCommandRunner } from '../jobs/test-command.runner';
import { TestSandbox, checkSandbox } from '../jobs/sandbox/test-sandbox';
import { WorkspaceManager } from '../jobs/workspace/workspace.manager';
import { JsonLogger } from '../logging/json-logger';
import { createBareRepo, git } from '../testing/git-fixture.mock';
import { GitCommandFailedError } from './git-command-failed.error';
import { GitRunner } from './git-runner';

jest.setTimeout(60_000);

const USERNAME = 'x-access-token';
const TOKEN = 'glpat-Secret0123456789abcdef';
const BASIC = Buffer.from(`${USERNAME}:${TOKEN}`).toString('base64');

const CONFIG_HEAD = `controlPlane:
  address: 127.0.0.1:7443
  insecure: true
stateDir: ./state
workspaceDir: ./workspace
inference:
  endpoints:
    - { name: local, baseUrl: 'http://127.0.0.1:8000/v1', model: qwen2.5-coder }
`;

/**
 * The worker's own git credentials against a real git server that wants them: git
 * http-backend behind a 401 unless `Authorization: Basic base64(x-access-token:TOKEN)`. Every
 * git the worker runs goes through a `git` on PATH that records its argv and the names of its
 * environment variables, so that the token is shown to travel in neither argv nor a log.
 */
describe('git credentials of a catalog repository (real git over HTTP)', () => {
  const base = mkdtempSync(join(tmpdir(), 'airlock-git-credentials-it-'));
  const wrapperDir = join(base, 'bin');
  const argvLog = join(base, 'git-argv.log');
  const host = { path: `${wrapperDir}:${process.env['PATH'] ?? '/usr/bin:/bin'}`, lang: 'C.UTF-8' };
  let origin: string;
  let server: AuthenticatedGitHttpServer;
  let logged = '';
  const logger = new JsonLogger((line) => void (logged += line));
  const runner = new GitRunner(host);

  beforeAll(async () => {
    mkdirSync(wrapperDir);
    // Records what each git invocation was given, then is git. Values of the environment are
    // not written: the test looks for the token in argv, and for the variables by name.
    writeFileSync(
      join(wrapperDir, 'git'),
      `#!/bin/sh\n{ printf 'argv:'; printf ' %s' "$@"; printf '\\n'; env | cut -d= -f1 | sed 's/^/env: /'; } >> '${argvLog}'\nexec /usr/bin/git "$@"\n`,
    );
    chmodSync(join(wrapperDir, 'git'), 0o755);
    origin = createBareRepo({ 'README.md': 'hello\n' });
    server = await startAuthenticatedGitHttpServer(dirname(origin), { username: USERNAME, password: TOKEN });
  });

  afterAll(async () => {
    await server.stop();
    rmSync(base, { recursive: true, force: true });
    // createBareRepo made `<its own mkdtemp folder>/origin.git`: remove that folder, nothing above it.
    rmSync(dirname(origin), { recursive: true, force: true });
  });

  beforeEach(() => {
    logged = '';
    writeFileSync(argvLog, '');
  });

  /** Writes a worker config whose one repository is the server's, with `git` as given, and loads it. */
  const repositoryWith = (name: string, git: string | undefined, extra = ''): RepositoryConfig => {
    const dir = join(base, name);
    mkdirSync(dir, { recursive: true });
    const url = server.urlOf(`${origin.split('/').at(-1) ?? ''}`);
    writeFileSync(
      join(dir, 'worker.yml'),
      `${CONFIG_HEAD}${extra}repositories:\n  - alias: demo\n    cloneUrl: ${url}\n    pushUrl: ${url}\n${git === undefined ? '' : `    git: ${git}\n`}`,
    );
    const repo = loadWorkerConfig(join(dir, 'worker.yml'), {}).repositories[0];
    if (repo === undefined) throw new Error('no repository loaded');
    return repo;
  };
  const workspaces = (name: string) => new WorkspaceManager(join(base, name, 'workspace'), runner, logger);
  const prepare = (manager: WorkspaceManager, repo: RepositoryConfig, jobKey: string) => manager.prepare(repo, 'main', jobKey, new AbortController().signal);
  /** Everything the worker's gits were run with, and everything it logged. */
  const traces = () => `${readFileSync(argvLog, 'utf8')}\n${logged}`;
  const expectNoSecretIn = (text: string) => {
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(BASIC);
  };

  it('fetches with the token from a plain token file, given to git in its environment only', async () => {
    const dir = join(base, 'plain');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'git.token'), `${TOKEN}\n`, { mode: 0o600 });
    const repo = repositoryWith('plain', '{ tokenFile: ./git.token }');
    const before = server.requests.length;

    const workspace = await prepare(workspaces('plain'), repo, 'job-1');

    expect(readFileSync(join(workspace.worktree, 'README.md'), 'utf8')).toBe('hello\n');
    expect(server.requests.slice(before).map((request) => request.authorization)).toContain('right');
    const trace = traces();
    // The wrapper did see the fetch and the credential variables: the absence of the token below is not an empty log's.
    expect(trace).toMatch(/argv: .*fetch .*-- http:\/\/127\.0\.0\.1:\d+\/origin\.git/);
    expect(trace).toContain('env: GIT_CONFIG_VALUE_0');
    expectNoSecretIn(trace);
  });

  it('gives the credentials only to the command that reaches the repository', async () => {
    const dir = join(base, 'scoped');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'git.token'), TOKEN, { mode: 0o600 });

    await prepare(workspaces('scoped'), repositoryWith('scoped', '{ tokenFile: ./git.token }'), 'job-1');

    const commands = readFileSync(argvLog, 'utf8').split('argv:').slice(1);
    const withCredentials = commands.filter((command) => command.includes('env: GIT_CONFIG_COUNT')).map((command) => command.split('\n')[0]?.trim() ?? '');
    expect(withCredentials).toHaveLength(1);
    expect(withCredentials[0]).toMatch(/ fetch /);
    expect(commands.length).toBeGreaterThan(3);
  });

  it('opens a sealed token file at each fetch, and takes a rotated one without a reload', async () => {
    const dir = join(base, 'sealed');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'worker.kek'), randomBytes(32).toString('hex'), { mode: 0o600 });
    writeFileSync(join(dir, 'worker.yml'), `${CONFIG_HEAD}secrets: { kekFile: ./worker.kek }\n`);
    const seal = async (token: string) => {
      const io = { out: () => undefined, err: () => undefined };
      expect(await secretsSealCommand({ config: join(dir, 'worker.yml'), out: join(dir, 'git.token.sealed'), force: true }, io, Readable.from([Buffer.from(`${token}\n`)]), {})).toBe(0);
    };
    await seal(TOKEN);
    expect(readFileSync(join(dir, 'git.token.sealed'), 'utf8')).not.toContain(TOKEN);
    const repo = repositoryWith('sealed', '{ tokenFile: ./git.token.sealed }', 'secrets: { kekFile: ./worker.kek }\n');
    const manager = workspaces('sealed');

    await expect(prepare(manager, repo, 'job-1')).resolves.toMatchObject({ baseCommit: expect.stringMatching(/^[0-9a-f]{40}$/) });

    await seal('glpat-rotated-but-wrong');
    const before = server.requests.length;
    await expect(prepare(manager, repo, 'job-2')).rejects.toBeInstanceOf(GitCommandFailedError);
    expect(new Set(server.requests.slice(before).map((request) => request.authorization))).toEqual(new Set(['wrong']));
    await seal(TOKEN);
    await expect(prepare(manager, repo, 'job-3')).resolves.toBeDefined();
    expectNoSecretIn(traces());
  });

  it('fails with git\'s authentication error, and no secret in it, without a token or with a wrong one', async () => {
    const dir = join(base, 'refused');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'wrong.token'), 'glpat-wrong', { mode: 0o600 });
    const before = server.requests.length;

    const none = await prepare(workspaces('refused-none'), repositoryWith('refused-none', undefined), 'job-1').catch((error: unknown) => error);
    const wrong = await prepare(workspaces('refused'), repositoryWith('refused', '{ tokenFile: ./wrong.token }'), 'job-1').catch((error: unknown) => error);

    for (const error of [none, wrong]) {
      expect(error).toBeInstanceOf(GitCommandFailedError);
      expect((error as GitCommandFailedError).stderrTail).toMatch(/Authentication failed|401/);
      expectNoSecretIn(`${(error as Error).message} ${(error as GitCommandFailedError).stderrTail} ${JSON.stringify(error)}`);
    }
    expect(new Set(server.requests.slice(before).map((request) => request.authorization))).toEqual(new Set(['none', 'wrong']));
  });

  it('pushes a branch with the token from the environment, and is refused with a wrong one, logging no secret', async () => {
    const dir = join(base, 'push');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'worker.yml'), '');
    const url = server.urlOf('origin.git');
    const load = (token: string) => {
      writeFileSync(join(dir, 'worker.yml'), `${CONFIG_HEAD}repositories:\n  - { alias: demo, cloneUrl: '${url}', pushUrl: '${url}', git: { tokenEnv: AIRLOCK_GIT_TOKEN } }\n`);
      const repo = loadWorkerConfig(join(dir, 'worker.yml'), { AIRLOCK_GIT_TOKEN: token }).repositories[0];
      if (repo?.git === undefined) throw new Error('no git credentials loaded');
      return repo;
    };
    const repo = load(TOKEN);
    const workspace = await prepare(workspaces('push'), repo, 'job-1');
    writeFileSync(join(workspace.worktree, 'fix.txt'), 'fixed\n');
    git(workspace.worktree, 'add', 'fix.txt');
    git(workspace.worktree, 'commit', '--quiet', '-m', 'fix\n\nAirlock-Job: job-1\nAirlock-Generation: 0\nAirlock-Attempt: 1');
    const pusher = new BranchPusher(runner);
    const push = (credentials: RepositoryConfig['git'], ref: string) =>
      pusher.push({ worktree: workspace.worktree, pushUrl: url, credentials, ref, position: { generation: 0, attempt: 1 }, signal: new AbortController().signal, logger });

    await expect(push(repo.git, 'refs/heads/airlock/job-1')).resolves.toBe('created');
    expect(git(origin, 'rev-parse', 'refs/heads/airlock/job-1').trim()).toBe(git(workspace.worktree, 'rev-parse', 'HEAD').trim());

    // Refused at the first look at the branch (ls-remote): DELIVER's default failure, DELIVERY_FAILED, with git's words in the local log.
    const refused = await push(load('glpat-wrong').git, 'refs/heads/airlock/job-2').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(GitCommandFailedError);
    expect((refused as GitCommandFailedError).subcommand).toBe('ls-remote');
    expect(logged).toMatch(/"event":"delivery-git-failed".*Authentication failed/);
    expect(() => git(origin, 'rev-parse', '--verify', '--quiet', 'refs/heads/airlock/job-2')).toThrow();
    expectNoSecretIn(traces());
  });

  it('does not follow a redirect with the token: the server redirected to never sees it', async () => {
    const dir = join(base, 'redirect');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'git.token'), TOKEN, { mode: 0o600 });
    // A repository URL that sends git on to the authenticating server (another origin: another port).
    const redirector: Server = createServer((request, response) => {
      response.writeHead(302, { Location: `${server.urlOf('origin.git')}${(request.url ?? '').replace(/^\/moved\.git/, '')}` }).end();
    });
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    try {
      const movedUrl = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}/moved.git`;
      writeFileSync(join(dir, 'worker.yml'), `${CONFIG_HEAD}repositories:\n  - { alias: demo, cloneUrl: '${movedUrl}', git: { tokenFile: ./git.token } }\n`);
      const repo = loadWorkerConfig(join(dir, 'worker.yml'), {}).repositories[0];
      if (repo === undefined) throw new Error('no repository loaded');
      const before = server.requests.length;

      const error = await prepare(workspaces('redirect'), repo, 'job-1').catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(GitCommandFailedError);
      expect((error as GitCommandFailedError).stderrTail).toMatch(/302/);
      expect(server.requests.slice(before).filter((request) => request.authorization !== 'none')).toEqual([]);
    } finally {
      redirector.closeAllConnections();
      await new Promise<void>((resolve) => redirector.close(() => resolve()));
    }
  });

  it('leaves the token out of the environment of the repository\'s commands, though the worker\'s own has it', async () => {
    const worktree = join(base, 'sandboxed');
    mkdirSync(worktree, { recursive: true });
    const config = { stateDir: join(base, 'state'), workspaceDir: join(base, 'ws'), configFile: join(base, 'worker.yml'), host: { path: process.env['PATH'] ?? '/usr/bin:/bin', lang: 'C.UTF-8' } };
    const modes: Array<'none' | 'bwrap'> = ['none'];
    if ((await checkSandbox(TestSandbox.fromConfig({ ...config, sandbox: { mode: 'bwrap' } }), config.host)).ok) modes.push('bwrap');
    process.env['AIRLOCK_GIT_TOKEN'] = TOKEN;
    try {
      for (const mode of modes) {
        const logFile = join(base, `sandbox-${mode}.log`);
        const commands = new TestCommandRunner(config.host, TestSandbox.fromConfig({ ...config, sandbox: { mode } }));
        const outcome = await commands.run({
          argv: ['node', '-e', 'process.stdout.write(JSON.stringify(process.env))'],
          cwd: worktree,
          timeoutMs: 20_000,
          signal: new AbortController().signal,
          logFile,
        });
        expect(outcome).toMatchObject({ exitCode: 0 });
        const seen = readFileSync(logFile, 'utf8');
        expect(seen).toContain('"PATH"');
        expectNoSecretIn(seen);
        expect(seen).not.toContain('AIRLOCK_GIT_TOKEN');
      }
    } finally {
      delete process.env['AIRLOCK_GIT_TOKEN'];
    }
  });
});
