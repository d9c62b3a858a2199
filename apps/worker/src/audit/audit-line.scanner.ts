import type { AuditFileSystem } from './audit-file-system';
import { MAX_AUDIT_LINE_BYTES } from './audit-chain';

const CHUNK_BYTES = 1024 * 1024;
const NEWLINE = 0x0a;

/** What follows the last newline of a file: nothing, a short unterminated tail, or more than one line could be. */
export type FileTail = { readonly kind: 'none' } | { readonly kind: 'unterminated'; readonly offset: number; readonly bytes: Buffer } | { readonly kind: 'oversized'; readonly offset: number };

/** How a scan ended: every line seen, or stopped at one (by the callback or because it was too long). */
export type LineScan =
  | { readonly complete: true; readonly lines: number; readonly endOfLastLine: number; readonly tail: FileTail }
  | { readonly complete: false; readonly stoppedAtLine: number; readonly tooLong: boolean };

/**
 * Reads a file front to back in 1 MiB chunks and hands each newline-terminated line (without
 * its newline) to `onLine` with its 1-based number; `onLine` returns false to stop. Memory
 * stays bounded by the chunk and `MAX_AUDIT_LINE_BYTES`, whatever the file's size. Newlines are
 * found in bytes, which is safe in UTF-8: 0x0a never occurs inside a multi-byte character.
 */
export function scanLines(fileSystem: AuditFileSystem, fd: number, onLine: (line: string, lineNumber: number) => boolean): LineScan {
  const chunk = Buffer.alloc(CHUNK_BYTES);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let position = 0;
  let lineNumber = 0;
  let endOfLastLine = 0;
  for (;;) {
    const read = fileSystem.readSync(fd, chunk, 0, CHUNK_BYTES, position);
    if (read === 0) break;
    let start = 0;
    for (let index = chunk.indexOf(NEWLINE, 0); index !== -1 && index < read; index = chunk.indexOf(NEWLINE, start)) {
      lineNumber += 1;
      const length = pendingBytes + index - start;
      if (length > MAX_AUDIT_LINE_BYTES) return { complete: false, stoppedAtLine: lineNumber, tooLong: true };
      const line = Buffer.concat([...pending, chunk.subarray(start, index)], length).toString('utf8');
      pending = [];
      pendingBytes = 0;
      start = index + 1;
      endOfLastLine = position + start;
      if (!onLine(line, lineNumber)) return { complete: false, stoppedAtLine: lineNumber, tooLong: false };
    }
    if (start < read) {
      pendingBytes += read - start;
      if (pendingBytes > MAX_AUDIT_LINE_BYTES) {
        // Keep reading only to learn whether this is an oversized line or an oversized tail.
        pending = [];
        const next = findNewline(fileSystem, fd, position + read);
        if (next !== -1) return { complete: false, stoppedAtLine: lineNumber + 1, tooLong: true };
        return { complete: true, lines: lineNumber, endOfLastLine, tail: { kind: 'oversized', offset: endOfLastLine } };
      }
      pending.push(Buffer.from(chunk.subarray(start, read)));
    }
    position += read;
  }
  if (pendingBytes === 0) return { complete: true, lines: lineNumber, endOfLastLine, tail: { kind: 'none' } };
  return { complete: true, lines: lineNumber, endOfLastLine, tail: { kind: 'unterminated', offset: endOfLastLine, bytes: Buffer.concat(pending, pendingBytes) } };
}

function findNewline(fileSystem: AuditFileSystem, fd: number, from: number): number {
  const chunk = Buffer.alloc(CHUNK_BYTES);
  for (let position = from; ; ) {
    const read = fileSystem.readSync(fd, chunk, 0, CHUNK_BYTES, position);
    if (read === 0) return -1;
    const index = chunk.subarray(0, read).indexOf(NEWLINE);
    if (index !== -1) return position + index;
    position += read;
  }
}

/**
 * The last newline-terminated line of a file, read from its end (at most one line's worth of
 * bytes), or why there is none: the file is empty, does not end with a newline, or its last
 * line is longer than any audit line.
 */
export function readLastLine(fileSystem: AuditFileSystem, fd: number): { readonly line: string } | { readonly problem: 'empty' | 'unterminated' | 'too-long' } {
  const size = fileSystem.fstatSync(fd).size;
  if (size === 0) return { problem: 'empty' };
  const length = Math.min(size, MAX_AUDIT_LINE_BYTES + 2);
  const buffer = Buffer.alloc(length);
  const read = readFully(fileSystem, fd, buffer, size - length);
  if (read !== length || buffer[length - 1] !== NEWLINE) return { problem: 'unterminated' };
  const previousNewline = buffer.lastIndexOf(NEWLINE, length - 2);
  if (previousNewline === -1 && length < size) return { problem: 'too-long' };
  return { line: buffer.subarray(previousNewline + 1, length - 1).toString('utf8') };
}

/** The first line of a file (bounded read), or undefined when it has no complete first line. */
export function readFirstLine(fileSystem: AuditFileSystem, fd: number): string | undefined {
  const buffer = Buffer.alloc(MAX_AUDIT_LINE_BYTES + 1);
  const read = readFully(fileSystem, fd, buffer, 0);
  const newline = buffer.subarray(0, read).indexOf(NEWLINE);
  return newline === -1 ? undefined : buffer.subarray(0, newline).toString('utf8');
}

function readFully(fileSystem: AuditFileSystem, fd: number, buffer: Buffer, position: number): number {
  let total = 0;
  while (total < buffer.length) {
    const read = fileSystem.readSync(fd, buffer, total, buffer.length - total, position + total);
    if (read === 0) break;
    total += read;
  }
  return total;
}
