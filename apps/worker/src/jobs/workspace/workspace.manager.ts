import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isBaseRefAllowed } from '@airlock/policy';
import type { RepositoryConfig } from '../../config/worker-config.loader';
import { gitCredentialEnvironment } from '../../git/git-credentials';
import type { GitRunner } from '../../git/git-runner';
import type { Logger } from '../../logging/json-logger';
import { BaseRefNotFoundError } from './base-ref-not-found.error';
import { ReviewWorkspaceError } from './review-workspace.error';
import { KeyedLock } from './keyed.lock';

/** A job's checkout: where it is and which commit it started from. */
export interface JobWorkspace {
  readonly worktree: string;
  readonly baseCommit: string;
}

/** A review's checkout: the worktree at the merge request's head, and where the change starts. */
export interface ReviewWorkspace {
  readonly worktree: string;
  readonly headCommit: string;
  /** The merge base of the head and the target branch's tip. */
  readonly mergeBase: string;
}

/** Runs git in a repository's mirror. */
type MirrorGit = (args: string[], timeoutMs: number, input?: string) => Promise<{ readonly stdout: string }>;

const FETCH_TIMEOUT_MS = 10 * 60_000;

/**
 * Bare mirror per repository (`mirrors/<alias>.git`: branches only, `fetch --prune`),
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

  /**
   * Updates the mirror and checks out branch `baseRef` (exactly `refs/heads/<baseRef>`:
   * never a tag, a pull-request ref or any other namespace) in a fresh worktree. The
   * gatekeeper has already checked `baseRef` against the repository's `baseRefs`; the
   * worker's own branches are refused here once more, as the last line before checkout.
   */
  async prepare(repo: RepositoryConfig, baseRef: string, jobKey: string, signal: AbortSignal): Promise<JobWorkspace> {
    if (!isBaseRefAllowed(baseRef, { allowed: repo.baseRefs, forbiddenPrefixes: [repo.branchPrefix] })) {
      throw new BaseRefNotFoundError('base ref is not allowed by the catalog');
    }
    const mirror = join(this.mirrorsDir, `${repo.alias}.git`);
    const worktree = join(this.jobsDir, jobKey);
    return this.lock.run(repo.alias, async () => {
      const git = this.mirrorGit(mirror, signal);
      await this.updateMirror(repo, mirror, git, signal);
      let baseCommit: string;
      try {
        // show-ref --verify takes the exact ref name: no DWIM search through other namespaces.
        const { stdout } = await git(['show-ref', '--verify', '--hash', `refs/heads/${baseRef}`], 30_000);
        const { stdout: peeled } = await git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${stdout.trim()}^{commit}`], 30_000);
        baseCommit = peeled.trim();
      } catch {
        throw new BaseRefNotFoundError('base ref does not resolve to a commit');
      }
      await rm(worktree, { recursive: true, force: true });
      await git(['worktree', 'add', '--detach', '--quiet', worktree, baseCommit], FETCH_TIMEOUT_MS);
      return { worktree, baseCommit };
    });
  }

  /**
   * Updates the mirror and checks out a merge request's head commit `headSha` in a fresh
   * worktree (removed with `release`), for a review: the request's change is what `headSha`
   * adds to its merge base with `targetBranch`, which is returned too. The branches and the
   * commit are the forge's word, so each is checked here: git must take both names as branch
   * names, both branches must be in the repository, and `headSha` must be on `sourceBranch` as
   * just fetched (its tip, or behind it when someone pushed since the forge was read). Any
   * branch may be reviewed, the worker's own included: nothing of it is run, only read.
   */
  async prepareReview(repo: RepositoryConfig, request: { readonly sourceBranch: string; readonly targetBranch: string; readonly headSha: string }, jobKey: string, signal: AbortSignal): Promise<ReviewWorkspace> {
    const mirror = join(this.mirrorsDir, `${repo.alias}.git`);
    const worktree = join(this.jobsDir, jobKey);
    return this.lock.run(repo.alias, async () => {
      const git = this.mirrorGit(mirror, signal);
      await this.updateMirror(repo, mirror, git, signal);
      const tipOf = async (branch: string): Promise<string> => {
        try {
          await git(['check-ref-format', '--branch', branch], 30_000);
          const { stdout } = await git(['rev-parse', '--verify', '--quiet', '--end-of-options', `refs/heads/${branch}^{commit}`], 30_000);
          return stdout.trim();
        } catch {
          throw new ReviewWorkspaceError(`the merge request's branch ${JSON.stringify(branch)} is not a branch of the repository`);
        }
      };
      const sourceTip = await tipOf(request.sourceBranch);
      const targetTip = await tipOf(request.targetBranch);
      if (!/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(request.headSha)) throw new ReviewWorkspaceError('the merge request\'s head is not a commit id');
      try {
        await git(['merge-base', '--is-ancestor', request.headSha, sourceTip], 60_000);
      } catch {
        throw new ReviewWorkspaceError(`the merge request's head ${request.headSha} is not on its branch as fetched (force-pushed since?)`);
      }
      const { stdout: mergeBase } = await git(['merge-base', request.headSha, targetTip], 60_000);
      await rm(worktree, { recursive: true, force: true });
      await git(['worktree', 'add', '--detach', '--quiet', worktree, request.headSha], FETCH_TIMEOUT_MS);
      return { worktree, headCommit: request.headSha, mergeBase: mergeBase.trim() };
    });
  }

  /** git in the mirror, bounded in time and cancelled with the job. */
  private mirrorGit(mirror: string, signal: AbortSignal): MirrorGit {
    return (args, timeoutMs, input) => this.git.run(args, { cwd: mirror, signal, timeoutMs, ...(input === undefined ? {} : { input }) });
  }

  /**
   * Makes the mirror if needed and fetches every branch into it, pruned: branches only, no tags
   * (not even auto-followed ones). Only the fetch gets the repository's git credentials.
   */
  private async updateMirror(repo: RepositoryConfig, mirror: string, git: MirrorGit, signal: AbortSignal): Promise<void> {
    await this.ensureMirror(mirror, signal);
    await this.git.run(['fetch', '--prune', '--no-tags', '--quiet', '--', repo.cloneUrl, '+refs/heads/*:refs/heads/*'], {
      cwd: mirror,
      signal,
      timeoutMs: FETCH_TIMEOUT_MS,
      env: await gitCredentialEnvironment(repo.cloneUrl, repo.git),
    });
    await this.dropRefsOutsideHeads(git);
  }

  /**
   * Fetches the one branch `branch` into the repository's mirror, then lets `read` run git in
   * the mirror, both under the alias's lock: the delivery watch reads a target branch's
   * history there after a merge. Nothing is checked out and nothing leaves the host but the
   * fetch from the repository's own clone URL. A branch name git would not take is refused.
   */
  async readBranch<T>(repo: RepositoryConfig, branch: string, signal: AbortSignal, read: (git: (args: readonly string[]) => Promise<string>) => Promise<T>): Promise<T> {
    const mirror = join(this.mirrorsDir, `${repo.alias}.git`);
    return this.lock.run(repo.alias, async () => {
      const git = async (args: readonly string[], timeoutMs = 60_000) => (await this.git.run([...args], { cwd: mirror, signal, timeoutMs })).stdout;
      await this.ensureMirror(mirror, signal);
      // The name comes from the forge: git checks that it is a branch name (none starts with `-`).
      await git(['check-ref-format', '--branch', branch]);
      await this.git.run(['fetch', '--no-tags', '--quiet', '--', repo.cloneUrl, `+refs/heads/${branch}:refs/heads/${branch}`], {
        cwd: mirror,
        signal,
        timeoutMs: FETCH_TIMEOUT_MS,
        env: await gitCredentialEnvironment(repo.cloneUrl, repo.git),
      });
      return read(git);
    });
  }

  /**
   * A bare repository for the mirror, made when there is none. Not `clone --mirror`: that
   * copies every namespace (refs/pull/*, refs/tags/*, …) and records a `+refs/*:refs/*`
   * refspec. An empty bare repository plus the fetches of branches holds branches only.
   */
  private async ensureMirror(mirror: string, signal: AbortSignal): Promise<void> {
    if (existsSync(mirror)) return;
    await mkdir(this.mirrorsDir, { recursive: true });
    await this.git.run(['init', '--bare', '--quiet', '--', mirror], { cwd: this.mirrorsDir, signal, timeoutMs: 60_000 });
  }

  /**
   * Deletes every ref outside `refs/heads/` — left by a mirror that an older worker cloned
   * with `+refs/*:refs/*` — so that no tag, pull-request ref or pushed-elsewhere namespace
   * survives in the cache.
   */
  private async dropRefsOutsideHeads(git: MirrorGit): Promise<void> {
    const { stdout } = await git(['for-each-ref', '--format=%(refname)'], 60_000);
    const stale = stdout.split('\n').filter((ref) => ref !== '' && !ref.startsWith('refs/heads/'));
    if (stale.length === 0) return;
    await git(['update-ref', '--no-deref', '--stdin'], 60_000, stale.map((ref) => `delete ${ref}\n`).join(''));
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
