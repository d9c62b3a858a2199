import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Whether this process may mount a tmpfs (root; CI runs as root). Specs that need one skip, naming why, otherwise. */
export const CAN_MOUNT_TMPFS = process.getuid?.() === 0;

/** A real, small filesystem of its own under the system temp folder, for full-disk tests. */
export interface SmallTmpfs {
  readonly path: string;
  /** Unmounts it (lazily if a descriptor is still open) and removes the mount point. */
  unmount(): void;
}

/** Mounts a tmpfs of `size` (e.g. `64k`, `2m`) on a fresh folder. */
export function mountSmallTmpfs(size: string): SmallTmpfs {
  const path = mkdtempSync(join(tmpdir(), 'airlock-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', path]);
  return {
    path,
    unmount() {
      try {
        execFileSync('umount', [path]);
      } catch {
        // Still busy (a descriptor a failed test left open): detach it now, gone once that closes.
        execFileSync('umount', ['-l', path]);
      }
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/** Writes `file` until its filesystem refuses with ENOSPC: 4 KiB at a time, then byte by byte into the last page. */
export function fillUntilFull(file: string): void {
  const fd = openSync(file, 'w');
  try {
    for (const chunk of [Buffer.alloc(4096, 0x66), Buffer.alloc(1, 0x66)]) {
      for (;;) {
        try {
          if (writeSync(fd, chunk) < chunk.length) break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}
