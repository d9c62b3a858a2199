import type { RepositoryConfig } from '../../config/worker-config.loader';
import type { WorkspaceManager } from '../../jobs/workspace/workspace.manager';
import type { RevertSearch } from './delivery-outcome';

/** At most this many commits are looked for: GitHub lists no more of a request's commits than 250, and a merge commit. */
const MAX_COMMITS = 251;

/**
 * Finds whether a merged change was reverted, with real git in the worker's own mirror of the
 * repository: the target branch is fetched, then `git log --grep` looks for the message
 * `git revert` writes ("This reverts commit <sha>.") naming the merge commit or any commit of
 * the request, committed within the revert window. Only the answer, a boolean, comes out:
 * no message, commit or name goes anywhere.
 */
export class RevertFinder {
  constructor(private readonly workspace: Pick<WorkspaceManager, 'readBranch'>) {}

  async reverted(repo: RepositoryConfig, search: RevertSearch, signal: AbortSignal): Promise<boolean> {
    const commits = search.commits.slice(0, MAX_COMMITS);
    if (commits.length === 0) return false;
    return this.workspace.readBranch(repo, search.targetBranch, signal, async (git) => {
      const found = await git([
        'log',
        '--format=%H',
        '--max-count=1',
        // Committer dates as whole seconds (`@<epoch>`): the window starts at the merge, to the second.
        `--since=@${Math.floor(search.from / 1000)}`,
        `--until=@${Math.ceil(search.until / 1000)}`,
        '--fixed-strings',
        ...commits.map((sha) => `--grep=This reverts commit ${sha}`),
        `refs/heads/${search.targetBranch}`,
        '--',
      ]);
      return found.trim() !== '';
    });
  }
}
