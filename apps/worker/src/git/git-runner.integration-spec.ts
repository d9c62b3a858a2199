import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBareRepo, git } from '../testing/git-fixture.mock';
import { GitCommandFailedError } from './git-command-failed.error';
import { GitRunner } from './git-runner';

const host = { path: process.env['PATH'] ?? '/usr/bin:/bin', lang: 'C.UTF-8' };

describe('GitRunner', () => {
  const repo = createBareRepo({ 'README.md': `${'a long line of text '.repeat(50)}\n` });
  const cwd = mkdtempSync(join(tmpdir(), 'airlock-git-runner-'));

  it('returns what git printed', async () => {
    const { stdout } = await new GitRunner(host).run(['--git-dir', repo, 'cat-file', '-p', 'HEAD:README.md'], { cwd });
    expect(stdout).toContain('a long line of text');
  });

  it('fails, rather than truncating, when git prints more than the bound', async () => {
    const failure = await new GitRunner(host, 60_000, 100).run(['--git-dir', repo, 'cat-file', '-p', 'HEAD:README.md'], { cwd }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(GitCommandFailedError);
    expect((failure as GitCommandFailedError).reason).toBe('output-too-large');
  });

  it('runs git with an empty HOME of its own, so files written in the worktree are not git user config', async () => {
    const worktree = join(mkdtempSync(join(tmpdir(), 'airlock-git-home-spec-')), 'wt');
    git(tmpdir(), 'clone', '--quiet', repo, worktree);
    mkdirSync(join(worktree, '.config', 'git'), { recursive: true });
    writeFileSync(join(worktree, '.config', 'git', 'ignore'), '*.txt\n');
    writeFileSync(join(worktree, 'notes.txt'), 'model output\n');
    const { stdout } = await new GitRunner(host).run(['status', '--porcelain', '--untracked-files=all'], { cwd: worktree });
    expect(stdout).toContain('notes.txt');
  });

  /** HOME as git sees it, through a shell alias (git runs `!` aliases with its own environment). */
  const homeOf = async (runner: GitRunner) => (await runner.run(['-c', 'alias.home=!echo "$HOME"', 'home'], { cwd })).stdout.trim();

  it('gives every runner of a process the same empty HOME, and removes it when the process exits', async () => {
    const home = await homeOf(new GitRunner(host));
    expect(await homeOf(new GitRunner(host))).toBe(home);
    expect(readdirSync(home)).toEqual([]);
    // A process of its own: its HOME must be gone once it has exited.
    const script = `const { GitRunner } = require(${JSON.stringify(require.resolve('./git-runner'))});
      new GitRunner({ path: process.env.PATH, lang: 'C.UTF-8' }).run(['-c', 'alias.home=!echo "$HOME"', 'home'], { cwd: process.cwd() }).then((r) => process.stdout.write(r.stdout));`;
    const childHome = execFileSync(process.execPath, ['-r', require.resolve('@swc-node/register'), '-e', script], { cwd, encoding: 'utf8' }).trim();
    expect(childHome).toMatch(/airlock-git-home-/);
    expect(childHome).not.toBe(home);
    expect(existsSync(childHome)).toBe(false);
  });
});
