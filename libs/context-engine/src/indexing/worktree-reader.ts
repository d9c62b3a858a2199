import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, realpath } from 'node:fs/promises';
import { isAbsolute, join, sep } from 'node:path';
import type { SkipReason } from '../selection/skip-rules';

/** What reading one worktree file gave: its bytes, or why they were not read. */
export type WorktreeRead = { readonly kind: 'read'; readonly bytes: Buffer } | { readonly kind: 'skipped'; readonly reason: SkipReason };

/**
 * Reads files of one worktree and nothing outside it. A path from git (or from a cached
 * index) is only a name: the file it names on disk may have been replaced by a link since
 * the commit, or sit below a directory that was. So each read checks, in order: the name
 * has no `..` and is relative; the file itself is not a link; its real path lies inside the
 * worktree's real path; and it is opened with O_NOFOLLOW and checked again through the
 * open descriptor, so a link swapped in between the checks is not followed either.
 */
export class WorktreeReader {
  private constructor(
    private readonly root: string,
    private readonly realRoot: string,
  ) {}

  /** @param worktree the worktree's directory; its real path bounds every read. */
  static async open(worktree: string): Promise<WorktreeReader> {
    return new WorktreeReader(worktree, await realpath(worktree));
  }

  /** Reads `path` (worktree-relative, `/`-separated) if it is a regular file of at most `maxBytes`. */
  async read(path: string, maxBytes: number): Promise<WorktreeRead> {
    if (isAbsolute(path) || path.split('/').some((segment) => segment === '..' || segment === '' || segment === '.') || path.includes('\0')) {
      return { kind: 'skipped', reason: 'outside-worktree' };
    }
    const absolute = join(this.root, path);
    try {
      const info = await lstat(absolute);
      if (info.isSymbolicLink()) return { kind: 'skipped', reason: 'symlink' };
      if (!info.isFile()) return { kind: 'skipped', reason: 'unreadable' };
      if (info.size > maxBytes) return { kind: 'skipped', reason: 'too-large' };
      const real = await realpath(absolute);
      if (!real.startsWith(this.realRoot + sep)) return { kind: 'skipped', reason: 'outside-worktree' };
      const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        const opened = await handle.stat();
        if (!opened.isFile()) return { kind: 'skipped', reason: 'unreadable' };
        if (opened.size > maxBytes) return { kind: 'skipped', reason: 'too-large' };
        // One byte more than allowed: a file that grew since the stat is caught, not cut.
        const buffer = Buffer.alloc(Math.min(opened.size, maxBytes) + 1);
        let filled = 0;
        while (filled < buffer.length) {
          const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
          if (bytesRead === 0) break;
          filled += bytesRead;
        }
        if (filled > maxBytes) return { kind: 'skipped', reason: 'too-large' };
        return { kind: 'read', bytes: buffer.subarray(0, filled) };
      } finally {
        await handle.close();
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // ELOOP: O_NOFOLLOW met a link swapped in after the checks.
      if (code === 'ELOOP') return { kind: 'skipped', reason: 'symlink' };
      // Gone, or a directory where a file was: the worktree no longer matches; not context.
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR' || code === 'EACCES') return { kind: 'skipped', reason: 'unreadable' };
      throw error;
    }
  }
}

/**
 * git's id for a blob with these bytes, in the hash of the repository (told by the length
 * of one of its ids): equal to the id in the tree exactly when the file on disk is what the
 * commit holds.
 */
export function blobObjectId(bytes: Buffer, likeObjectId: string): string {
  const hash = createHash(likeObjectId.length === 64 ? 'sha256' : 'sha1');
  hash.update(`blob ${bytes.length}\0`);
  hash.update(bytes);
  return hash.digest('hex');
}
