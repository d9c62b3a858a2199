import type { SkipReason } from '../selection/skip-rules';
import type { LanguageId } from '../symbols/language-registry';
import type { SymbolDefinition } from '../symbols/symbol';

/**
 * One file of the index, as cached. Everything except `path` depends on the file's bytes
 * (and its language) alone, which is what lets an unchanged or renamed blob be carried over
 * from a previous commit's index without reading it again.
 */
export interface IndexEntry {
  /** Worktree-relative, `/`-separated. */
  readonly path: string;
  /** git's blob id of the bytes analysed (or of the tree's blob, when none were read). */
  readonly objectId: string;
  readonly size: number;
  /** The grammar language, or null for a file indexed lexically only. */
  readonly language: LanguageId | null;
  /** Why the file's content is not in the index, or null when it is. */
  readonly skipped: SkipReason | null;
  /** Distinct content terms, sorted, with their counts in `frequencies` at the same index. */
  readonly terms: readonly string[];
  readonly frequencies: readonly number[];
  readonly definitions: readonly SymbolDefinition[];
  /** Names the file uses (calls, types, imports), sorted. */
  readonly references: readonly string[];
  /** The grammar met syntax errors (symbols around them are still listed). */
  readonly parseErrors: boolean;
  /** The language has a grammar but it could not be loaded: symbols are missing, not absent. */
  readonly symbolsMissing: boolean;
  readonly lineCount: number;
}

/** An entry for a file whose content is not indexed: its path still shows in the file tree. */
export function skippedEntry(path: string, objectId: string, size: number, language: LanguageId | null, reason: SkipReason): IndexEntry {
  return {
    path,
    objectId,
    size,
    language,
    skipped: reason,
    terms: [],
    frequencies: [],
    definitions: [],
    references: [],
    parseErrors: false,
    symbolsMissing: false,
    lineCount: 0,
  };
}

/**
 * Skips decided by a blob's bytes alone hold wherever and whenever that blob appears; the
 * others (the index was full, time ran out, the disk did not match) must be retried.
 */
export function isReusable(entry: IndexEntry): boolean {
  if (entry.symbolsMissing) return false;
  return entry.skipped === null || entry.skipped === 'binary' || entry.skipped === 'generated' || entry.skipped === 'minified';
}

/** The key under which an entry's analysis is reused: the blob and the language it was parsed as. */
export function analysisKey(objectId: string, language: LanguageId | null): string {
  return `${objectId}:${language ?? ''}`;
}

/**
 * The entry with its fields in one fixed order, whatever order they were assembled in: the
 * cached bytes and the index digest must not depend on how an entry was made.
 */
export function canonicalEntry(entry: IndexEntry): IndexEntry {
  return {
    path: entry.path,
    objectId: entry.objectId,
    size: entry.size,
    language: entry.language,
    skipped: entry.skipped,
    terms: entry.terms,
    frequencies: entry.frequencies,
    definitions: entry.definitions.map((d) => ({
      name: d.name,
      kind: d.kind,
      line: d.line,
      startLine: d.startLine,
      endLine: d.endLine,
      container: d.container,
    })),
    references: entry.references,
    parseErrors: entry.parseErrors,
    symbolsMissing: entry.symbolsMissing,
    lineCount: entry.lineCount,
  };
}
