import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkerConfigInvalidError } from '../config/worker-config-invalid.error';
import { loadWorkerConfig } from '../config/worker-config.loader';
import { gitCredentialEnvironment } from './git-credentials';
import { GitCredentialsUnreadableError } from './git-credentials-unreadable.error';

const TOKEN = 'glpat-Secret0123456789abcdef';

const CONFIG_HEAD = `controlPlane:
  address: 127.0.0.1:7443
  insecure: true
stateDir: ./state
workspaceDir: ./workspace
inference:
  endpoints:
    - { name: local, baseUrl: 'http://127.0.0.1:8000/v1', model: qwen2.5-coder }
`;

describe('repositories[].git', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'worker-git-credentials-'));
    writeFileSync(join(dir, 'git.token'), `${TOKEN}\n`, { mode: 0o600 });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const load = (repository: string, env: NodeJS.ProcessEnv = {}) => {
    writeFileSync(join(dir, 'worker.yml'), `${CONFIG_HEAD}repositories:\n  - ${repository}\n`);
    return loadWorkerConfig(join(dir, 'worker.yml'), env);
  };
  /** The config's problems as `path: expected` lines, or a failure when it loads. */
  const problemsOf = (repository: string, env: NodeJS.ProcessEnv = {}): string => {
    try {
      load(repository, env);
    } catch (error) {
      if (error instanceof WorkerConfigInvalidError) return error.problems.map((problem) => `${problem.path}: ${problem.expected}`).join('\n');
      throw error;
    }
    throw new Error('the config loaded');
  };

  it('locates the token, with x-access-token as the default user name', () => {
    const repo = load("{ alias: demo, cloneUrl: 'https://git.corp.example/team/demo.git', git: { tokenFile: ./git.token } }").repositories[0];
    expect(repo?.git).toEqual({ username: 'x-access-token', token: { file: join(dir, 'git.token'), sealer: undefined } });
  });

  it.each([
    ["{ alias: demo, cloneUrl: 'git://git.corp.example/demo.git', git: { tokenFile: ./git.token } }", /repositories\[0\]\.git: an http\(s\) cloneUrl/],
    ["{ alias: demo, cloneUrl: 'ssh://git@git.corp.example/demo.git', git: { tokenFile: ./git.token } }", /repositories\[0\]\.git: an http\(s\) cloneUrl/],
    ["{ alias: demo, cloneUrl: 'git@git.corp.example:team/demo.git', git: { tokenFile: ./git.token } }", /repositories\[0\]\.git: an http\(s\) cloneUrl/],
    ["{ alias: demo, cloneUrl: 'https://bot@git.corp.example/demo.git', git: { tokenFile: ./git.token } }", /repositories\[0\]\.git: a cloneUrl without user@/],
    ["{ alias: demo, cloneUrl: 'https://git.corp.example/demo.git', git: { tokenFile: ./git.token, tokenEnv: GIT_TOKEN } }", /repositories\[0\]\.git\.tokenEnv: exactly one of tokenEnv or tokenFile/],
    ["{ alias: demo, cloneUrl: 'https://git.corp.example/demo.git', git: { username: bot } }", /repositories\[0\]\.git\.tokenEnv: exactly one of tokenEnv or tokenFile/],
    ["{ alias: demo, cloneUrl: 'https://git.corp.example/demo.git', git: { username: 'a:b', tokenFile: ./git.token } }", /repositories\[0\]\.git\.username: a user name of printable characters without spaces or colons/],
    ["{ alias: demo, cloneUrl: 'https://git.corp.example/demo.git', git: { tokenFile: ./missing.token } }", /repositories\[0\]\.git\.tokenFile: a readable file \(ENOENT/],
    ["{ alias: demo, cloneUrl: 'https://git.corp.example/demo.git', git: { tokenEnv: GIT_TOKEN } }", /repositories\[0\]\.git\.tokenEnv: the environment variable GIT_TOKEN to be set/],
  ])('refuses %s, naming the key', (repository, expected) => {
    expect(problemsOf(repository)).toMatch(expected);
  });

  it('refuses a sealed token without a KEK, naming the field and never the token', () => {
    writeFileSync(join(dir, 'git.token'), 'airlock-sealed:v1:kek_0123456789abcdef:AAAA:BBBB:CCCC');
    const problems = problemsOf("{ alias: demo, cloneUrl: 'https://git.corp.example/demo.git', git: { tokenFile: ./git.token } }");
    expect(problems).toMatch(/repositories\[0\]\.git\.tokenFile: secrets\.kekFile or secrets\.kekEnv to be set/);
  });

  it('makes a header keyed to the URL, refuses redirects there, and reads the token file at each call', async () => {
    const repo = load("{ alias: demo, cloneUrl: 'https://git.corp.example/team/demo.git', git: { username: bot, tokenFile: ./git.token } }").repositories[0];
    const url = 'https://git.corp.example/team/demo.git';

    expect(await gitCredentialEnvironment(url, repo?.git)).toEqual({
      GIT_CONFIG_COUNT: '2',
      GIT_CONFIG_KEY_0: `http.${url}.extraHeader`,
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(`bot:${TOKEN}`).toString('base64')}`,
      GIT_CONFIG_KEY_1: `http.${url}.followRedirects`,
      GIT_CONFIG_VALUE_1: 'false',
    });
    writeFileSync(join(dir, 'git.token'), 'rotated');
    expect((await gitCredentialEnvironment(url, repo?.git))['GIT_CONFIG_VALUE_0']).toBe(`Authorization: Basic ${Buffer.from('bot:rotated').toString('base64')}`);
  });

  it('gives nothing to an ssh or local push URL, nor without credentials', async () => {
    const repo = load("{ alias: demo, cloneUrl: 'https://git.corp.example/team/demo.git', git: { tokenFile: ./git.token } }").repositories[0];
    expect(await gitCredentialEnvironment('git@git.corp.example:team/demo.git', repo?.git)).toEqual({});
    expect(await gitCredentialEnvironment('/srv/git/demo.git', repo?.git)).toEqual({});
    expect(await gitCredentialEnvironment('https://git.corp.example/team/demo.git', undefined)).toEqual({});
  });

  it('fails GitCredentialsUnreadableError naming the file, never the token, when the file is gone or unusable', async () => {
    const repo = load("{ alias: demo, cloneUrl: 'https://git.corp.example/team/demo.git', git: { tokenFile: ./git.token } }").repositories[0];
    writeFileSync(join(dir, 'git.token'), `${TOKEN} with spaces`);
    const unusable = await gitCredentialEnvironment('https://git.corp.example/team/demo.git', repo?.git).catch((error: unknown) => error);
    expect(unusable).toBeInstanceOf(GitCredentialsUnreadableError);
    expect((unusable as Error).message).not.toContain(TOKEN);
    rmSync(join(dir, 'git.token'));
    const gone = await gitCredentialEnvironment('https://git.corp.example/team/demo.git', repo?.git).catch((error: unknown) => error);
    expect(gone).toBeInstanceOf(GitCredentialsUnreadableError);
    expect((gone as Error).message).toMatch(/ENOENT.*git\.token/);
  });
});
