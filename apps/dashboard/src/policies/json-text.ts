/**
 * JSON text as an editor needs it: where each member and item starts (so a problem the
 * server names by its path can be shown at its line), syntax errors with their line and
 * column, and a compact layout for showing documents.
 */

/** Where a value sits in the text: the line of its key when it is a member, of the value itself otherwise. */
export type JsonNode =
  | { readonly kind: 'object'; readonly line: number; readonly members: ReadonlyMap<string, JsonNode> }
  | { readonly kind: 'array'; readonly line: number; readonly items: readonly JsonNode[] }
  | { readonly kind: 'scalar'; readonly line: number };

export interface JsonSyntaxError {
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

export type JsonParseResult = { readonly ok: true; readonly value: unknown; readonly root: JsonNode } | { readonly ok: false; readonly error: JsonSyntaxError };

class SyntaxProblem extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;
const LITERALS = ['true', 'false', 'null'] as const;

/** The offsets at which each line starts: line n (from 1) starts at lineStarts[n - 1]. */
function lineStartsOf(text: string): number[] {
  const starts = [0];
  for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', index + 1)) starts.push(index + 1);
  return starts;
}

/** The 1-based line and column of an offset. */
function positionOf(lineStarts: readonly number[], offset: number): { line: number; column: number } {
  let low = 0;
  let high = lineStarts.length - 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if ((lineStarts[middle] ?? 0) <= offset) low = middle;
    else high = middle - 1;
  }
  return { line: low + 1, column: offset - (lineStarts[low] ?? 0) + 1 };
}

function describeAt(text: string, offset: number): string {
  if (offset >= text.length) return 'the end of the text';
  const character = text.charAt(offset);
  return character === '\n' ? 'a line break' : `"${character}"`;
}

/**
 * Parses JSON (RFC 8259: no comments, no trailing commas) and records the line of every
 * member and item. The value is JSON.parse's own, so duplicate keys and `__proto__` mean
 * what they mean to the browser; in the positions too, the last of duplicate keys wins.
 */
export function parseJsonWithLines(text: string): JsonParseResult {
  const lineStarts = lineStartsOf(text);
  const lineAt = (offset: number) => positionOf(lineStarts, offset).line;
  let offset = 0;

  const skipWhitespace = () => {
    WHITESPACE.lastIndex = offset;
    WHITESPACE.exec(text);
    offset = WHITESPACE.lastIndex;
  };
  const fail = (expected: string): never => {
    throw new SyntaxProblem(offset, `expected ${expected}, found ${describeAt(text, offset)}`);
  };

  const readString = (): string => {
    const start = offset;
    offset += 1;
    for (;;) {
      const character = text.charAt(offset);
      if (offset >= text.length) throw new SyntaxProblem(start, 'this string is not closed (no matching ")');
      if (character === '"') break;
      if (character === '\n') throw new SyntaxProblem(start, 'this string is not closed on its line (a line break inside a string must be written \\n)');
      if (character < ' ') throw new SyntaxProblem(offset, 'a control character inside a string must be escaped');
      if (character === '\\') {
        const escaped = text.charAt(offset + 1);
        if (escaped === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(offset + 2, offset + 6))) throw new SyntaxProblem(offset, 'expected four hexadecimal digits after \\u');
          offset += 6;
          continue;
        }
        if (!'"\\/bfnrt'.includes(escaped) || escaped === '') throw new SyntaxProblem(offset, `"\\${escaped}" is not an escape JSON knows (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)`);
        offset += 2;
        continue;
      }
      offset += 1;
    }
    offset += 1;
    return JSON.parse(text.slice(start, offset)) as string;
  };

  const readValue = (line: number): JsonNode => {
    skipWhitespace();
    const character = text.charAt(offset);
    if (character === '{') return readObject(line);
    if (character === '[') return readArray(line);
    if (character === '"') {
      readString();
      return { kind: 'scalar', line };
    }
    NUMBER.lastIndex = offset;
    if (NUMBER.test(text)) {
      offset = NUMBER.lastIndex;
      return { kind: 'scalar', line };
    }
    for (const literal of LITERALS) {
      if (text.startsWith(literal, offset)) {
        offset += literal.length;
        return { kind: 'scalar', line };
      }
    }
    if (character === "'") throw new SyntaxProblem(offset, 'strings are written in double quotes (") in JSON');
    return fail('a value (an object, a list, a string in double quotes, a number, true, false or null)');
  };

  const readObject = (line: number): JsonNode => {
    offset += 1;
    const members = new Map<string, JsonNode>();
    skipWhitespace();
    if (text.charAt(offset) === '}') {
      offset += 1;
      return { kind: 'object', line, members };
    }
    for (;;) {
      skipWhitespace();
      if (text.charAt(offset) === '}') throw new SyntaxProblem(offset, 'a comma before "}" has no member after it (JSON allows no trailing comma)');
      if (text.charAt(offset) !== '"') fail('a member name in double quotes');
      const keyLine = lineAt(offset);
      const key = readString();
      skipWhitespace();
      if (text.charAt(offset) !== ':') fail(`":" after the member name "${key}"`);
      offset += 1;
      skipWhitespace();
      // A member is named on its key's line; a value that starts on a later line is still shown at the key.
      const value = readValue(keyLine);
      members.delete(key);
      members.set(key, value);
      skipWhitespace();
      if (text.charAt(offset) === ',') {
        offset += 1;
        continue;
      }
      if (text.charAt(offset) === '}') {
        offset += 1;
        return { kind: 'object', line, members };
      }
      fail('"," or "}" after a member');
    }
  };

  const readArray = (line: number): JsonNode => {
    offset += 1;
    const items: JsonNode[] = [];
    skipWhitespace();
    if (text.charAt(offset) === ']') {
      offset += 1;
      return { kind: 'array', line, items };
    }
    for (;;) {
      skipWhitespace();
      if (text.charAt(offset) === ']') throw new SyntaxProblem(offset, 'a comma before "]" has no item after it (JSON allows no trailing comma)');
      items.push(readValue(lineAt(offset)));
      skipWhitespace();
      if (text.charAt(offset) === ',') {
        offset += 1;
        continue;
      }
      if (text.charAt(offset) === ']') {
        offset += 1;
        return { kind: 'array', line, items };
      }
      fail('"," or "]" after an item');
    }
  };

  try {
    skipWhitespace();
    if (offset >= text.length) throw new SyntaxProblem(offset, 'the text is empty: expected a JSON object');
    const root = readValue(lineAt(offset));
    skipWhitespace();
    if (offset < text.length) throw new SyntaxProblem(offset, `expected nothing after the end of the document, found ${describeAt(text, offset)}`);
    return { ok: true, value: JSON.parse(text) as unknown, root };
  } catch (error) {
    if (!(error instanceof SyntaxProblem)) throw error;
    return { ok: false, error: { ...positionOf(lineStarts, error.offset), message: error.message } };
  }
}

/** One step of a path: a member by name or an item by index. */
type PathStep = { readonly key: string } | { readonly index: number };

const INDEX_STEP = /^\[(\d+)\]/;
const QUOTED_KEY_STEP = /^\[("(?:[^"\\]|\\.)*")\]/;

/**
 * Follows a path such as `rules.max-files-changed.max`, `rules.protected-paths.paths[2]` or
 * `rules.base-refs.allowed["ledger.v2"]` through the parsed text. Member names may contain
 * dots (the server writes them as they are), so at each object the longest member name
 * that leads on to the rest of the path is taken. Returns the steps that matched and the
 * node they reach.
 */
export function locatePath(root: JsonNode, path: string): { readonly node: JsonNode; readonly matched: readonly PathStep[]; readonly complete: boolean } {
  const walk = (node: JsonNode, rest: string, matched: PathStep[]): { node: JsonNode; matched: PathStep[]; complete: boolean } => {
    if (rest === '') return { node, matched, complete: true };
    const stopHere = { node, matched, complete: false };
    if (node.kind === 'array') {
      const step = INDEX_STEP.exec(rest);
      const item = step ? node.items[Number(step[1])] : undefined;
      return step && item ? walk(item, rest.slice(step[0].length).replace(/^\./, ''), [...matched, { index: Number(step[1]) }]) : stopHere;
    }
    if (node.kind !== 'object') return stopHere;
    const quoted = QUOTED_KEY_STEP.exec(rest);
    if (quoted?.[1]) {
      const key = JSON.parse(quoted[1]) as string;
      const member = node.members.get(key);
      return member ? walk(member, rest.slice(quoted[0].length).replace(/^\./, ''), [...matched, { key }]) : stopHere;
    }
    let best = stopHere;
    for (const [key, member] of node.members) {
      const after = rest.charAt(key.length);
      if (!rest.startsWith(key) || !(after === '' || after === '.' || after === '[')) continue;
      const found = walk(member, after === '.' ? rest.slice(key.length + 1) : rest.slice(key.length), [...matched, { key }]);
      if (found.complete) return found;
      if (found.matched.length > best.matched.length) best = found;
    }
    return best;
  };
  return walk(root, path, []);
}

/** The line a path names, or the line of the nearest enclosing value the text has when the path goes further (a missing field). */
export function lineOfPath(root: JsonNode, path: string): number {
  return locatePath(root, path).node.line;
}

const LINE_WIDTH = 88;

/**
 * JSON laid out for reading, as the documentation's examples are: the first `openLevels`
 * levels one member per line, and below them any object or list that fits on its line kept
 * there (`"max-files-changed": { "max": 10 },`), larger ones opened one member per line.
 */
export function formatJson(value: unknown, openLevels = 1): string {
  return layout(value, '', 0, openLevels);
}

function layout(value: unknown, indent: string, prefixLength: number, openLevels: number): string {
  const compact = compactJson(value);
  if (typeof value !== 'object' || value === null || (openLevels <= 0 && indent.length + prefixLength + compact.length + 1 <= LINE_WIDTH)) return compact;
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((item) => `${inner}${layout(item, inner, 0, openLevels - 1)}`).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return '{}';
  const members = entries.map(([key, member]) => {
    const name = `${JSON.stringify(key)}: `;
    return `${inner}${name}${layout(member, inner, name.length, openLevels - 1)}`;
  });
  return `{\n${members.join(',\n')}\n${indent}}`;
}

/** One line of JSON with a space after each comma and colon and inside braces: `{ "a": [1, 2] }`. */
export function compactJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(compactJson).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    return entries.length === 0 ? '{}' : `{ ${entries.map(([key, member]) => `${JSON.stringify(key)}: ${compactJson(member)}`).join(', ')} }`;
  }
  return JSON.stringify(value) ?? 'null';
}
