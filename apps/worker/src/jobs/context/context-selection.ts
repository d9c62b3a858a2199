import type { ContextFile, ContextSymbol } from '@airlock/context-engine';

/**
 * What CONTEXT chose to show the model, from the context engine, in rank order. File
 * contents and names: it stays on the worker (the prompt and the local job record).
 */
export interface ContextSelection {
  /** Where the definitions the ticket names are: `path:line kind name`. */
  readonly symbols: readonly ContextSymbol[];
  /** Files whole, or as the excerpts holding the definitions the ticket names. */
  readonly files: readonly ContextFile[];
}
