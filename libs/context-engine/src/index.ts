export { Bm25Index, type Bm25Document, type Bm25Score, type TermContribution } from './lexical/bm25.index';
export { indexTerms, pathTerms, queryIdentifiers, queryTerms, significantParts, splitIdentifier } from './lexical/tokenizer';
export { globToRegExp, PathFilter } from './selection/path-glob';
export { skipReasonForContent, skipReasonForEntry, type SkipReason } from './selection/skip-rules';
export { languageOf, type LanguageId } from './symbols/language-registry';
export type { SymbolDefinition, SymbolKind } from './symbols/symbol';
export { SymbolExtractor, type ExtractedSymbols, type ExtractionLimits, type ExtractionOutcome } from './symbols/symbol-extractor';
