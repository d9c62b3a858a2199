export { ContextEngine, type ContextEngineOptions, type OpenIndexRequest } from './context-engine';
export { DEFAULT_CONTEXT_ENGINE_LIMITS, type ContextEngineLimits } from './context-engine.limits';
export {
  RepositoryIndex,
  type IndexedFile,
  type IndexOpenReport,
  type IndexSource,
  type RetrievalRequest,
  type RetrievalResult,
} from './repository-index';
export type { GitCommandRunner } from './git/git-command-runner';
export type { IndexBuildCounts } from './indexing/index-builder';
export { type ContextFile, type ContextSymbol, type Excerpt, symbolLine } from './retrieval/budget-packer';
export { estimateTokens, type TokenCounter } from './retrieval/token-count';
export type { DefinitionHit, RankedFile, RankReason, SymbolMatch } from './ranking/file-ranker';
export type { TermContribution } from './lexical/bm25.index';
export type { SkipReason } from './selection/skip-rules';
export { PathFilter } from './selection/path-glob';
export type { LanguageId } from './symbols/language-registry';
export type { SymbolDefinition, SymbolKind } from './symbols/symbol';
export { ContextRequestInvalidError } from './errors/context-request-invalid.error';
export { GitListingFailedError } from './errors/git-listing-failed.error';
export { IndexBuildAbortedError } from './errors/index-build-aborted.error';
export { IndexCacheCorruptError } from './errors/index-cache-corrupt.error';
export { WorktreeNotAtCommitError } from './errors/worktree-not-at-commit.error';
