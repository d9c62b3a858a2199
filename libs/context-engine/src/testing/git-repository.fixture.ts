import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { GitCommandRunner } from '../git/git-command-runner';

const execFileAsync = promisify(execFile);

/**
 * A plain `git` runner for tests, with the same contract as the worker's hardened one:
 * argv only, rejects on a non-zero exit, honours the signal. No user or system config.
 */
export const testGitRunner: GitCommandRunner = {
  async run(args, options) {
    const { stdout } = await execFileAsync('git', [...args], {
      cwd: options.cwd,
      signal: options.signal,
      timeout: options.timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', HOME: tmpdir(), LANG: 'C' },
    });
    return { stdout };
  },
};

/** A throwaway git repository in a temporary folder, with helpers to change and commit it. */
export class TestRepository {
  private constructor(readonly root: string) {}

  static async create(): Promise<TestRepository> {
    const root = mkdtempSync(join(tmpdir(), 'context-engine-repo-'));
    const repository = new TestRepository(root);
    await repository.git('init', '-q', '-b', 'main');
    return repository;
  }

  async git(...args: string[]): Promise<string> {
    return (await testGitRunner.run(args, { cwd: this.root, timeoutMs: 30_000 })).stdout;
  }

  write(files: Readonly<Record<string, string | Buffer>>): void {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(this.root, path)), { recursive: true });
      writeFileSync(join(this.root, path), content);
    }
  }

  remove(...paths: string[]): void {
    for (const path of paths) rmSync(join(this.root, path), { force: true, recursive: true });
  }

  /** Stages everything and commits; returns the new commit id. */
  async commit(message: string): Promise<string> {
    await this.git('add', '-A');
    await this.git('-c', 'user.name=Test', '-c', 'user.email=test@example.invalid', 'commit', '-q', '--allow-empty', '-m', message);
    return (await this.git('rev-parse', 'HEAD')).trim();
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
