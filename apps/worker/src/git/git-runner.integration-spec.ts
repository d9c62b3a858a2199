import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
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
});
