import { createHash } from 'node:crypto';
import { type CacheRejection, type CachedIndexFile, IndexCacheStore } from './cache/index-cache.store';
import { type DecodedIndex, entriesDigestOf, INDEX_FORMAT_VERSION } from './cache/index-codec';
import { type ContextEngineLimits, resolveLimits } from './context-engine.limits';
import { ContextRequestInvalidError } from './errors/context-request-invalid.error';
import { IndexBuildAbortedError } from './errors/index-build-aborted.error';
import { IndexCacheCorruptError } from './errors/index-cache-corrupt.error';
import { WorktreeNotAtCommitError } from './errors/worktree-not-at-commit.error';
import type { GitCommandRunner } from './git/git-command-runner';
import { linguistMarks } from './git/linguist-attributes';
import { listTree, OBJECT_ID, resolveHead } from './git/tree-listing';
import { FileAnalyzer } from './indexing/file-analyzer';
import { buildIndexEntries } from './indexing/index-builder';
import { analysisKey, type IndexEntry, isReusable } from './indexing/index-entry';
import { WorktreeReader } from './indexing/worktree-reader';
import { type IndexOpenReport, RepositoryIndex } from './repository-index';
import { PathFilter } from './selection/path-glob';
import { extractorFingerprint, SymbolExtractor } from './symbols/symbol-extractor';

/** How the engine is set up; one engine serves every repository of a worker. */
export interface ContextEngineOptions {
  /** Where indexes are cached, one folder per repository inside it. Created if missing. */
  readonly cacheDir: string;
  /** Runs git in a worktree; the worker passes its hardened `GitRunner`. */
  readonly git: GitCommandRunner;
  readonly limits?: Partial<ContextEngineLimits>;
  /** Monotonic milliseconds, for the time budget. @default `performance.now` */
  readonly clock?: () => number;
  /** Folder of the tree-sitter grammars. @default the `@vscode/tree-sitter-wasm` package's */
  readonly grammarDirectory?: string;
}

/** Which index to open. */
export interface OpenIndexRequest {
  /**
   * Names the repository's cache (the worker's repository alias). Hashed before it names a
   * folder, so any string is safe; two repositories must not share one.
   */
  readonly repositoryId: string;
  /** The job's worktree, checked out at the commit to index. */
  readonly worktree: string;
  /** The commit the worktree should be at; checked against HEAD. @default HEAD */
  readonly commit?: string;
  /**
   * A commit whose cached index is the best start for an update (e.g. the base of the
   * repository's previous job). Only a hint: without it, the most recently used cached
   * index of the repository is the start.
   */
  readonly previousCommit?: string;
  /** `.airlock.yml`'s `context.include` globs; empty or absent means every file. */
  readonly include?: readonly string[];
  /** `.airlock.yml`'s `context.exclude` globs: such files are neither read nor listed. */
  readonly exclude?: readonly string[];
  /** Cancels the build (the job was cancelled): `IndexBuildAbortedError`, nothing cached. */
  readonly signal?: AbortSignal;
}

/** Cached indexes tried as the start of an update before giving up and reading everything. */
const MAX_BASES_TRIED = 3;

/**
 * Builds, caches and updates per-commit indexes of repositories, for picking what a local
 * model sees of a repository for a ticket.
 *
 * An index is updated incrementally by blob id: `git ls-tree -r` of the commit lists every
 * file with the id of its content, and a file whose id (and language) has an analysis in a
 * cached index — of the previous commit, or of any commit — is carried over unread. This
 * finds the same changed files as `git diff --name-status P C` would, without needing P in
 * the object store, without trusting a caller's list of changes, and a renamed or reverted
 * file costs nothing. Files are read from the worktree and hashed as read; a file on disk
 * that differs from its blob is indexed as it is on disk, under its own id, so it is never
 * mistaken for the commit's blob later.
 */
export class ContextEngine {
  private readonly limits: ContextEngineLimits;
  private readonly clock: () => number;
  private readonly extractor: SymbolExtractor;
  private readonly analysisDigest: string;
  /** Per repository id, settles when every open of it begun so far has settled. */
  private readonly openings = new Map<string, Promise<void>>();

  /** @throws ContextRequestInvalidError for a limit that is not a whole number above zero. */
  constructor(private readonly options: ContextEngineOptions) {
    this.limits = resolveLimits(options.limits);
    this.clock = options.clock ?? (() => performance.now());
    this.extractor = new SymbolExtractor(options.grammarDirectory);
    this.analysisDigest = sha256({
      format: INDEX_FORMAT_VERSION,
      extractor: extractorFingerprint(),
      maxTermsPerFile: this.limits.maxTermsPerFile,
      maxDefinitionsPerFile: this.limits.maxDefinitionsPerFile,
      maxReferencesPerFile: this.limits.maxReferencesPerFile,
    });
  }

  /**
   * The index of the worktree's commit: from the cache when it holds it, else updated from
   * a cached index, else built; written back to the cache (atomically) before returning.
   * A cached index that fails any check is deleted and reported, never trusted; a failed
   * cache write is reported, the index is still returned.
   *
   * Opens of one repository through one engine take turns: a job of a repository whose
   * index another job is building waits for it and then starts from it (for the same
   * commit, a cache hit) instead of building the same index beside it on the same cores.
   * Writes stay safe without this (see IndexCacheStore), e.g. between processes.
   *
   * @throws ContextRequestInvalidError, WorktreeNotAtCommitError, GitListingFailedError,
   *   IndexBuildAbortedError (also when `signal` fires while waiting for its turn).
   */
  async open(request: OpenIndexRequest): Promise<RepositoryIndex> {
    const key = String(request.repositoryId);
    const before = this.openings.get(key);
    const mine = (async () => {
      if (before) await untilSettledOrAborted(before, request.signal);
      return this.openInTurn(request);
    })();
    // The next open of this repository waits for this one and for every one before it,
    // even if this one gave up waiting (its job was cancelled).
    const settled = Promise.allSettled([before, mine]).then(() => undefined);
    this.openings.set(key, settled);
    try {
      return await mine;
    } finally {
      // Once nobody queued behind this open, forget it (no map entry per repository forever).
      void settled.then(() => {
        if (this.openings.get(key) === settled) this.openings.delete(key);
      });
    }
  }

  private async openInTurn(request: OpenIndexRequest): Promise<RepositoryIndex> {
    const started = this.clock();
    if (typeof request.repositoryId !== 'string' || request.repositoryId.length === 0) {
      throw new ContextRequestInvalidError('repositoryId', 'a non-empty string');
    }
    for (const field of ['commit', 'previousCommit'] as const) {
      const value = request[field];
      if (value !== undefined && !OBJECT_ID.test(value)) throw new ContextRequestInvalidError(field, 'a full lower-case object id (40 or 64 hex digits)');
    }
    if (request.signal?.aborted) throw new IndexBuildAbortedError();
    const { git } = this.options;
    const head = await resolveHead(git, request.worktree, request.signal, this.limits.gitTimeoutMs);
    if (request.commit !== undefined && request.commit !== head) throw new WorktreeNotAtCommitError(request.commit, head);

    const include = [...(request.include ?? [])];
    const exclude = [...(request.exclude ?? [])];
    const selectionDigest = sha256({
      format: INDEX_FORMAT_VERSION,
      include,
      exclude,
      maxFiles: this.limits.maxFiles,
      maxFileBytes: this.limits.maxFileBytes,
      maxIndexBytes: this.limits.maxIndexBytes,
    });
    const store = new IndexCacheStore(this.options.cacheDir, request.repositoryId, this.limits.maxCachedIndexes, this.limits.maxIndexBytes);
    const reader = await WorktreeReader.open(request.worktree);
    const rejected: CacheRejection[] = [];
    const report = (fields: Omit<IndexOpenReport, 'commit' | 'cacheRejected' | 'unavailableLanguages' | 'durationMs'>): IndexOpenReport => ({
      commit: head,
      ...fields,
      cacheRejected: rejected,
      unavailableLanguages: this.extractor.unavailableLanguages,
      durationMs: Math.max(0, this.clock() - started),
    });

    const base = this.findBase(store, head, selectionDigest, request.previousCommit, rejected);
    if (base && base.index.header.commit === head && base.index.header.selectionDigest === selectionDigest && base.index.header.complete) {
      store.touch(base.file);
      const { header, entries } = base.index;
      return new RepositoryIndex(
        head,
        header.entriesDigest,
        report({ source: 'cache', baseCommit: head, complete: true, counts: header.counts, cacheWritten: false, cacheWriteError: null }),
        entries,
        reader,
        this.limits.maxFileBytes,
      );
    }

    const previous = new Map<string, IndexEntry>();
    for (const entry of base?.index.entries ?? []) if (isReusable(entry)) previous.set(analysisKey(entry.objectId, entry.language), entry);
    const tree = await listTree(git, request.worktree, head, request.signal, this.limits.gitTimeoutMs);
    const marked = await linguistMarks(git, request.worktree, tree, request.signal, this.limits.gitTimeoutMs);
    const built = await buildIndexEntries(tree, {
      filter: new PathFilter(include, exclude),
      marked,
      reader,
      analyzer: new FileAnalyzer(this.extractor, this.limits),
      maxFiles: this.limits.maxFiles,
      maxFileBytes: this.limits.maxFileBytes,
      maxIndexBytes: this.limits.maxIndexBytes,
      previous,
      deadline: started + this.limits.timeBudgetMs,
      clock: this.clock,
      signal: request.signal,
    });
    const digest = entriesDigestOf(built.entries);
    let cacheWritten = false;
    let cacheWriteError: string | null = null;
    try {
      // An index of a worktree that differs from its commit is kept for its analyses, but
      // must never be served as the commit's own index.
      const servable = built.complete && built.counts.differingFromCommit === 0;
      store.write({ repositoryKey: store.repositoryKey, commit: head, selectionDigest, analysisDigest: this.analysisDigest, complete: servable, counts: built.counts }, built.entries);
      cacheWritten = true;
    } catch (error) {
      // A full disk must not cost the job its context: the index is in memory already.
      cacheWriteError = (error as NodeJS.ErrnoException).code ?? 'UNKNOWN';
    }
    return new RepositoryIndex(
      head,
      digest,
      report({
        source: base ? 'incremental' : 'full',
        baseCommit: base?.index.header.commit ?? null,
        complete: built.complete,
        counts: built.counts,
        cacheWritten,
        cacheWriteError,
      }),
      built.entries,
      reader,
      this.limits.maxFileBytes,
    );
  }

  /**
   * The cached index to start from, in order of promise: this commit under this selection,
   * the caller's previous commit, this commit under another selection, then the most
   * recently used. Corrupt ones are deleted and noted; ones analysed with other grammars or
   * caps are passed over (pruning removes them in time).
   */
  private findBase(
    store: IndexCacheStore,
    commit: string,
    selectionDigest: string,
    previousCommit: string | undefined,
    rejected: CacheRejection[],
  ): { file: CachedIndexFile; index: DecodedIndex } | undefined {
    const files = store.list();
    const selectionKey = selectionDigest.slice(0, 16);
    const preference = (file: CachedIndexFile) =>
      file.commit === commit && file.selectionKey === selectionKey ? 0 : file.commit === previousCommit ? 1 : file.commit === commit ? 2 : 3;
    // Array.prototype.sort is stable: within one preference, most recently used first.
    const ordered = [...files].sort((a, b) => preference(a) - preference(b));
    let tried = 0;
    for (const file of ordered) {
      if (tried >= MAX_BASES_TRIED) break;
      tried += 1;
      let index: DecodedIndex;
      try {
        index = store.read(file);
      } catch (error) {
        if (!(error instanceof IndexCacheCorruptError)) throw error;
        rejected.push({ commit: file.commit, reason: error.reason });
        continue;
      }
      if (index.header.analysisDigest !== this.analysisDigest) continue;
      return { file, index };
    }
    return undefined;
  }
}

/** Resolves when `turn` settles; rejects IndexBuildAbortedError as soon as `signal` fires. */
function untilSettledOrAborted(turn: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return turn;
  if (signal.aborted) return Promise.reject(new IndexBuildAbortedError());
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(new IndexBuildAbortedError());
    signal.addEventListener('abort', onAbort, { once: true });
    void turn.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

function sha256(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}
