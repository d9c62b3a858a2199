import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CandidateChange } from '@airlock/policy';
import type { GitRunner } from '../../git/git-runner';
import { parsePatchFiles } from './patch-files';

/** The most of one file the rules read, before or after the change; a larger file counts as unreadable. */
export const MAX_GOVERNED_FILE_BYTES = 4 * 1024 * 1024;

const GIT_TIMEOUT_MS = 120_000;

/**
 * Stages the files the agent's edits wrote — and nothing else: what setup installed and what
 * test runs left (reports, caches) never enters the change — and returns the staged patch
 * against the base commit (`git diff --binary`, empty when the edits change nothing in the
 * end). Both the governance review at the end of the agent loop and APPLY call it, so the
 * candidate the policy judges is byte for byte the one APPLY records and DELIVER commits;
 * staging again after more edits simply replaces what was staged.
 */
export async function stageChange(
  git: Pick<GitRunner, 'run'>,
  workspace: { readonly worktree: string; readonly baseCommit: string },
  touched: readonly string[],
  signal: AbortSignal,
): Promise<string> {
  const run = (args: string[], input?: string) =>
    git.run(args, { cwd: workspace.worktree, signal, timeoutMs: GIT_TIMEOUT_MS, ...(input === undefined ? {} : { input }) });
  // Literal: a path is not a glob. `--all` stages a file an edit created and the model emptied away too.
  await run(['--literal-pathspecs', 'add', '--all', '--pathspec-from-file=-', '--pathspec-file-nul'], `${touched.join('\0')}\0`);
  return (await run(['diff', '--cached', '--binary', workspace.baseCommit])).stdout;
}

/**
 * The staged patch as the policy reads it: its files from the patch, each file's content
 * before from the base commit and after from the worktree (which matches the index: the
 * patch was staged from it), both bounded by MAX_GOVERNED_FILE_BYTES.
 */
export function worktreeCandidate(
  git: Pick<GitRunner, 'run'>,
  workspace: { readonly worktree: string; readonly baseCommit: string },
  patch: string,
  signal: AbortSignal,
): CandidateChange {
  const run = (args: string[]) => git.run(args, { cwd: workspace.worktree, signal, timeoutMs: GIT_TIMEOUT_MS });
  return {
    files: parsePatchFiles(patch).map((entry) => entry.file),
    async readBefore(path) {
      const object = `${workspace.baseCommit}:${path}`;
      try {
        const size = Number((await run(['cat-file', '-s', object])).stdout.trim());
        if (!(size <= MAX_GOVERNED_FILE_BYTES)) return undefined;
        return (await run(['cat-file', 'blob', object])).stdout;
      } catch {
        return undefined; // not at the base commit
      }
    },
    async readAfter(path) {
      const target = join(workspace.worktree, path);
      try {
        // lstat: a symlink is not followed out of the worktree; its target is not the file's content.
        const info = await lstat(target);
        if (!info.isFile() || info.size > MAX_GOVERNED_FILE_BYTES) return undefined;
        return await readFile(target, 'utf8');
      } catch {
        return undefined;
      }
    },
  };
}

/**
 * A recorded patch as the policy reads it, with nothing but the patch: the whole content of a
 * file is known only where the patch shows all of it (a file it creates, after; a file it
 * deletes, before). Rules that read manifests see nothing of a manifest the patch only
 * modifies.
 */
export function patchCandidate(patch: string): CandidateChange {
  const files = parsePatchFiles(patch);
  const byPath = new Map(files.map((entry) => [entry.file.path, entry]));
  return {
    files: files.map((entry) => entry.file),
    readBefore: (path) => Promise.resolve(bounded(byPath.get(path)?.wholeBefore)),
    readAfter: (path) => Promise.resolve(bounded(byPath.get(path)?.wholeAfter)),
  };
}

function bounded(text: string | undefined): string | undefined {
  return text !== undefined && Buffer.byteLength(text, 'utf8') <= MAX_GOVERNED_FILE_BYTES ? text : undefined;
}
