import { indexTerms } from '../lexical/tokenizer';
import { skipReasonForContent } from '../selection/skip-rules';
import type { LanguageId } from '../symbols/language-registry';
import type { SymbolExtractor } from '../symbols/symbol-extractor';
import { type IndexEntry, skippedEntry } from './index-entry';
import { blobObjectId } from './worktree-reader';

/** Per-file caps, part of the cache's analysis key. */
export interface AnalysisLimits {
  readonly maxTermsPerFile: number;
  readonly maxDefinitionsPerFile: number;
  readonly maxReferencesPerFile: number;
}

/** `stopped`: the time budget or an abort interrupted the parse; nothing is recorded. */
export type AnalysisOutcome = IndexEntry | 'stopped';

/**
 * Turns one file's bytes into an index entry: content skips (binary, generated, minified),
 * term counts, symbols. Pure apart from the extractor's grammar loading, so the same bytes
 * and language always give the same entry — the property incremental updates rely on.
 */
export class FileAnalyzer {
  constructor(
    private readonly extractor: SymbolExtractor,
    private readonly limits: AnalysisLimits,
  ) {}

  async analyze(path: string, treeObjectId: string, bytes: Buffer, language: LanguageId | null, shouldStop: () => boolean): Promise<AnalysisOutcome> {
    // The id of what was read, not of what the tree says: if the worktree differs from the
    // commit, the entry must not be reused later for the tree's blob.
    const objectId = blobObjectId(bytes, treeObjectId);
    const contentSkip = skipReasonForContent(bytes);
    if (contentSkip) return skippedEntry(path, objectId, bytes.length, language, contentSkip);
    const text = bytes.toString('utf8');
    const counts = new Map<string, number>();
    for (const term of indexTerms(text)) counts.set(term, (counts.get(term) ?? 0) + 1);
    // The most frequent terms stay when a file has too many; ties by term, so the cut is stable.
    const kept = [...counts]
      .sort((a, b) => b[1] - a[1] || compare(a[0], b[0]))
      .slice(0, this.limits.maxTermsPerFile)
      .sort((a, b) => compare(a[0], b[0]));
    let definitions: IndexEntry['definitions'] = [];
    let references: IndexEntry['references'] = [];
    let parseErrors = false;
    let symbolsMissing = false;
    if (language) {
      const extracted = await this.extractor.extract(
        text,
        language,
        { maxDefinitions: this.limits.maxDefinitionsPerFile, maxReferences: this.limits.maxReferencesPerFile },
        shouldStop,
      );
      if (extracted === 'stopped') return 'stopped';
      if (extracted === 'unavailable') symbolsMissing = true;
      else ({ definitions, references, parseErrors } = extracted);
    }
    return {
      path,
      objectId,
      size: bytes.length,
      language,
      skipped: null,
      terms: kept.map(([term]) => term),
      frequencies: kept.map(([, count]) => count),
      definitions,
      references,
      parseErrors,
      symbolsMissing,
      lineCount: text.length === 0 ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0),
    };
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
