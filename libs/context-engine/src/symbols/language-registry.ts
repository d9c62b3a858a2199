/** The languages whose symbols the engine extracts with a tree-sitter grammar. */
export type LanguageId = 'typescript' | 'tsx' | 'javascript' | 'python' | 'go' | 'java';

/** Every language with a grammar, for validation of cached indexes. */
export const LANGUAGE_IDS: ReadonlySet<LanguageId> = new Set<LanguageId>(['typescript', 'tsx', 'javascript', 'python', 'go', 'java']);

const BY_EXTENSION: Readonly<Record<string, LanguageId>> = {
  ts: 'typescript',
  mts: 'typescript',
  cts: 'typescript',
  tsx: 'tsx',
  js: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  // The JavaScript grammar parses JSX itself.
  jsx: 'javascript',
  py: 'python',
  pyi: 'python',
  go: 'go',
  java: 'java',
};

/**
 * The grammar language of a path, by its extension, or null: such a file is still indexed
 * lexically (identifiers, comments, its path), only without symbols.
 */
export function languageOf(path: string): LanguageId | null {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  // `.d.ts` declaration files are TypeScript too; a dotfile without extension is not.
  if (dot <= 0) return null;
  return BY_EXTENSION[name.slice(dot + 1).toLowerCase()] ?? null;
}

/** The file name of each language's grammar inside `@vscode/tree-sitter-wasm/wasm/`. */
export const GRAMMAR_FILES: Readonly<Record<LanguageId, string>> = {
  typescript: 'tree-sitter-typescript.wasm',
  tsx: 'tree-sitter-tsx.wasm',
  javascript: 'tree-sitter-javascript.wasm',
  python: 'tree-sitter-python.wasm',
  go: 'tree-sitter-go.wasm',
  java: 'tree-sitter-java.wasm',
};
