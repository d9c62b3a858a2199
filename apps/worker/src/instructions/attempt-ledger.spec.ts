import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AttemptLedger } from './attempt-ledger';
import { AttemptLedgerCorruptError } from './attempt-ledger-corrupt.error';

const JOB_A = '0b7c1c55-0f4e-4a59-8d1e-6a3c1f0e9b21';
const JOB_B = '9a2d4f1e-7c3b-4e8a-b5d6-1f2e3a4b5c6d';

describe('AttemptLedger', () => {
  const fileIn = () => join(mkdtempSync(join(tmpdir(), 'airlock-attempts-')), 'attempts.jsonl');

  it('remembers an attempt across a restart, and only that attempt', () => {
    const file = fileIn();
    const ledger = AttemptLedger.open(file);
    ledger.record(JOB_A, 1);
    ledger.close();
    const reopened = AttemptLedger.open(file);
    expect(reopened.has(JOB_A, 1)).toBe(true);
    expect(reopened.has(JOB_A, 2)).toBe(false);
    expect(reopened.has(JOB_B, 1)).toBe(false);
    reopened.close();
  });

  it('ignores a partial last line left by a crash mid-append, and appends cleanly after it', () => {
    const file = fileIn();
    const ledger = AttemptLedger.open(file);
    ledger.record(JOB_A, 1);
    ledger.close();
    appendFileSync(file, '{"jobId":"9a2d4f1e-7c3b');
    const reopened = AttemptLedger.open(file);
    expect(reopened.has(JOB_A, 1)).toBe(true);
    reopened.record(JOB_B, 2);
    reopened.close();
    expect(AttemptLedger.open(file).has(JOB_B, 2)).toBe(true);
  });

  it('fails closed, naming the file and line, when a line before the last is damaged', () => {
    const file = fileIn();
    writeFileSync(file, `garbage\n${JSON.stringify({ jobId: JOB_A, attempt: 1 })}\n`);
    expect(() => AttemptLedger.open(file)).toThrow(AttemptLedgerCorruptError);
    expect(() => AttemptLedger.open(file)).toThrow(/attempts\.jsonl is corrupt at line 1/);
  });

  it('keeps the newest maxEntries, forgetting the oldest, and rewrites the file so it stays small', () => {
    const file = fileIn();
    const ledger = AttemptLedger.open(file, { maxEntries: 3 });
    for (let attempt = 1; attempt <= 7; attempt += 1) ledger.record(JOB_A, attempt);
    expect([1, 2, 3, 4].map((attempt) => ledger.has(JOB_A, attempt))).toEqual([false, false, false, false]);
    expect([5, 6, 7].map((attempt) => ledger.has(JOB_A, attempt))).toEqual([true, true, true]);
    ledger.close();
    expect(readFileSync(file, 'utf8').trim().split('\n').length).toBeLessThan(6);
    const reopened = AttemptLedger.open(file, { maxEntries: 3 });
    expect(reopened.has(JOB_A, 7)).toBe(true);
    expect(reopened.has(JOB_A, 4)).toBe(false);
  });
});
