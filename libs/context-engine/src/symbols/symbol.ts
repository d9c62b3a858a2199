/** What a definition defines. Methods include functions defined inside a class. */
export type SymbolKind =
  | 'class'
  | 'interface'
  | 'struct'
  | 'type'
  | 'enum'
  | 'module'
  | 'function'
  | 'method'
  | 'constructor'
  | 'field'
  | 'constant'
  | 'variable';

/** Every symbol kind, for validation of cached indexes. */
export const SYMBOL_KINDS: ReadonlySet<SymbolKind> = new Set<SymbolKind>([
  'class',
  'interface',
  'struct',
  'type',
  'enum',
  'module',
  'function',
  'method',
  'constructor',
  'field',
  'constant',
  'variable',
]);

/** One definition found in a file. Lines are 1-based and inclusive. */
export interface SymbolDefinition {
  readonly name: string;
  readonly kind: SymbolKind;
  /** The line of the name itself. */
  readonly line: number;
  /** The definition's extent, with its export keyword, decorators and leading comments. */
  readonly startLine: number;
  readonly endLine: number;
  /** The class, interface or Go receiver type a method or field belongs to, or null. */
  readonly container: string | null;
}
