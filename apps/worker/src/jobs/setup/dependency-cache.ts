import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, readFile, readdir, realpath, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import type { HostEnvironment } from '../../config/worker-config.loader';
import type { Logger } from '../../logging/json-logger';
import type { SetupConfig } from '../repo-config/repo-config.schema';

/** What of a setup declaration keys its cached result. */
export type CachedSetup = Pick<SetupConfig, 'commands' | 'cacheKey' | 'cachePaths'>;

/** Bumped whenever the key's material or the entry layout changes, so old entries simply miss. */
const CACHE_FORMAT = 1;
/** A lockfile larger than this is not hashed (the setup still runs, uncached). */
const MAX_KEY_FILE_BYTES = 256 * 1024 ** 2;
/** One copy into or out of the cache; past it the copy is killed (a restore then falls back to running setup). */
const COPY_TIMEOUT_MS = 15 * 60_000;
const ENTRY_NAME = /^[0-9a-f]{64}$/;
const META_FILE = 'meta.json';
const LAST_USED_FILE = 'last-used';

/** `entries/<key>/meta.json`: written into the staging directory before the entry appears. */
interface EntryMeta {
  readonly format: number;
  readonly key: string;
  /** The cachePaths setup had produced, relative to the worktree; each under `content/`. */
  readonly paths: readonly string[];
  /** Apparent size of `content/`, what eviction counts. */
  readonly sizeBytes: number;
  readonly createdAt: string;
}

/** A cache entry that cannot be used; restore falls back to running setup. */
class BrokenEntryError extends Error {
  override readonly name = 'BrokenEntryError';
}

/**
 * The dependency cache: what a repository's setup produced (`cachePaths`: node_modules,
 * .venv), kept under `<workspaceDir>/dependency-cache/` — a directory no sandboxed command
 * can see, so no job can corrupt what another job restores — and restored instead of
 * running setup when the key matches.
 *
 * - Key: SHA-256 over the repository alias, the setup declaration (commands, cacheKey,
 *   cachePaths), each cacheKey file's path and content digest (a missing file is part of
 *   the key, not an error), and the platform and architecture.
 * - Entry `entries/<key>/`: `content/<cachePath>…`, `meta.json`, `last-used`. Built in
 *   `staging/<key>.<random>/` and renamed into place: a crash leaves no half entry, and of
 *   two jobs building one key the first rename wins.
 * - Restore: `cp -a --reflink=auto` into the worktree (copy-on-write where the file system
 *   can), so a job changes its own copy and never the entry.
 * - Eviction after each store: least recently used first (a hit records its use) until the
 *   entries' total size is at most `maxBytes`. Entries being restored are skipped.
 *
 * Nothing here fails a job: a broken entry, a failed copy or a full disk is logged and
 * setup runs instead (restore) or the result is not kept (store). Only an abort of the job
 * is passed on.
 */
export class DependencyCache {
  /** Restores in progress per key: eviction leaves those entries alone. */
  private readonly restoring = new Map<string, number>();
  /** Staging directories this worker is writing; any other is a crash's leftover. */
  private readonly building = new Set<string>();

  constructor(
    /** `<workspaceDir>/dependency-cache`. */
    readonly root: string,
    private readonly maxBytes: number,
    private readonly host: HostEnvironment,
    private readonly system: { readonly platform: string; readonly arch: string } = { platform: process.platform, arch: process.arch },
  ) {}

  private get entriesDir(): string {
    return join(this.root, 'entries');
  }

  private get stagingDir(): string {
    return join(this.root, 'staging');
  }

  /** Creates the cache's directories and removes what a crashed worker left in staging (call at start). */
  async removeStale(logger: Logger): Promise<void> {
    await mkdir(this.entriesDir, { recursive: true, mode: 0o700 });
    await mkdir(this.stagingDir, { recursive: true, mode: 0o700 });
    await this.sweepStaging(logger);
  }

  /** The key of `setup` for this worktree's cacheKey files; throws only when a key file cannot be read. */
  async keyFor(alias: string, setup: CachedSetup, worktree: string): Promise<string> {
    const root = await realpath(worktree);
    const files: Array<{ readonly path: string; readonly content: string }> = [];
    for (const path of setup.cacheKey) files.push({ path, content: await keyFileDigest(root, path) });
    const material = { format: CACHE_FORMAT, alias, commands: setup.commands, cacheKey: setup.cacheKey, cachePaths: setup.cachePaths, files, ...this.system };
    return createHash('sha256').update(JSON.stringify(material)).digest('hex');
  }

  /**
   * Copies entry `key` into the worktree. False on a miss, and on a broken entry or failed
   * copy (logged; the broken entry is removed, and what was copied so far too).
   */
  async restore(key: string, worktree: string, cachePaths: readonly string[], logger: Logger, signal: AbortSignal): Promise<boolean> {
    const entry = join(this.entriesDir, key);
    this.restoring.set(key, (this.restoring.get(key) ?? 0) + 1);
    try {
      let meta: EntryMeta;
      try {
        meta = await this.readMeta(entry, key, cachePaths);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
          logger.info('setup-cache', { result: 'miss', key });
          return false;
        }
        throw error;
      }
      for (const path of meta.paths) {
        const source = join(entry, 'content', path);
        await lstat(source).catch(() => {
          throw new BrokenEntryError(`entry lacks ${path}`);
        });
        const target = await preparedTarget(worktree, path);
        await rm(target, { recursive: true, force: true });
        await this.copy(source, target, signal);
      }
      const now = new Date();
      await utimes(join(entry, LAST_USED_FILE), now, now);
      logger.info('setup-cache', { result: 'hit', key, sizeBytes: meta.sizeBytes });
      return true;
    } catch (error) {
      signal.throwIfAborted();
      logger.warn('setup-cache-unusable', { key, error: error instanceof Error ? error : String(error) });
      // Whatever was copied before the failure goes; setup then starts from the checkout.
      // Never through a symlinked directory: that would delete outside the worktree.
      for (const path of cachePaths) {
        await preparedTarget(worktree, path, { create: false })
          .then((target) => rm(target, { recursive: true, force: true }))
          .catch(() => undefined);
      }
      if (error instanceof BrokenEntryError) await this.remove(key, logger, 'broken');
      return false;
    } finally {
      const left = (this.restoring.get(key) ?? 1) - 1;
      if (left === 0) this.restoring.delete(key);
      else this.restoring.set(key, left);
    }
  }

  /** Keeps what setup produced in the worktree's cachePaths under `key`, then evicts down to the size bound. Never throws. */
  async store(key: string, worktree: string, cachePaths: readonly string[], logger: Logger, signal: AbortSignal): Promise<void> {
    const staging = join(this.stagingDir, `${key}.${randomBytes(6).toString('hex')}`);
    this.building.add(staging);
    try {
      const present: string[] = [];
      for (const path of cachePaths) {
        if (await lstat(await preparedTarget(worktree, path, { create: false })).then(() => true, () => false)) present.push(path);
      }
      if (present.length === 0) {
        logger.warn('setup-cache-not-stored', { key, reason: 'setup produced none of the cachePaths' });
        return;
      }
      let sizeBytes = 0;
      for (const path of present) sizeBytes += await apparentSize(join(worktree, path));
      if (sizeBytes > this.maxBytes) {
        logger.warn('setup-cache-not-stored', { key, reason: 'larger than setup.cacheMaxBytes', sizeBytes });
        return;
      }
      for (const path of present) {
        const target = join(staging, 'content', path);
        await mkdir(dirname(target), { recursive: true });
        await this.copy(join(worktree, path), target, signal);
      }
      const meta: EntryMeta = { format: CACHE_FORMAT, key, paths: present, sizeBytes, createdAt: new Date().toISOString() };
      await writeFile(join(staging, META_FILE), JSON.stringify(meta));
      await writeFile(join(staging, LAST_USED_FILE), '');
      try {
        await rename(staging, join(this.entriesDir, key));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw error;
        // Another job built the same key first; its entry is as good as this one.
        logger.info('setup-cache-store-skipped', { key, reason: 'stored by another job first' });
        return;
      }
      logger.info('setup-cache-stored', { key, sizeBytes });
    } catch (error) {
      logger.warn('setup-cache-store-failed', { key, error: error instanceof Error ? error : String(error) });
    } finally {
      await rm(staging, { recursive: true, force: true }).catch(() => undefined);
      this.building.delete(staging);
    }
    await this.evict(logger).catch((error: unknown) => logger.warn('setup-cache-evict-failed', { error: error instanceof Error ? error : String(error) }));
  }

  /** Removes the least recently used entries until the rest fit `maxBytes`; also clears staging leftovers. */
  async evict(logger: Logger): Promise<void> {
    const entries: Array<{ readonly key: string; readonly sizeBytes: number; readonly lastUsedMs: number }> = [];
    for (const name of await readdir(this.entriesDir)) {
      if (!ENTRY_NAME.test(name)) continue;
      const entry = join(this.entriesDir, name);
      try {
        const meta = JSON.parse(await readFile(join(entry, META_FILE), 'utf8')) as Partial<EntryMeta>;
        const lastUsed = await stat(join(entry, LAST_USED_FILE));
        entries.push({ key: name, sizeBytes: typeof meta.sizeBytes === 'number' ? meta.sizeBytes : 0, lastUsedMs: lastUsed.mtimeMs });
      } catch {
        if (!this.restoring.has(name)) await this.remove(name, logger, 'broken');
      }
    }
    let total = entries.reduce((sum, entry) => sum + entry.sizeBytes, 0);
    for (const entry of entries.sort((a, b) => a.lastUsedMs - b.lastUsedMs)) {
      if (total <= this.maxBytes) break;
      if (this.restoring.has(entry.key)) continue;
      await this.remove(entry.key, logger, 'evicted');
      total -= entry.sizeBytes;
    }
    await this.sweepStaging(logger);
  }

  /** Takes an entry out of `entries/` at once (a rename), then deletes it. */
  private async remove(key: string, logger: Logger, reason: 'evicted' | 'broken'): Promise<void> {
    const doomed = join(this.stagingDir, `${key}.removing-${randomBytes(6).toString('hex')}`);
    this.building.add(doomed);
    try {
      await rename(join(this.entriesDir, key), doomed);
      logger.info('setup-cache-removed', { key, reason });
      await rm(doomed, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    } finally {
      this.building.delete(doomed);
    }
  }

  /** Deletes staging directories no store of this worker is writing: a crashed worker's half entries. */
  private async sweepStaging(logger: Logger): Promise<void> {
    for (const name of await readdir(this.stagingDir)) {
      const path = join(this.stagingDir, name);
      if (this.building.has(path)) continue;
      await rm(path, { recursive: true, force: true });
      logger.info('setup-cache-staging-removed', { name });
    }
  }

  private async readMeta(entry: string, key: string, cachePaths: readonly string[]): Promise<EntryMeta> {
    const text = await readFile(join(entry, META_FILE), 'utf8').catch(async (error: NodeJS.ErrnoException) => {
      // An entry directory without its meta was not made by store(): it is broken, not missing.
      if (error.code === 'ENOENT' && (await lstat(entry).then(() => true, () => false))) throw new BrokenEntryError('entry has no meta.json');
      throw error;
    });
    let meta: Partial<EntryMeta>;
    try {
      meta = JSON.parse(text) as Partial<EntryMeta>;
    } catch {
      throw new BrokenEntryError('meta.json is not JSON');
    }
    const pathsValid = Array.isArray(meta.paths) && meta.paths.length > 0 && meta.paths.every((path) => typeof path === 'string' && cachePaths.includes(path));
    if (meta.format !== CACHE_FORMAT || meta.key !== key || !pathsValid || typeof meta.sizeBytes !== 'number') throw new BrokenEntryError('meta.json does not describe this entry');
    return meta as EntryMeta;
  }

  private copy(source: string, target: string, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      execFile(
        'cp',
        ['-a', '--reflink=auto', '--', source, target],
        { env: { PATH: this.host.path, LANG: this.host.lang }, timeout: COPY_TIMEOUT_MS, killSignal: 'SIGKILL', signal, maxBuffer: 64 * 1024 },
        (error, _stdout, stderr) => (error ? reject(new Error(`cp failed: ${String(stderr).trim().slice(0, 500) || error.message}`)) : resolve()),
      );
    });
  }
}

/**
 * `worktree/path`, after checking that no directory on the way is a symlink (a setup
 * command could plant `build -> /var/lib/airlock-worker` to have the worker copy its state
 * into the cache, or a restore write outside the worktree). Missing directories are created
 * unless `create` is false.
 */
async function preparedTarget(worktree: string, path: string, options: { readonly create?: boolean } = {}): Promise<string> {
  const segments = path.split('/');
  let current = worktree;
  for (const segment of segments.slice(0, -1)) {
    current = join(current, segment);
    const info = await lstat(current).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (info === undefined) {
      if (options.create === false) return join(worktree, path);
      await mkdir(current);
    } else if (!info.isDirectory()) {
      throw new Error(`cache path ${path} goes through ${relative(worktree, current)}, which is not a directory`);
    }
  }
  return join(worktree, path);
}

/** `sha256:<hex>` of a cacheKey file, or what stands in for it: missing, not a file, outside the worktree. */
async function keyFileDigest(root: string, path: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(join(root, path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return 'missing';
    throw error;
  }
  const rel = relative(root, real);
  // A symlink in the repository pointing outside it (at the worker's own files) is not followed.
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return 'outside-worktree';
  const info = await stat(real);
  if (!info.isFile()) return 'not-a-file';
  if (info.size > MAX_KEY_FILE_BYTES) throw new RangeError(`cache key file ${path} is larger than ${MAX_KEY_FILE_BYTES} bytes`);
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(real)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

/** Bytes of the files under `path` (symlinks counted as themselves, never followed). */
async function apparentSize(path: string): Promise<number> {
  const info = await lstat(path);
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of await readdir(path)) total += await apparentSize(join(path, entry));
  return total;
}
