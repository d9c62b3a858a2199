import { lstat, mkdir, readFile, realpath, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, relative, sep } from 'node:path';
import { REPO_CONFIG_FILE } from '../repo-config/repo-config.reader';
import { EditPathRejectedError } from './edit-path-rejected.error';
import type { EditBlock } from './edit-block.parser';

/** How many edits applied, and the files they wrote; a rejected path aborts the whole apply instead. */
export interface ApplyOutcome {
  readonly applied: number;
  /** Worktree-relative paths with `/`, each once: what the change consists of, and all that is staged. */
  readonly touched: readonly string[];
}

/**
 * Applies edit blocks to a worktree. A SEARCH must match exactly once (falling back to a
 * match that ignores leading/trailing whitespace per line, when that is unique); an empty
 * SEARCH creates a new file. Any path escaping the worktree, into `.git`, or to the
 * repository's `.airlock.yml` (the source of the test command: a model must never choose
 * what the worker runs) rejects the whole answer: a model that tries it is not to be
 * trusted with the remaining edits either.
 */
export class EditBlockApplier {
  async apply(worktree: string, blocks: readonly EditBlock[]): Promise<ApplyOutcome> {
    const root = await realpath(worktree);
    const targets: string[] = [];
    for (const block of blocks) targets.push(await this.resolveInside(root, block.path));
    let applied = 0;
    const touched = new Set<string>();
    for (const [index, block] of blocks.entries()) {
      const target = targets[index] as string;
      if (await this.applyOne(target, block)) {
        applied += 1;
        touched.add(relative(root, target).split(sep).join('/'));
      }
    }
    return { applied, touched: [...touched] };
  }

  /** Resolves a model-given path to an absolute path inside the worktree, or throws. */
  async resolveInside(root: string, path: string): Promise<string> {
    if (isAbsolute(path) || /^[A-Za-z]:/.test(path)) throw new EditPathRejectedError('absolute');
    const parts = path.split(/[\\/]+/);
    if (parts.includes('..')) throw new EditPathRejectedError('parent-segment');
    const normalized = normalize(path);
    if (normalized.split(sep).some((part) => part.toLowerCase() === '.git')) throw new EditPathRejectedError('git-dir');
    // Case-insensitively, as `.git`: on a case-insensitive file system `.Airlock.yml` is the same file.
    if (normalized.toLowerCase() === REPO_CONFIG_FILE) throw new EditPathRejectedError('repo-config');
    const target = join(root, normalized);
    // Follow symlinks on the deepest existing ancestor: a link inside the tree may point out of it.
    let existing = target;
    for (;;) {
      try {
        await lstat(existing);
        break;
      } catch {
        const parent = dirname(existing);
        if (parent === existing) break;
        existing = parent;
      }
    }
    const real = await realpath(existing);
    const rel = relative(root, real);
    if (rel.startsWith('..') || isAbsolute(rel)) throw new EditPathRejectedError('outside-worktree');
    if (existing === target && (await lstat(target)).isSymbolicLink()) throw new EditPathRejectedError('outside-worktree');
    return target;
  }

  private async applyOne(target: string, block: EditBlock): Promise<boolean> {
    const isCreate = block.search.every((line) => line.trim() === '');
    let current: string | undefined;
    try {
      const info = await lstat(target);
      if (!info.isFile()) return false;
      current = await readFile(target, 'utf8');
    } catch {
      current = undefined;
    }
    if (isCreate) {
      if (current !== undefined) return false;
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, ensureTrailingNewline(block.replace.join('\n')));
      return true;
    }
    if (current === undefined) return false;
    const lines = current.split('\n');
    const at = findUnique(lines, block.search, (a, b) => a === b) ?? findUnique(lines, block.search, (a, b) => a.trim() === b.trim());
    if (at === undefined) return false;
    lines.splice(at, block.search.length, ...block.replace);
    await writeFile(target, lines.join('\n'));
    return true;
  }
}

function findUnique(lines: readonly string[], search: readonly string[], same: (a: string, b: string) => boolean): number | undefined {
  let found: number | undefined;
  for (let start = 0; start + search.length <= lines.length; start += 1) {
    if (search.every((line, offset) => same(lines[start + offset] as string, line))) {
      if (found !== undefined) return undefined;
      found = start;
    }
  }
  return found;
}

function ensureTrailingNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}
