import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeAuditFileSystem } from './audit-file-system';
import { MAX_AUDIT_LINE_BYTES } from './audit-chain';
import { type LineScan, readFirstLine, readLastLine, scanLines } from './audit-line.scanner';

describe('audit line scanner', () => {
  let directory: string;
  const withFile = <T>(content: string | Buffer, use: (fd: number) => T): T => {
    const file = join(directory, 'lines');
    writeFileSync(file, content);
    const fd = openSync(file, 'r');
    try {
      return use(fd);
    } finally {
      closeSync(fd);
    }
  };
  const scanAll = (content: string | Buffer): { lines: string[]; scan: LineScan } => {
    const lines: string[] = [];
    const scan = withFile(content, (fd) => scanLines(nodeAuditFileSystem, fd, (line) => lines.push(line) > 0));
    return { lines, scan };
  };

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'airlock-scan-'));
  });

  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('returns every line of a file several read chunks long, including lines that span chunks and multi-byte characters', () => {
    const expected = Array.from({ length: 9000 }, (_, index) => `${index}:${'é€'.repeat(index % 97)}${'x'.repeat((index * 37) % 400)}`);
    const { lines, scan } = scanAll(`${expected.join('\n')}\n`);
    expect(Buffer.byteLength(expected.join('\n'))).toBeGreaterThan(2 * 1024 * 1024);
    expect(lines).toEqual(expected);
    expect(scan).toMatchObject({ complete: true, lines: 9000, tail: { kind: 'none' } });
  });

  it('reports an unterminated tail with its offset and bytes', () => {
    const { lines, scan } = scanAll('one\ntwo\nthr');
    expect(lines).toEqual(['one', 'two']);
    expect(scan).toEqual({ complete: true, lines: 2, endOfLastLine: 8, tail: { kind: 'unterminated', offset: 8, bytes: Buffer.from('thr') } });
  });

  it('stops at a terminated line longer than any audit line', () => {
    const { scan } = scanAll(`ok\n${'y'.repeat(MAX_AUDIT_LINE_BYTES + 1)}\nafter\n`);
    expect(scan).toEqual({ complete: false, stoppedAtLine: 2, tooLong: true });
  });

  it('stops at an over-long line that spans read chunks', () => {
    const { scan } = scanAll(`ok\n${'y'.repeat(3 * 1024 * 1024)}\n`);
    expect(scan).toEqual({ complete: false, stoppedAtLine: 2, tooLong: true });
  });

  it('calls an unterminated tail longer than any audit line oversized, without holding it in memory', () => {
    const { scan } = scanAll(`ok\n${'z'.repeat(MAX_AUDIT_LINE_BYTES + 5)}`);
    expect(scan).toEqual({ complete: true, lines: 1, endOfLastLine: 3, tail: { kind: 'oversized', offset: 3 } });
  });

  it('stops when the callback says so', () => {
    const seen: number[] = [];
    const scan = withFile('a\nb\nc\n', (fd) => scanLines(nodeAuditFileSystem, fd, (_line, lineNumber) => seen.push(lineNumber) < 2));
    expect(seen).toEqual([1, 2]);
    expect(scan).toEqual({ complete: false, stoppedAtLine: 2, tooLong: false });
  });

  it('reads the first and last line from the ends of a file', () => {
    withFile('first\nmiddle\nlast\n', (fd) => {
      expect(readFirstLine(nodeAuditFileSystem, fd)).toBe('first');
      expect(readLastLine(nodeAuditFileSystem, fd)).toEqual({ line: 'last' });
    });
    withFile('only\n', (fd) => expect(readLastLine(nodeAuditFileSystem, fd)).toEqual({ line: 'only' }));
    withFile('', (fd) => expect(readLastLine(nodeAuditFileSystem, fd)).toEqual({ problem: 'empty' }));
    withFile('a\nb', (fd) => expect(readLastLine(nodeAuditFileSystem, fd)).toEqual({ problem: 'unterminated' }));
    withFile(`a\n${'q'.repeat(MAX_AUDIT_LINE_BYTES + 10)}\n`, (fd) => expect(readLastLine(nodeAuditFileSystem, fd)).toEqual({ problem: 'too-long' }));
  });
});
