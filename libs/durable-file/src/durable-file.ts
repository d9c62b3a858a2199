import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Appends `bytes` to the file open at `fd` (opened for appending) and fsyncs it, so they
 * are on disk when this returns. If the disk refuses part way (ENOSPC, EIO, a failed
 * fsync), whatever part reached the file is cut back off before the error is rethrown:
 * the next append starts on a clean line instead of running into a torn one.
 *
 * @throws the write's or fsync's error. If even the cut-back fails, `onTornTail` is
 *   called first (the caller must then stop appending to this descriptor: a partial last
 *   line is recoverable at the next open, one in the middle is not).
 */
export function appendDurably(fd: number, bytes: Buffer, onTornTail: () => void): void {
  const sizeBefore = fstatSync(fd).size;
  try {
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written);
    fsyncSync(fd);
  } catch (error) {
    try {
      ftruncateSync(fd, sizeBefore);
    } catch {
      onTornTail();
    }
    throw error;
  }
}

/**
 * Replaces the file at `filePath` with `bytes` so that a crash leaves either the old file
 * or the new one: a temporary file beside it, fsync'd, renamed over it, then the directory
 * fsync'd so the rename itself survives a power loss. On failure the temporary file is
 * removed and the old file is untouched.
 *
 * The default temporary name is fixed, so two writers of one file must be serialised by
 * the caller; a file that other processes may write at the same time needs a
 * `temporaryPath` unique to this write, in the same directory (rename is atomic only there).
 */
export function rewriteDurably(filePath: string, bytes: Buffer, temporaryPath = `${filePath}.tmp`): void {
  try {
    const fd = openSync(temporaryPath, 'w', 0o600);
    try {
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporaryPath, filePath);
  } catch (error) {
    rmSync(temporaryPath, { force: true });
    throw error;
  }
  fsyncDirectory(dirname(filePath));
}

/** fsyncs a directory, so that a rename, create or unlink in it survives a power loss. */
export function fsyncDirectory(directory: string): void {
  const fd = openSync(directory, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a JSON-lines file whose appends may have been cut short by a crash: every line is
 * given to `parse`, which returns the entry or undefined when the line is unreadable. An
 * unreadable *last* line is the trace of an append that never returned and is skipped; an
 * unreadable line anywhere else cannot come from a crash, and `onCorrupt` is called with
 * its 1-based number (it should throw). A missing file reads as empty.
 */
export function readJsonLines<T>(filePath: string, parse: (value: unknown) => T | undefined, onCorrupt: (lineNumber: number) => never): T[] {
  let text: string;
  try {
    text = readFileSync(filePath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const lines = text.split('\n');
  // A complete file ends with a newline, so the last element is empty.
  if (lines[lines.length - 1] === '') lines.pop();
  const entries: T[] = [];
  lines.forEach((line, index) => {
    let entry: T | undefined;
    try {
      entry = parse(JSON.parse(line));
    } catch {
      entry = undefined;
    }
    if (entry !== undefined) entries.push(entry);
    else if (index !== lines.length - 1) onCorrupt(index + 1);
  });
  return entries;
}
