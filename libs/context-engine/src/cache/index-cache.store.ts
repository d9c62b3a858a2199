import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { rewriteDurably } from '@airlock/durable-file';
import { IndexCacheCorruptError } from '../errors/index-cache-corrupt.error';
import { type DecodedIndex, decodeIndex, encodeIndex, type IndexHeader } from './index-codec';
import type { IndexEntry } from '../indexing/index-entry';

// `<commit>.<selection digest, 16 hex>.index.json.gz`; anything else in the folder is not ours.
const FILE_NAME = /^([0-9a-f]{40}|[0-9a-f]{64})\.([0-9a-f]{16})\.index\.json\.gz$/;
// What `write` names its temporary files: `<file name>.<pid>.<12 hex>.tmp`.
const TEMPORARY_NAME = /^([0-9a-f]{40}|[0-9a-f]{64})\.[0-9a-f]{16}\.index\.json\.gz\.\d+\.[0-9a-f]{12}\.tmp$/;
/**
 * A temporary file this old was left by a writer that crashed between creating and renaming
 * it (a write takes well under a second): it is removed. A younger one may be another
 * process's write in progress and is left alone.
 */
const STALE_TEMPORARY_MS = 60 * 60_000;

/** One cached index file, named by commit and selection. */
export interface CachedIndexFile {
  readonly fileName: string;
  readonly commit: string;
  readonly selectionKey: string;
  readonly usedAtMs: number;
}

/** Why a cached file was not used; for the caller's local log. */
export interface CacheRejection {
  readonly commit: string;
  readonly reason: string;
}

/**
 * The cached indexes of one repository:
 * `<cacheDir>/<sha256(repositoryId), 32 hex>/<commit>.<selection key>.index.json.gz`.
 * The repository id is hashed so that no alias can name a path; the selection key is the
 * head of the selection digest, so one commit indexed under two `.airlock.yml` filters keeps
 * both. Files are replaced atomically (`rewriteDurably`), their modification time records
 * their last use, and only the `maxCachedIndexes` most recently used are kept.
 *
 * Several writers may share the folder (the worker's concurrent jobs of one repository,
 * another process on the same cache): each write goes through a temporary file of its own
 * name, so two writes of one index never share a half-written file; the last rename wins,
 * and both wrote the same bytes or two complete indexes.
 */
export class IndexCacheStore {
  readonly repositoryKey: string;
  private readonly directory: string;

  constructor(
    cacheDir: string,
    repositoryId: string,
    private readonly maxCachedIndexes: number,
    private readonly maxIndexBytes: number,
  ) {
    this.repositoryKey = createHash('sha256').update(repositoryId).digest('hex').slice(0, 32);
    this.directory = join(cacheDir, this.repositoryKey);
  }

  /** The cached index files of this repository, most recently used first. */
  list(): CachedIndexFile[] {
    let names: string[];
    try {
      names = readdirSync(this.directory);
    } catch {
      return [];
    }
    const files: CachedIndexFile[] = [];
    for (const fileName of names) {
      const match = FILE_NAME.exec(fileName);
      if (!match) continue;
      try {
        files.push({ fileName, commit: match[1] as string, selectionKey: match[2] as string, usedAtMs: statSync(join(this.directory, fileName)).mtimeMs });
      } catch {
        // Pruned by another job between readdir and stat.
      }
    }
    return files.sort((a, b) => b.usedAtMs - a.usedAtMs || (a.fileName < b.fileName ? -1 : 1));
  }

  /**
   * Reads and checks one cached index. A file that fails any check is deleted (it would
   * fail again) and reported through the thrown IndexCacheCorruptError.
   */
  read(file: CachedIndexFile): DecodedIndex {
    const path = join(this.directory, file.fileName);
    try {
      let bytes: Buffer;
      try {
        bytes = readFileSync(path);
      } catch {
        throw new IndexCacheCorruptError('unreadable');
      }
      // Compressed bytes never exceed what they inflate to by much; a bigger file is not ours.
      if (bytes.length > this.maxIndexBytes) throw new IndexCacheCorruptError('larger than maxIndexBytes');
      const decoded = decodeIndex(bytes, { repositoryKey: this.repositoryKey, maxIndexBytes: this.maxIndexBytes });
      if (decoded.header.commit !== file.commit) throw new IndexCacheCorruptError('holds another commit than its name says');
      return decoded;
    } catch (error) {
      rmSync(path, { force: true });
      throw error;
    }
  }

  /** Marks a cached index as just used, so pruning keeps it. */
  touch(file: CachedIndexFile): void {
    const now = new Date();
    try {
      utimesSync(join(this.directory, file.fileName), now, now);
    } catch {
      // Pruned meanwhile: it is simply rebuilt next time.
    }
  }

  /**
   * Writes an index atomically, then prunes the least recently used beyond the limit.
   * @returns the bytes written.
   * @throws the file system's error (ENOSPC…); the previous file, if any, is untouched.
   */
  write(header: Omit<IndexHeader, 'entriesDigest' | 'format'>, entries: readonly IndexEntry[]): number {
    const bytes = encodeIndex(header, entries);
    mkdirSync(this.directory, { recursive: true, mode: 0o700 });
    const fileName = `${header.commit}.${header.selectionDigest.slice(0, 16)}.index.json.gz`;
    const path = join(this.directory, fileName);
    rewriteDurably(path, bytes, `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    for (const stale of this.list().filter((file) => file.fileName !== fileName).slice(this.maxCachedIndexes - 1)) {
      rmSync(join(this.directory, stale.fileName), { force: true });
    }
    this.removeStaleTemporaries();
    return bytes.length;
  }

  /** Removes temporary files that crashed writers left behind (see STALE_TEMPORARY_MS). */
  private removeStaleTemporaries(): void {
    const cutoff = Date.now() - STALE_TEMPORARY_MS;
    for (const name of readdirSync(this.directory)) {
      if (!TEMPORARY_NAME.test(name)) continue;
      try {
        if (statSync(join(this.directory, name)).mtimeMs < cutoff) rmSync(join(this.directory, name), { force: true });
      } catch {
        // Renamed by its writer, or removed by another job, meanwhile.
      }
    }
  }
}
