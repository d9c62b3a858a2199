import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RepositoryConfig } from '../../config/worker-config.loader';
import type { GitRunner } from '../../git/git-runner';
import type { Logger } from '../../logging/json-logger';
import { KeyedLock } from './keyed.lock';

/** A job's checkout: where it is and which commit it started from. */
export interface JobWorkspace {
  readonly worktree: string;
  readonly baseCommit: string;
}

/** Raised when the base ref does not resolve to a commit in the mirror. */
export class BaseRefNotFoundError extends Error {
  override readonly name = 'BaseRefNotFoundError';
  readonly code = 'BASE_REF_NOT_FOUND';
}

const FETCH_TIMEOUT_MS = 10 * 60_000;

/**
 * Bare mirror per repository (`mirrors/<alias>.git`: cloned once, then `fetch --prune`),
 * plus one git worktree per job attempt (`jobs/<jobId>-<attempt>`) at the base commit.
 * Mirror work for one alias is serialised by a lock; worktrees are removed after the job
 * and any left over from a crash are removed at start.
 */
export class WorkspaceManager {
  private readonly lock = new KeyedLock();

  constructor(
    private readonly workspaceDir: string,
    private readonly git: GitRunner,
    private readonly logger: Logger,
  ) {}

  private get mirrorsDir(): string {
    return join(this.workspaceDir, 'mirrors');
  }

  private get jobsDir(): string {
    return join(this.workspaceDir, 'jobs');
  }

  /** Removes worktrees left by a previous run (a crash or a forced shutdown). */
  async removeStale(): Promise<void> {
    await mkdir(this.jobsDir, { recursive: true });
    await mkdir(this.mirrorsDir, { recursive: true });
    for (const name of await readdir(this.jobsDir)) {
      await rm(join(this.jobsDir, name), { recursive: true, force: true });
      this.logger.info('stale-worktree-removed', { name });
    }
    for (const name of await readdir(this.mirrorsDir)) {
      await this.git.run(['worktree', 'prune'], { cwd: join(this.mirrorsDir, name), timeoutMs: 60_000 }).catch(() => undefined);
    }
  }

  /** Updates the mirror and checks out the base ref in a fresh worktree. */
  async prepare(repo: RepositoryConfig, baseRef: string, jobKey: string, signal: AbortSignal): Promise<JobWorkspace> {
    const mirror = join(this.mirrorsDir, `${repo.alias}.git`);
    const worktree = join(this.jobsDir, jobKey);
    return this.lock.run(repo.alias, async () => {
      if (existsSync(mirror)) {
        await this.git.run(['fetch', '--prune', '--quiet', '--', repo.cloneUrl, '+refs/*:refs/*'], { cwd: mirror, signal, timeoutMs: FETCH_TIMEOUT_MS });
      } else {
        await mkdir(this.mirrorsDir, { recursive: true });
        await this.git.run(['clone', '--mirror', '--quiet', '--', repo.cloneUrl, mirror], { cwd: this.mirrorsDir, signal, timeoutMs: FETCH_TIMEOUT_MS });
      }
      let baseCommit: string;
      try {
        const { stdout } = await this.git.run(['rev-parse', '--verify', '--quiet', '--end-of-options', `${baseRef}^{commit}`], { cwd: mirror, signal, timeoutMs: 30_000 });
        baseCommit = stdout.trim();
      } catch {
        throw new BaseRefNotFoundError('base ref does not resolve to a commit');
      }
      await rm(worktree, { recursive: true, force: true });
      await this.git.run(['worktree', 'add', '--detach', '--quiet', worktree, baseCommit], { cwd: mirror, signal, timeoutMs: FETCH_TIMEOUT_MS });
      return { worktree, baseCommit };
    });
  }

  /** Removes a job's worktree and its registration in the mirror. Never throws. */
  async release(repo: RepositoryConfig, jobKey: string): Promise<void> {
    const mirror = join(this.mirrorsDir, `${repo.alias}.git`);
    await rm(join(this.jobsDir, jobKey), { recursive: true, force: true });
    await this.lock
      .run(repo.alias, () => this.git.run(['worktree', 'prune'], { cwd: mirror, timeoutMs: 60_000 }))
      .catch((error: unknown) => this.logger.warn('worktree-prune-failed', { error: error as Error }));
  }
}
