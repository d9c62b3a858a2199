import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RepoConfigInvalidError } from './repo-config-invalid.error';
import { MAX_REPO_CONFIG_BYTES, REPO_CONFIG_FILE, readRepoConfig } from './repo-config.reader';

describe('readRepoConfig', () => {
  let worktree: string;

  beforeEach(() => {
    worktree = mkdtempSync(join(tmpdir(), 'airlock-repo-config-'));
  });

  afterEach(() => {
    rmSync(worktree, { recursive: true, force: true });
  });

  const withConfig = (text: string): Promise<unknown> => {
    writeFileSync(join(worktree, REPO_CONFIG_FILE), text);
    return readRepoConfig(worktree);
  };

  async function refusal(read: () => Promise<unknown>): Promise<{ field: string; message: string }> {
    try {
      await read();
    } catch (error) {
      if (error instanceof RepoConfigInvalidError) return { field: error.field, message: error.message };
      throw error;
    }
    throw new Error('expected a RepoConfigInvalidError');
  }

  it('reads a valid file with its timeout in milliseconds', async () => {
    await expect(withConfig('version: 1\ntest:\n  command: ["node", "--test"]\n  timeout: 2m\ncontext:\n  include: ["src/**"]\n')).resolves.toEqual({
      version: 1,
      test: { command: ['node', '--test'], timeout: 120_000 },
      context: { include: ['src/**'] },
    });
  });

  it.each([
    ['a missing file', null, '', /readable \.airlock\.yml/],
    ['broken YAML', 'version: 1\ntest: [unclosed\n', '', /valid YAML/],
    ['a shell string instead of argv', 'version: 1\ntest:\n  command: "npm test && rm -rf /"\n', 'test.command', /array/],
    ['an empty command', 'version: 1\ntest:\n  command: []\n', 'test.command', /1/],
    ['an unknown version', 'version: 2\ntest:\n  command: ["make", "test"]\n', 'version', /1/],
    ['a junk timeout', 'version: 1\ntest:\n  command: ["make"]\n  timeout: soon\n', 'test.timeout', /duration/],
    ['a misspelt key (so no command)', 'version: 1\ntest:\n  comand: ["make"]\n', 'test.command', /array/],
  ])('refuses %s, naming the field', async (_what, text, field, message) => {
    const read = text === null ? () => readRepoConfig(worktree) : () => withConfig(text);
    const problem = await refusal(read);
    expect(problem.field).toBe(field);
    expect(problem.message).toMatch(message);
  });

  it('refuses a file larger than any real config, and a symbolic link, before parsing either', async () => {
    await expect(withConfig(`# ${'x'.repeat(MAX_REPO_CONFIG_BYTES)}\ntest: { command: [npm, test] }\n`)).rejects.toThrow(`.airlock.yml (file): expected at most ${MAX_REPO_CONFIG_BYTES} bytes`);
    const outside = join(worktree, '..', `outside-${Date.now()}.yml`);
    writeFileSync(outside, 'test: { command: [npm, test] }\n');
    try {
      rmSync(join(worktree, REPO_CONFIG_FILE), { force: true });
      symlinkSync(outside, join(worktree, REPO_CONFIG_FILE));
      await expect(readRepoConfig(worktree)).rejects.toThrow('not a symbolic link');
    } finally {
      rmSync(outside, { force: true });
    }
  });
});
