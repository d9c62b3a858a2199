import { ContextRequestInvalidError } from './errors/context-request-invalid.error';
import { IndexBuildAbortedError } from './errors/index-build-aborted.error';
import type { IndexBuildCounts } from './indexing/index-builder';
import type { IndexEntry } from './indexing/index-entry';
import type { WorktreeReader } from './indexing/worktree-reader';
import { FileRanker, type RankedFile } from './ranking/file-ranker';
import { type ContextFile, type ContextSymbol, packWithinBudget } from './retrieval/budget-packer';
import { estimateTokens, type TokenCounter } from './retrieval/token-count';
import type { SkipReason } from './selection/skip-rules';
import type { LanguageId } from './symbols/language-registry';
import type { SymbolDefinition } from './symbols/symbol';

/** How `ContextEngine.open` came by the index. */
export type IndexSource =
  /** The complete index of this very commit and selection, read from the cache. */
  | 'cache'
  /** A cached index (of this or another commit) updated: only files whose blob changed were read. */
  | 'incremental'
  /** No usable cached index: every file read. */
  | 'full';

/** What opening an index did, for the caller's local log. Holds no paths or names. */
export interface IndexOpenReport {
  readonly commit: string;
  readonly source: IndexSource;
  /** The commit of the cached index the update started from, or null. */
  readonly baseCommit: string | null;
  /** False when the time budget ran out before every file was analysed. */
  readonly complete: boolean;
  /** Counts of the build that made the index (for a cache hit, of the build that cached it). */
  readonly counts: IndexBuildCounts;
  /** Cached indexes found unusable (and deleted), each with why. */
  readonly cacheRejected: readonly { readonly commit: string; readonly reason: string }[];
  /** Whether the index was written to the cache now (false for a cache hit or a failed write). */
  readonly cacheWritten: boolean;
  /** The errno code of a failed cache write (`ENOSPC`…), or null. The index is usable either way. */
  readonly cacheWriteError: string | null;
  /** Grammars that failed to load: those languages were indexed lexically only. */
  readonly unavailableLanguages: readonly LanguageId[];
  readonly durationMs: number;
}

/** One file of the index's file tree. */
export interface IndexedFile {
  readonly path: string;
  readonly size: number;
  readonly language: LanguageId | null;
  /** Why its content is not indexed, or null. */
  readonly skipped: SkipReason | null;
  readonly lineCount: number;
  readonly definitions: readonly SymbolDefinition[];
  /** The grammar met syntax errors; symbols around them are still listed. */
  readonly parseErrors: boolean;
}

/** What to look for and how much may be returned. */
export interface RetrievalRequest {
  /** The ticket: title and description, as the model will see them. */
  readonly query: string;
  /** Tokens the results may take in the model's context (the caller derives it from the window). */
  readonly tokenBudget: number;
  /** @default 20 */
  readonly maxFiles?: number;
  /** @default 20 */
  readonly maxSymbols?: number;
  /** @default `estimateTokens` (characters / 3) */
  readonly countTokens?: TokenCounter;
  readonly signal?: AbortSignal;
}

/** Ranked files and symbols that fit the budget, in rank order. */
export interface RetrievalResult {
  readonly symbols: readonly ContextSymbol[];
  readonly files: readonly ContextFile[];
  readonly tokenBudget: number;
  readonly tokensUsed: number;
  /** Files with a positive score. */
  readonly filesRanked: number;
  /** Ranked files that did not fit, neither whole nor as definitions. */
  readonly filesOverBudget: number;
}

/**
 * The index of one commit of one repository, opened on one worktree: its file tree, its
 * symbols, and retrieval for a ticket. Reads file contents from the worktree only when
 * retrieving, through the same checks as indexing (no links, nothing outside the worktree).
 */
export class RepositoryIndex {
  private ranker: FileRanker | undefined;

  /** @internal built by `ContextEngine.open`. */
  constructor(
    /** The commit indexed. */
    readonly commit: string,
    /** sha256 of the entries: two indexes with equal digests hold exactly the same. */
    readonly digest: string,
    readonly report: IndexOpenReport,
    private readonly entries: readonly IndexEntry[],
    private readonly reader: WorktreeReader,
    private readonly maxFileBytes: number,
  ) {}

  /** The file tree: every file the index lists, analysed or skipped, in path order. */
  files(): readonly IndexedFile[] {
    return this.entries.map((entry) => ({
      path: entry.path,
      size: entry.size,
      language: entry.language,
      skipped: entry.skipped,
      lineCount: entry.lineCount,
      definitions: entry.definitions,
      parseErrors: entry.parseErrors,
    }));
  }

  /** Where a symbol is defined (exact name, case-insensitive), in path and line order. */
  findDefinitions(name: string): readonly (SymbolDefinition & { readonly path: string })[] {
    const wanted = name.toLowerCase();
    return this.entries.flatMap((entry) => entry.definitions.filter((d) => d.name.toLowerCase() === wanted).map((d) => ({ ...d, path: entry.path })));
  }

  /** Every file with a positive score for `query`, best first, without reading anything. */
  rank(query: string): readonly RankedFile[] {
    this.ranker ??= new FileRanker(this.entries);
    return this.ranker.rank(query);
  }

  /**
   * Ranked files and symbols for a ticket, within `tokenBudget`: a short map of the
   * definitions the ticket names, then files whole or as their named definitions.
   * Deterministic: the same index and request give the same result.
   *
   * @throws IndexBuildAbortedError when `signal` fires.
   */
  async retrieve(request: RetrievalRequest): Promise<RetrievalResult> {
    const maxFiles = request.maxFiles ?? 20;
    const maxSymbols = request.maxSymbols ?? 20;
    for (const [field, value] of [['tokenBudget', request.tokenBudget], ['maxFiles', maxFiles], ['maxSymbols', maxSymbols]] as const) {
      if (!Number.isSafeInteger(value) || value < 0) throw new ContextRequestInvalidError(field, 'a whole number ≥ 0');
    }
    this.ranker ??= new FileRanker(this.entries);
    const ranked = this.ranker.rank(request.query);
    const packed = await packWithinBudget(ranked, this.ranker.rankSymbols(ranked), {
      tokenBudget: request.tokenBudget,
      maxFiles,
      maxSymbols,
      countTokens: request.countTokens ?? estimateTokens,
      signal: request.signal,
      readText: async (path) => {
        const read = await this.reader.read(path, this.maxFileBytes);
        return read.kind === 'read' ? read.bytes.toString('utf8') : undefined;
      },
    });
    if (request.signal?.aborted) throw new IndexBuildAbortedError();
    return {
      symbols: packed.symbols,
      files: packed.files,
      tokenBudget: request.tokenBudget,
      tokensUsed: packed.tokensUsed,
      filesRanked: ranked.length,
      filesOverBudget: packed.filesOverBudget,
    };
  }
}
