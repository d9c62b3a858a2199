import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Language, type Node, Parser, Query } from 'web-tree-sitter';
import { TOKENIZER_VERSION } from '../lexical/tokenizer';
import { GRAMMAR_FILES, type LanguageId } from './language-registry';
import { type SymbolDefinition, type SymbolKind, SYMBOL_KINDS } from './symbol';
import { EXTRACTOR_VERSION, SYMBOL_QUERIES } from './symbol-queries';

/** What one file's syntax tree yielded. */
export interface ExtractedSymbols {
  /** Sorted by start line, then name. */
  readonly definitions: readonly SymbolDefinition[];
  /** Distinct names the file calls, constructs, imports or uses as a type, sorted. */
  readonly references: readonly string[];
  /** The grammar found syntax errors; what it could parse around them is still here. */
  readonly parseErrors: boolean;
}

/** Caps on what one file may contribute: a generated 50k-line file must not flood the index. */
export interface ExtractionLimits {
  readonly maxDefinitions: number;
  readonly maxReferences: number;
}

/** `unavailable`: no grammar could be loaded for the language; `stopped`: `shouldStop` said so. */
export type ExtractionOutcome = ExtractedSymbols | 'unavailable' | 'stopped';

interface Grammar {
  readonly parser: Parser;
  readonly query: Query;
}

const CLASS_LIKE = new Set([
  'class_declaration',
  'abstract_class_declaration',
  'interface_declaration',
  'class_definition',
  'enum_declaration',
  'record_declaration',
  'class',
  // Go: the methods of `type Store interface { Save() }` belong to Store.
  'type_spec',
]);
const WRAPPERS = new Set(['export_statement', 'decorated_definition']);
const MAX_NAME_LENGTH = 200;

let runtime: Promise<void> | undefined;

/** The folder holding the grammars of `@vscode/tree-sitter-wasm`. */
export function defaultGrammarDirectory(): string {
  return join(dirname(require.resolve('@vscode/tree-sitter-wasm/package.json')), 'wasm');
}

/**
 * Versions of everything that decides what a file's analysis yields: the queries, the
 * tokenizer, the tree-sitter runtime and the grammar package. Part of the cache's analysis key, so upgrading either
 * package re-extracts instead of trusting symbols an older grammar found.
 */
export function extractorFingerprint(): string {
  // Through the entry point: web-tree-sitter's `exports` does not expose its package.json.
  const version = (entry: string) => (JSON.parse(readFileSync(join(dirname(require.resolve(entry)), 'package.json'), 'utf8')) as { version: string }).version;
  return `queries ${EXTRACTOR_VERSION}; tokenizer ${TOKENIZER_VERSION}; web-tree-sitter ${version('web-tree-sitter')}; @vscode/tree-sitter-wasm ${version('@vscode/tree-sitter-wasm/package.json')}`;
}

/**
 * Finds definitions and references with tree-sitter grammars compiled to Wasm: no native
 * module, nothing built at install time. Grammars load lazily, once per language; one that
 * fails to load leaves its language to lexical indexing (`unavailable`), it does not fail
 * the index. One parser per language is reused: each parse, query and tree release runs
 * without an await in between, so concurrent callers never share a half-used parser.
 */
export class SymbolExtractor {
  private readonly grammars = new Map<LanguageId, Promise<Grammar | null>>();
  private readonly failed = new Set<LanguageId>();

  /** @param grammarDirectory where `tree-sitter-<language>.wasm` files are; tests point it elsewhere. */
  constructor(private readonly grammarDirectory: string = defaultGrammarDirectory()) {}

  /** Languages whose grammar failed to load so far. */
  get unavailableLanguages(): readonly LanguageId[] {
    return [...this.failed].sort();
  }

  /**
   * Parses `text` as `language` and runs its symbol query. `shouldStop` is polled while
   * parsing and querying (a deadline, an abort), so one pathological file cannot hold the
   * index past its time budget.
   */
  async extract(text: string, language: LanguageId, limits: ExtractionLimits, shouldStop: () => boolean): Promise<ExtractionOutcome> {
    const grammar = await this.grammar(language);
    if (!grammar) return 'unavailable';
    const tree = grammar.parser.parse(text, null, { progressCallback: () => shouldStop() });
    if (!tree) return 'stopped';
    try {
      const matches = grammar.query.matches(tree.rootNode, { progressCallback: () => shouldStop() });
      if (shouldStop()) return 'stopped';
      return collect(matches, tree.rootNode.hasError, limits);
    } finally {
      tree.delete();
    }
  }

  private grammar(language: LanguageId): Promise<Grammar | null> {
    let grammar = this.grammars.get(language);
    if (!grammar) {
      grammar = this.load(language).catch(() => {
        this.failed.add(language);
        return null;
      });
      this.grammars.set(language, grammar);
    }
    return grammar;
  }

  private async load(language: LanguageId): Promise<Grammar> {
    runtime ??= Parser.init();
    await runtime;
    // Bytes, not a path: given a path, web-tree-sitter reads it through a dynamic
    // import('fs/promises'), which CommonJS hosts such as Jest refuse.
    const loaded = await Language.load(await readFile(join(this.grammarDirectory, GRAMMAR_FILES[language])));
    const parser = new Parser();
    parser.setLanguage(loaded);
    return { parser, query: new Query(loaded, SYMBOL_QUERIES[language]) };
  }
}

function collect(
  matches: ReturnType<Query['matches']>,
  parseErrors: boolean,
  limits: ExtractionLimits,
): ExtractedSymbols {
  // The name node's position identifies a definition: the earliest pattern that captured
  // it wins (see symbol-queries.ts), and a name that is defined is not also a reference.
  const definitions = new Map<number, { pattern: number; definition: SymbolDefinition }>();
  const references = new Map<number, string>();
  for (const match of matches) {
    const name = match.captures.find((capture) => capture.name === 'name')?.node;
    const outer = match.captures.find((capture) => capture.name.startsWith('def.') || capture.name.startsWith('ref.'));
    if (!name || !outer || name.text.length === 0 || name.text.length > MAX_NAME_LENGTH) continue;
    if (outer.name.startsWith('ref.')) {
      references.set(name.startIndex, name.text);
      continue;
    }
    const previous = definitions.get(name.startIndex);
    if (previous && previous.pattern <= match.patternIndex) continue;
    let kind = outer.name.slice('def.'.length) as SymbolKind;
    if (!SYMBOL_KINDS.has(kind)) continue;
    const container = outer.node.childForFieldName('receiver') ? receiverType(outer.node) : containerOf(outer.node);
    // Python and JavaScript spell methods as functions inside a class body.
    if (kind === 'function' && container !== null && outer.node.type === 'function_definition') kind = 'method';
    const extent = extentOf(outer.node);
    definitions.set(name.startIndex, {
      pattern: match.patternIndex,
      definition: {
        name: name.text,
        kind,
        line: name.startPosition.row + 1,
        startLine: extent.startLine,
        endLine: extent.endLine,
        container,
      },
    });
  }
  for (const key of definitions.keys()) references.delete(key);
  const sortedDefinitions = [...definitions.values()]
    .map((entry) => entry.definition)
    .sort((a, b) => a.startLine - b.startLine || a.line - b.line || compare(a.name, b.name))
    .slice(0, limits.maxDefinitions);
  const sortedReferences = [...new Set(references.values())].sort(compare).slice(0, limits.maxReferences);
  return { definitions: sortedDefinitions, references: sortedReferences, parseErrors };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The definition's lines, widened to its `export`/decorators and the comments just above it. */
function extentOf(node: Node): { startLine: number; endLine: number } {
  let outer = node;
  while (outer.parent && WRAPPERS.has(outer.parent.type)) outer = outer.parent;
  // A Go `type X struct{}` is a type_spec inside a type_declaration holding only it.
  if (outer.type === 'type_spec' && outer.parent?.type === 'type_declaration' && outer.parent.namedChildCount === 1) outer = outer.parent;
  let startRow = outer.startPosition.row;
  let previous = outer.previousNamedSibling;
  while (previous && previous.type.includes('comment') && previous.endPosition.row >= startRow - 1) {
    startRow = previous.startPosition.row;
    previous = previous.previousNamedSibling;
  }
  return { startLine: startRow + 1, endLine: outer.endPosition.row + 1 };
}

/** The name of the nearest enclosing class-like definition, or null at top level. */
function containerOf(node: Node): string | null {
  for (let parent = node.parent; parent; parent = parent.parent) {
    if (CLASS_LIKE.has(parent.type)) return parent.childForFieldName('name')?.text ?? null;
    // A function nested in a function is not a method of the class around that function.
    if (parent.type.includes('function') || parent.type === 'method_definition' || parent.type === 'method_declaration') return null;
  }
  return null;
}

/** A Go method's receiver type: `func (c *Cart) Total()` → `Cart`. */
function receiverType(method: Node): string | null {
  const receiver = method.childForFieldName('receiver');
  return receiver?.descendantsOfType('type_identifier')[0]?.text ?? null;
}
