import { lstat, mkdir, readFile, realpath, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, relative, sep } from 'node:path';
import { REPO_CONFIG_FILE } from '../repo-config/repo-config.reader';
import { EditPathRejectedError } from './edit-path-rejected.error';
import type { EditBlock } from './edit-block.parser';
import { findFuzzyMatch } from './fuzzy-match';

/** How one edit went: how its SEARCH was found, or why it could not be applied (told to the model). */
export type EditOutcome =
  | { readonly applied: true; readonly path: string; readonly match: 'exact' | 'whitespace' | 'fuzzy' | 'created' }
  | { readonly applied: false; readonly path: string; readonly problem: 'not-found' | 'ambiguous' | 'file-exists' | 'no-such-file' | 'not-a-file' };

/** A fuzzy match must be at least this similar (bigram Dice per line, averaged) to be applied. */
export const FUZZY_MATCH_THRESHOLD = 0.9;

/**
 * Applies edit blocks to a worktree. A SEARCH must match exactly once; failing that, once
 * ignoring leading and trailing whitespace per line; failing that, one stretch of lines
 * must be clearly the most similar and at least FUZZY_MATCH_THRESHOLD alike (a model that
 * misremembers a comment or a quote style still edits the right place). An empty SEARCH
 * creates a new file. Any path escaping the worktree, into `.git`, or to the repository's
 * `.airlock.yml` (the source of the test command: a model must never choose what the
 * worker runs) is refused with EditPathRejectedError before anything is written.
 */
export class EditBlockApplier {
  /** Applies one block and says how; throws EditPathRejectedError for a path that is not allowed. */
  async applyEdit(worktree: string, block: EditBlock): Promise<EditOutcome> {
    const root = await realpath(worktree);
    const target = await this.resolveInside(root, block.path);
    const path = relative(root, target).split(sep).join('/');
    const isCreate = block.search.every((line) => line.trim() === '');
    let current: string | undefined;
    try {
      const info = await lstat(target);
      if (!info.isFile()) return { applied: false, path, problem: 'not-a-file' };
      current = await readFile(target, 'utf8');
    } catch {
      current = undefined;
    }
    if (isCreate) {
      if (current !== undefined) return { applied: false, path, problem: 'file-exists' };
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, ensureTrailingNewline(block.replace.join('\n')));
      return { applied: true, path, match: 'created' };
    }
    if (current === undefined) return { applied: false, path, problem: 'no-such-file' };
    const lines = current.split('\n');
    const found = locate(lines, block.search);
    if ('problem' in found) return { applied: false, path, problem: found.problem };
    lines.splice(found.at, block.search.length, ...block.replace);
    await writeFile(target, lines.join('\n'));
    return { applied: true, path, match: found.match };
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
}

type Located = { readonly at: number; readonly match: 'exact' | 'whitespace' | 'fuzzy' } | { readonly problem: 'not-found' | 'ambiguous' };

/** Exact, then whitespace-tolerant, then fuzzy; a tier with two matches is ambiguous, and says so. */
function locate(lines: readonly string[], search: readonly string[]): Located {
  const exact = findAll(lines, search, (a, b) => a === b);
  if (exact.length === 1) return { at: exact[0] as number, match: 'exact' };
  if (exact.length > 1) return { problem: 'ambiguous' };
  const loose = findAll(lines, search, (a, b) => a.trim() === b.trim());
  if (loose.length === 1) return { at: loose[0] as number, match: 'whitespace' };
  if (loose.length > 1) return { problem: 'ambiguous' };
  const fuzzy = findFuzzyMatch(lines, search, FUZZY_MATCH_THRESHOLD);
  if (fuzzy === 'ambiguous') return { problem: 'ambiguous' };
  return fuzzy === undefined ? { problem: 'not-found' } : { at: fuzzy, match: 'fuzzy' };
}

function findAll(lines: readonly string[], search: readonly string[], same: (a: string, b: string) => boolean): number[] {
  const found: number[] = [];
  for (let start = 0; start + search.length <= lines.length; start += 1) {
    if (search.every((line, offset) => same(lines[start + offset] as string, line))) found.push(start);
    if (found.length > 1) break;
  }
  return found;
}

function ensureTrailingNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}
