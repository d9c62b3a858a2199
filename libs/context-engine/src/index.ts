export { Bm25Index, type Bm25Document, type Bm25Score, type TermContribution } from './lexical/bm25.index';
export { indexTerms, pathTerms, queryIdentifiers, queryTerms, significantParts, splitIdentifier } from './lexical/tokenizer';
export { globToRegExp, PathFilter } from './selection/path-glob';
export { skipReasonForContent, skipReasonForEntry, type SkipReason } from './selection/skip-rules';
