import type { ChangedFile } from '@airlock/policy';

/** One file of a patch as `git diff` wrote it, with whatever whole content the patch itself shows. */
export interface PatchFile {
  readonly file: ChangedFile;
  /** The file's whole content after the change, when the patch shows all of it (a created text file). */
  readonly wholeAfter?: string;
  /** The file's whole content before the change, when the patch shows all of it (a deleted text file). */
  readonly wholeBefore?: string;
}

const HUNK_HEADER = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/;

/**
 * Reads the files of a `git diff` patch (as APPLY stages and records it: `--binary`, renames
 * detected, paths quoted the C way where git quotes them): status, paths (both sides of a
 * rename), the lines each file gains and how many it loses. A binary file gains and loses
 * no lines. A patch cut short (a record's size bound) yields the files it still shows.
 */
export function parsePatchFiles(patch: string): PatchFile[] {
  const lines = patch.split('\n');
  const files: PatchFile[] = [];
  let index = 0;
  while (index < lines.length) {
    const header = lines[index] ?? '';
    if (!header.startsWith('diff --git ')) {
      index += 1;
      continue;
    }
    index += 1;
    const section = readSection(lines, index, header);
    index = section.next;
    files.push(section.file);
  }
  return files;
}

function readSection(lines: readonly string[], start: number, header: string): { file: PatchFile; next: number } {
  let status: ChangedFile['status'] = 'modified';
  let oldPath: string | undefined;
  let newPath: string | undefined;
  let index = start;
  // Extended headers, then ---/+++ and the hunks, or a binary body.
  for (; index < lines.length; index += 1) {
    const line = lines[index] ?? '';
    if (line.startsWith('diff --git ') || line.startsWith('@@') || line.startsWith('--- ') || line.startsWith('GIT binary patch') || line.startsWith('Binary files ')) break;
    if (line.startsWith('new file mode ')) status = 'added';
    else if (line.startsWith('deleted file mode ')) status = 'deleted';
    else if (line.startsWith('rename from ') || line.startsWith('copy from ')) oldPath = unquote(line.slice(line.indexOf(' from ') + 6));
    else if (line.startsWith('rename to ') || line.startsWith('copy to ')) newPath = unquote(line.slice(line.indexOf(' to ') + 4));
    if (line.startsWith('rename ')) status = 'renamed';
    // A copy leaves its source as it was: the patch adds the copy.
    if (line.startsWith('copy ')) status = 'added';
  }
  if ((lines[index] ?? '').startsWith('--- ')) {
    const before = sidePath(lines[index] ?? '', '--- ', 'a/');
    const after = sidePath(lines[index + 1] ?? '', '+++ ', 'b/');
    if (before !== undefined) oldPath ??= before;
    if (after !== undefined) newPath ??= after;
    index += 2;
  }
  const fromHeader = headerPaths(header);
  oldPath ??= fromHeader?.[0];
  newPath ??= fromHeader?.[1];
  const addedLines: string[] = [];
  const removedText: string[] = [];
  let addsNewline = true;
  for (; index < lines.length; ) {
    const line = lines[index] ?? '';
    if (line.startsWith('diff --git ')) break;
    const hunk = HUNK_HEADER.exec(line);
    if (hunk === null) {
      // A binary body or a line no hunk claims: skipped up to the next file.
      index += 1;
      continue;
    }
    let oldLeft = hunk[1] === undefined ? 1 : Number(hunk[1]);
    let newLeft = hunk[2] === undefined ? 1 : Number(hunk[2]);
    index += 1;
    while (index < lines.length && (oldLeft > 0 || newLeft > 0 || (lines[index] ?? '').startsWith('\\'))) {
      const body = lines[index] ?? '';
      if (body.startsWith('+')) {
        addedLines.push(body.slice(1));
        newLeft -= 1;
      } else if (body.startsWith('-')) {
        removedText.push(body.slice(1));
        oldLeft -= 1;
      } else if (body.startsWith('\\')) {
        // "\ No newline at end of file" after the last added line: the new file ends without one.
        if ((lines[index - 1] ?? '').startsWith('+')) addsNewline = false;
      } else {
        oldLeft -= 1;
        newLeft -= 1;
      }
      index += 1;
    }
  }
  const path = status === 'deleted' ? (oldPath ?? newPath ?? '') : (newPath ?? oldPath ?? '');
  const file: ChangedFile = {
    path,
    status,
    addedLines,
    removedLines: removedText.length,
    ...(status === 'renamed' && oldPath !== undefined ? { previousPath: oldPath } : {}),
  };
  return {
    file: {
      file,
      ...(status === 'added' && addedLines.length > 0 ? { wholeAfter: `${addedLines.join('\n')}${addsNewline ? '\n' : ''}` } : {}),
      ...(status === 'deleted' && removedText.length > 0 ? { wholeBefore: `${removedText.join('\n')}\n` } : {}),
    },
    next: index,
  };
}

/** The path of a `--- a/x` or `+++ b/x` line, or undefined for /dev/null. Git ends a name holding a space with a tab. */
function sidePath(line: string, marker: string, prefix: string): string | undefined {
  if (!line.startsWith(marker)) return undefined;
  const raw = unquote(line.slice(marker.length).replace(/\t$/, ''));
  if (raw === '/dev/null') return undefined;
  return raw.startsWith(prefix) ? raw.slice(prefix.length) : raw;
}

/**
 * Both paths of `diff --git a/x b/y`: quoted ones are read token by token; unquoted ones are
 * the two equal halves (a rename, whose halves differ, names its paths in its own headers).
 */
function headerPaths(header: string): [string, string] | undefined {
  const rest = header.slice('diff --git '.length);
  if (rest.startsWith('"')) {
    const first = quotedToken(rest);
    if (first === undefined) return undefined;
    const second = rest.slice(first.length + 1);
    return [stripPrefix(unquote(first), 'a/'), stripPrefix(unquote(second), 'b/')];
  }
  const half = (rest.length - 1) / 2;
  if (!Number.isInteger(half)) return undefined;
  return [stripPrefix(rest.slice(0, half), 'a/'), stripPrefix(rest.slice(half + 1), 'b/')];
}

function quotedToken(text: string): string | undefined {
  for (let index = 1; index < text.length; index += 1) {
    if (text[index] === '\\') index += 1;
    else if (text[index] === '"') return text.slice(0, index + 1);
  }
  return undefined;
}

function stripPrefix(path: string, prefix: string): string {
  return path.startsWith(prefix) ? path.slice(prefix.length) : path;
}

const ESCAPES: Readonly<Record<string, number>> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };

/** Reads a path git quoted (`"t\303\251st.txt"`: C escapes, octal bytes of UTF-8); an unquoted one as it is. */
export function unquote(text: string): string {
  if (!(text.length >= 2 && text.startsWith('"') && text.endsWith('"'))) return text;
  const bytes: number[] = [];
  const body = text.slice(1, -1);
  for (let index = 0; index < body.length; index += 1) {
    const char = body[index] ?? '';
    if (char !== '\\') {
      bytes.push(...Buffer.from(char, 'utf8'));
      continue;
    }
    const next = body[index + 1] ?? '';
    const octal = /^[0-7]{3}/.exec(body.slice(index + 1));
    if (octal) {
      bytes.push(Number.parseInt(octal[0], 8));
      index += 3;
    } else {
      bytes.push(ESCAPES[next] ?? next.charCodeAt(0));
      index += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
