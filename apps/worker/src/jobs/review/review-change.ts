/**
 * A merge request's change as a review reads it: each file of `git diff <merge base> <head>`,
 * its hunks shown with the new side's line numbers, and the lines a comment may be placed on.
 * Local only: paths and code never leave the worker but for the customer's own forge.
 */

/** How a file fared in the change, from `git diff --name-status`. */
export type ChangeStatus = 'added' | 'modified' | 'deleted' | 'renamed' | 'copied' | 'type-changed';

/** One file of the change. */
export interface ChangedFile {
  /** Its path at the head commit (for a deleted file, the path it had). */
  readonly path: string;
  /** Its path before the change when the change renamed or copied it; undefined otherwise. */
  readonly oldPath: string | undefined;
  readonly status: ChangeStatus;
  /** New-side lines the change added or modified: the only lines a review comment may go on. */
  readonly addedLines: ReadonlySet<number>;
  /** The file's hunks as the model is shown them: each line with its new-side number, `+` added, `-` removed. */
  readonly diff: string;
}

const STATUSES: Readonly<Record<string, ChangeStatus>> = { A: 'added', M: 'modified', D: 'deleted', R: 'renamed', C: 'copied', T: 'type-changed' };

/** One entry of `git diff -z --name-status --find-renames`: its status and path(s). */
export interface NameStatusEntry {
  readonly status: ChangeStatus;
  readonly path: string;
  readonly oldPath: string | undefined;
}

/**
 * Parses `git diff -z --name-status --find-renames`: `S\0path\0` per file, or `R<score>\0old\0new\0`
 * for a rename or copy. Exact paths, whatever characters they hold (no quoting with -z).
 */
export function parseNameStatus(output: string): NameStatusEntry[] {
  const fields = output.split('\0');
  const entries: NameStatusEntry[] = [];
  for (let index = 0; index < fields.length; ) {
    const code = fields[index] ?? '';
    if (code === '') break;
    const status = STATUSES[code.charAt(0)];
    if (status === undefined) throw new Error(`git diff --name-status gave an unknown status ${JSON.stringify(code)}`);
    if (status === 'renamed' || status === 'copied') {
      entries.push({ status, oldPath: fields[index + 1] ?? '', path: fields[index + 2] ?? '' });
      index += 3;
    } else {
      entries.push({ status, oldPath: undefined, path: fields[index + 1] ?? '' });
      index += 2;
    }
  }
  return entries;
}

/**
 * The change's files from the two listings of one `git diff`: `--name-status -z` for the
 * exact paths and `-U3` for the hunks, which git writes in the same order, one
 * `diff --git` block per file. Paths are taken from the first, never parsed out of the
 * second (where git would quote the unusual ones).
 */
export function changedFilesOf(nameStatus: readonly NameStatusEntry[], patch: string): ChangedFile[] {
  const blocks = splitBlocks(patch);
  if (blocks.length !== nameStatus.length) throw new Error(`git diff listed ${nameStatus.length} files but wrote ${blocks.length} diff blocks`);
  return nameStatus.map((entry, index) => {
    const { lines, added } = readHunks(blocks[index] ?? []);
    return { path: entry.path, oldPath: entry.oldPath, status: entry.status, addedLines: added, diff: lines.join('\n') };
  });
}

/** The patch cut into its `diff --git` blocks, each as its lines. */
function splitBlocks(patch: string): string[][] {
  const blocks: string[][] = [];
  for (const line of patch.split('\n')) {
    if (line.startsWith('diff --git ')) blocks.push([]);
    else blocks.at(-1)?.push(line);
  }
  return blocks;
}

/** Width of the line-number column the model reads line numbers from. */
const NUMBER_WIDTH = 6;

/**
 * A block's hunks, rendered for the model (`  12 + text`, `     - text`, `  13   text`, the
 * `@@` headers kept), and the new-side numbers of its added lines. A binary file has no hunks:
 * git's one line saying so is kept. Header lines before the first hunk are left out.
 */
function readHunks(block: readonly string[]): { lines: string[]; added: Set<number> } {
  const lines: string[] = [];
  const added = new Set<number>();
  let newLine = 0;
  let inHunk = false;
  for (const text of block) {
    const hunk = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(text);
    if (hunk !== null) {
      newLine = Number(hunk[1]);
      inHunk = true;
      lines.push(text);
    } else if (!inHunk) {
      if (text.startsWith('Binary files ')) lines.push('(a binary file: no lines to show)');
    } else if (text.startsWith('+')) {
      added.add(newLine);
      lines.push(`${String(newLine).padStart(NUMBER_WIDTH)} + ${text.slice(1)}`);
      newLine += 1;
    } else if (text.startsWith('-')) {
      lines.push(`${' '.repeat(NUMBER_WIDTH)} - ${text.slice(1)}`);
    } else if (text.startsWith(' ')) {
      lines.push(`${String(newLine).padStart(NUMBER_WIDTH)}   ${text.slice(1)}`);
      newLine += 1;
    }
    // Anything else in a hunk is git's "\ No newline at end of file": about the line before, no line of its own.
  }
  return { lines, added };
}
