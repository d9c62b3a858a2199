import { type RepositoryIndex, symbolLine } from '@airlock/context-engine';
import type { CodeRanking } from '../agent/workspace-tools';

/** Files `search_code` lists from the index, best first: enough to choose from, few enough to read. */
export const MAX_RANKED_FILES = 10;
/** Definitions listed per file: the ones the query names best. */
const MAX_DEFINITIONS_PER_FILE = 3;

/**
 * `search_code`'s ranked section, from the job's index of the base commit: the files that
 * rank highest for the query, each as its matching definitions (`src/cart.ts:12 method
 * Cart.total`, the form the prompt's symbol map uses) or, without one, as its path. The
 * index is of the base commit: files the model has edited since rank as they were, which
 * the grep section beside it makes up for.
 */
export class IndexCodeRanking implements CodeRanking {
  constructor(private readonly index: Pick<RepositoryIndex, 'rank'>) {}

  rank(query: string, signal: AbortSignal): Promise<readonly string[]> {
    if (signal.aborted) return Promise.resolve([]);
    const lines = this.index
      .rank(query)
      .slice(0, MAX_RANKED_FILES)
      .flatMap((file) => {
        const definitions = file.why.definitions.slice(0, MAX_DEFINITIONS_PER_FILE);
        return definitions.length === 0 ? [file.path] : definitions.map((definition) => symbolLine(definition));
      });
    return Promise.resolve(lines);
  }
}
