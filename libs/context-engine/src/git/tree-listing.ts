import { GitListingFailedError } from '../errors/git-listing-failed.error';
import { IndexBuildAbortedError } from '../errors/index-build-aborted.error';
import type { TreeEntryKind } from '../selection/skip-rules';
import type { GitCommandRunner } from './git-command-runner';

/** A full object id: SHA-1 (40 hex) or SHA-256 (64 hex) repositories. */
export const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** One path of a commit's tree, with the id of its blob: what incremental updates compare. */
export interface TreeEntry extends TreeEntryKind {
  readonly objectId: string;
}

// `<mode> SP <type> SP <object> SP+ <size> TAB <path>` (ls-tree -l); size is `-` for submodules.
const LS_TREE_LINE = /^(\d{6}) (blob|commit|tree) ([0-9a-f]{40}|[0-9a-f]{64}) +(\d+|-)\t(.+)$/s;

export async function runGit(git: GitCommandRunner, step: GitListingFailedError['step'], args: string[], cwd: string, signal: AbortSignal | undefined, timeoutMs: number) {
  try {
    return (await git.run(args, { cwd, signal, timeoutMs })).stdout;
  } catch (error) {
    if (signal?.aborted) throw new IndexBuildAbortedError({ cause: error });
    throw new GitListingFailedError(step, error instanceof Error ? error.message : 'unknown failure', { cause: error });
  }
}

/** The commit the worktree's HEAD points at. */
export async function resolveHead(git: GitCommandRunner, worktree: string, signal: AbortSignal | undefined, timeoutMs: number): Promise<string> {
  const head = (await runGit(git, 'rev-parse', ['rev-parse', '--verify', '--end-of-options', 'HEAD^{commit}'], worktree, signal, timeoutMs)).trim();
  if (!OBJECT_ID.test(head)) throw new GitListingFailedError('rev-parse', 'HEAD is not a full object id');
  return head;
}

/**
 * Every path of `commit`'s tree with its kind, size and blob id, sorted by path. The
 * listing comes from git's object store, not from the disk, so files the job has not yet
 * touched and files it has are told apart by id alone.
 */
export async function listTree(
  git: GitCommandRunner,
  worktree: string,
  commit: string,
  signal: AbortSignal | undefined,
  timeoutMs: number,
): Promise<TreeEntry[]> {
  const stdout = await runGit(git, 'ls-tree', ['ls-tree', '-r', '-l', '-z', '--full-tree', commit], worktree, signal, timeoutMs);
  const entries: TreeEntry[] = [];
  for (const record of stdout.split('\0')) {
    if (record === '') continue;
    const match = LS_TREE_LINE.exec(record);
    if (!match) throw new GitListingFailedError('ls-tree', 'unexpected output line');
    const [, mode, type, objectId, size, path] = match as unknown as [string, string, string, string, string, string];
    if (type === 'tree') continue;
    const kind = type === 'commit' ? 'submodule' : mode === '120000' ? 'symlink' : 'blob';
    entries.push({ path, kind, objectId, size: size === '-' ? 0 : Number(size) });
  }
  return entries.sort((a, b) => comparePaths(a.path, b.path));
}

/** The one path order used everywhere (listing, index, ties in ranking): code-unit order. */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
