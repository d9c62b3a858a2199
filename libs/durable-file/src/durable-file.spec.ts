import { appendFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readJsonLines } from './durable-file';

const parseId = (value: unknown): number | undefined => {
  const id = (value as { id?: unknown } | null)?.id;
  return typeof id === 'number' ? id : undefined;
};
const corrupt = (lineNumber: number): never => {
  throw new Error(`corrupt at line ${lineNumber}`);
};

describe('readJsonLines', () => {
  const fileIn = () => join(mkdtempSync(join(tmpdir(), 'airlock-jsonl-')), 'log.jsonl');

  it('reads every line, and a missing file as empty', () => {
    const file = fileIn();
    expect(readJsonLines(file, parseId, corrupt)).toEqual([]);
    writeFileSync(file, '{"id":1}\n{"id":2}\n');
    expect(readJsonLines(file, parseId, corrupt)).toEqual([1, 2]);
  });

  it('skips an unreadable last line, the trace of an append a crash cut short', () => {
    const file = fileIn();
    writeFileSync(file, '{"id":1}\n');
    appendFileSync(file, '{"id":');
    expect(readJsonLines(file, parseId, corrupt)).toEqual([1]);
  });

  it('calls onCorrupt with the number of an unreadable line before the last', () => {
    const file = fileIn();
    writeFileSync(file, '{"id":1}\n{"nope":true}\n{"id":3}\n');
    expect(() => readJsonLines(file, parseId, corrupt)).toThrow('corrupt at line 2');
    expect(existsSync(file)).toBe(true);
  });
});
