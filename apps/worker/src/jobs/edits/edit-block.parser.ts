/** One proposed edit: replace `search` with `replace` in `path`; an empty search creates the file. */
export interface EditBlock {
  readonly path: string;
  readonly search: readonly string[];
  readonly replace: readonly string[];
}

/** The edit blocks found in a model answer, plus how many started but were not well-formed. */
export interface ParsedEdits {
  readonly blocks: readonly EditBlock[];
  readonly malformed: number;
}

const SEARCH = /^<{5,9} ?SEARCH\s*$/;
const DIVIDER = /^={5,9}\s*$/;
const REPLACE = /^>{5,9} ?REPLACE\s*$/;
const FENCE = /^\s*(```|~~~)/;

/**
 * Parses aider-style SEARCH/REPLACE blocks. The file path is the nearest non-blank,
 * non-fence line before the SEARCH marker; a block right after another block with no path
 * line of its own edits the same file, as models often write it that way.
 */
export function parseEditBlocks(answer: string): ParsedEdits {
  const lines = answer.replace(/\r\n/g, '\n').split('\n');
  const blocks: EditBlock[] = [];
  let malformed = 0;
  let index = 0;
  let lastPath: string | undefined;
  while (index < lines.length) {
    if (!SEARCH.test(lines[index] ?? '')) {
      index += 1;
      continue;
    }
    const path = findPath(lines, index, lastPath);
    const divider = findIndex(lines, index + 1, DIVIDER, SEARCH);
    const end = divider === -1 ? -1 : findIndex(lines, divider + 1, REPLACE, SEARCH);
    if (path === undefined || divider === -1 || end === -1) {
      malformed += 1;
      index += 1;
      continue;
    }
    blocks.push({ path, search: lines.slice(index + 1, divider), replace: lines.slice(divider + 1, end) });
    lastPath = path;
    index = end + 1;
  }
  return { blocks, malformed };
}

function findIndex(lines: readonly string[], from: number, wanted: RegExp, stopAt: RegExp): number {
  for (let i = from; i < lines.length; i += 1) {
    const line = lines[i] ?? '';
    if (wanted.test(line)) return i;
    if (stopAt.test(line)) return -1;
  }
  return -1;
}

function findPath(lines: readonly string[], searchIndex: number, lastPath: string | undefined): string | undefined {
  for (let i = searchIndex - 1; i >= 0; i -= 1) {
    const line = (lines[i] ?? '').trim();
    if (line === '' || FENCE.test(line)) continue;
    if (REPLACE.test(line)) return lastPath;
    // Trailing decoration is matched only from the start of its run (the lookbehind): a bare
    // `[*`:\s]+$` retries from every character of a long run that is not at the end, which
    // takes quadratic time, and a model answer can hold such a line.
    const cleaned = line.replace(/^[#*`\s]+/, '').replace(/(?<![*`:\s])[*`:\s]+$/, '');
    return cleaned === '' ? undefined : cleaned;
  }
  return undefined;
}
