import { ContextRequestInvalidError } from './errors/context-request-invalid.error';

/** Every bound the engine keeps. All are whole numbers above zero. */
export interface ContextEngineLimits {
  /**
   * Files analysed per commit, after the skip rules, in path order; the rest are counted only.
   * @default 20000
   */
  readonly maxFiles: number;
  /**
   * Larger files are listed but not read.
   * @default 262144 (256 KiB)
   */
  readonly maxFileBytes: number;
  /**
   * Size of one serialised index (before compression); also the most a cached file may
   * inflate to when read. Analyses that would pass it are dropped (`index-full`); the
   * listing of up to `maxFiles` paths may add a little more.
   * @default 67108864 (64 MiB)
   */
  readonly maxIndexBytes: number;
  /**
   * Time to build or update one index. When it runs out, files not yet analysed are listed
   * as `time-budget`, the index is returned (marked incomplete) and cached, and the next
   * build carries on from it.
   * @default 60000
   */
  readonly timeBudgetMs: number;
  /**
   * Distinct terms kept per file (the most frequent).
   * @default 2000
   */
  readonly maxTermsPerFile: number;
  /** @default 500 */
  readonly maxDefinitionsPerFile: number;
  /** @default 500 */
  readonly maxReferencesPerFile: number;
  /**
   * Cached indexes kept per repository, most recently used first.
   * @default 4
   */
  readonly maxCachedIndexes: number;
  /**
   * Deadline of each git call (rev-parse, ls-tree).
   * @default 60000
   */
  readonly gitTimeoutMs: number;
}

/** The defaults: sized for a large monorepo on a small worker (2 cores). */
export const DEFAULT_CONTEXT_ENGINE_LIMITS: ContextEngineLimits = {
  maxFiles: 20_000,
  maxFileBytes: 256 * 1024,
  maxIndexBytes: 64 * 1024 * 1024,
  timeBudgetMs: 60_000,
  maxTermsPerFile: 2_000,
  maxDefinitionsPerFile: 500,
  maxReferencesPerFile: 500,
  maxCachedIndexes: 4,
  gitTimeoutMs: 60_000,
};

/** The defaults overlaid with the caller's limits, each checked. */
export function resolveLimits(overrides: Partial<ContextEngineLimits> = {}): ContextEngineLimits {
  const limits = { ...DEFAULT_CONTEXT_ENGINE_LIMITS, ...overrides };
  for (const [field, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new ContextRequestInvalidError(`limits.${field}`, 'a whole number above zero');
  }
  return limits;
}
