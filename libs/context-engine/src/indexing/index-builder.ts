import { IndexBuildAbortedError } from '../errors/index-build-aborted.error';
import type { TreeEntry } from '../git/tree-listing';
import type { PathFilter } from '../selection/path-glob';
import { type SkipReason, skipReasonForEntry } from '../selection/skip-rules';
import { languageOf } from '../symbols/language-registry';
import type { FileAnalyzer } from './file-analyzer';
import { analysisKey, type IndexEntry, skippedEntry } from './index-entry';
import type { WorktreeReader } from './worktree-reader';

/** What the builder needs besides the tree: everything injected, nothing read from the environment. */
export interface IndexBuildContext {
  readonly filter: PathFilter;
  /** Files the repository's `.gitattributes` marks generated or vendored (`linguistMarks`). */
  readonly marked?: ReadonlyMap<string, SkipReason>;
  readonly reader: Pick<WorktreeReader, 'read'>;
  readonly analyzer: Pick<FileAnalyzer, 'analyze'>;
  readonly maxFiles: number;
  readonly maxFileBytes: number;
  readonly maxIndexBytes: number;
  /** Analyses carried over from cached indexes, by `analysisKey`. */
  readonly previous: ReadonlyMap<string, IndexEntry>;
  /** Past this, no more files are read (reused ones are still taken: they cost nothing). */
  readonly deadline: number;
  readonly clock: () => number;
  readonly signal?: AbortSignal;
}

/** Counts of one build, for the caller's local log. No paths. */
export interface IndexBuildCounts {
  /** Paths in the commit's tree (files, links, submodules). */
  readonly listed: number;
  /** Left out by the caller's include/exclude globs. */
  readonly excluded: number;
  /** Files read and analysed now. */
  readonly analysed: number;
  /** Files whose analysis was carried over from a cached index. */
  readonly reused: number;
  /** Files read whose bytes on disk are not the commit's blob (the worktree was changed). */
  readonly differingFromCommit: number;
  /** Files in the index without content, and files only counted, by reason. */
  readonly skipped: Readonly<Partial<Record<SkipReason, number>>>;
}

/** The entries of an index, in path order, and whether every file got its chance. */
export interface IndexBuildResult {
  readonly entries: readonly IndexEntry[];
  /** False when the time budget ran out: some files are `time-budget` stubs. */
  readonly complete: boolean;
  readonly counts: IndexBuildCounts;
}

/**
 * Paths skipped by name or kind are only counted: a committed `node_modules/` of 100 000
 * files must not become 100 000 index entries, and links and the worker's own config are
 * nobody's context. Other skipped files stay in the index (up to `maxFiles` entries in
 * all), so the file tree shows them.
 */
const COUNTED_ONLY: ReadonlySet<SkipReason> = new Set(['airlock-config', 'symlink', 'submodule', 'vendored', 'lockfile']);

/**
 * Builds the entries of one commit's index from its tree listing (sorted by path). Each file
 * is decided in path order by the same rules whether its analysis is new or carried over,
 * so updating a previous commit's index gives exactly the index a full build would.
 */
export async function buildIndexEntries(tree: readonly TreeEntry[], context: IndexBuildContext): Promise<IndexBuildResult> {
  const entries: IndexEntry[] = [];
  const skipped: Partial<Record<SkipReason, number>> = {};
  let excluded = 0;
  let analysed = 0;
  let reused = 0;
  let differingFromCommit = 0;
  let listedInIndex = 0;
  let indexBytes = 0;
  let full = false;
  let outOfTime = false;
  const stop = () => context.signal?.aborted === true || context.clock() > context.deadline;

  const count = (reason: SkipReason) => {
    skipped[reason] = (skipped[reason] ?? 0) + 1;
  };
  // Every entry, analysed or not, must fit in maxIndexBytes; a stub that no longer fits is
  // only counted. So the serialised index never exceeds the bound.
  const add = (entry: IndexEntry): boolean => {
    const bytes = serialisedSize(entry);
    if (indexBytes + bytes > context.maxIndexBytes) return false;
    indexBytes += bytes;
    if (entry.skipped !== null) count(entry.skipped);
    entries.push(entry);
    return true;
  };
  const addStub = (item: TreeEntry, language: IndexEntry['language'], reason: SkipReason) => {
    if (!add(skippedEntry(item.path, item.objectId, item.size, language, reason))) count('index-full');
  };

  for (const item of tree) {
    if (context.signal?.aborted) throw new IndexBuildAbortedError();
    if (!context.filter.selects(item.path)) {
      excluded += 1;
      continue;
    }
    const reason = skipReasonForEntry(item, context.maxFileBytes) ?? context.marked?.get(item.path);
    if (reason !== undefined && COUNTED_ONLY.has(reason)) {
      count(reason);
      continue;
    }
    if (++listedInIndex > context.maxFiles) {
      count('max-files');
      continue;
    }
    const language = languageOf(item.path);
    if (reason !== undefined) {
      addStub(item, language, reason);
      continue;
    }
    if (full) {
      addStub(item, language, 'index-full');
      continue;
    }
    let entry: IndexEntry;
    const carried = context.previous.get(analysisKey(item.objectId, language));
    if (carried) {
      entry = { ...carried, path: item.path };
    } else {
      outOfTime ||= context.clock() > context.deadline;
      if (outOfTime) {
        addStub(item, language, 'time-budget');
        continue;
      }
      const read = await context.reader.read(item.path, context.maxFileBytes);
      if (read.kind === 'skipped') {
        addStub(item, language, read.reason);
        continue;
      }
      const outcome = await context.analyzer.analyze(item.path, item.objectId, read.bytes, language, stop);
      if (outcome === 'stopped') {
        if (context.signal?.aborted) throw new IndexBuildAbortedError();
        outOfTime = true;
        addStub(item, language, 'time-budget');
        continue;
      }
      entry = outcome;
      analysed += 1;
      if (entry.objectId !== item.objectId) differingFromCommit += 1;
    }
    if (add(entry)) {
      if (carried) reused += 1;
      continue;
    }
    // From here on nothing more is analysed, whether it would fit or not: a rule that
    // depends only on path order gives the same index however it was reached.
    full = true;
    addStub(item, language, 'index-full');
  }
  return { entries, complete: !outOfTime, counts: { listed: tree.length, excluded, analysed, reused, differingFromCommit, skipped } };
}

/** Close to the entry's share of the cached JSON (the codec writes the same fields). */
function serialisedSize(entry: IndexEntry): number {
  return Buffer.byteLength(JSON.stringify(entry), 'utf8');
}
