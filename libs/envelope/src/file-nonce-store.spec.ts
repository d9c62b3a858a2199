import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileNonceStore } from './file-nonce-store';
import { NonceStoreCorruptError } from './nonce-store-corrupt.error';

describe('FileNonceStore', () => {
  let directory: string;
  let filePath: string;
  let nowMs: number;
  const clock = () => nowMs;
  const lines = () => readFileSync(filePath, 'utf8').split('\n').filter((line) => line !== '');

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'airlock-nonces-'));
    filePath = join(directory, 'nonces.jsonl');
    nowMs = 1_700_000_000_000;
  });

  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('detects a replay after the store is reopened', () => {
    const first = FileNonceStore.open(filePath, clock);
    expect(first.remember('0a0b', nowMs + 60_000)).toBe(true);
    first.close();

    const reopened = FileNonceStore.open(filePath, clock);
    expect(reopened.remember('0a0b', nowMs + 60_000)).toBe(false);
    expect(reopened.remember('0c0d', nowMs + 60_000)).toBe(true);
    reopened.close();
  });

  it('drops expired entries when it compacts on open', () => {
    const store = FileNonceStore.open(filePath, clock);
    store.remember('01', nowMs + 1_000);
    store.remember('02', nowMs + 60_000);
    store.close();
    expect(lines()).toHaveLength(2);

    nowMs += 1_000;
    const reopened = FileNonceStore.open(filePath, clock);
    expect(lines()).toEqual([JSON.stringify({ nonce: '02', expiresAtMs: 1_700_000_060_000 })]);
    expect(reopened.remember('02', nowMs + 60_000)).toBe(false);
    reopened.close();
  });

  it('ignores a truncated last line left by a crash mid-append, and removes it', () => {
    const store = FileNonceStore.open(filePath, clock);
    store.remember('01', nowMs + 60_000);
    store.close();
    appendFileSync(filePath, '{"nonce":"02","expir');

    const reopened = FileNonceStore.open(filePath, clock);
    expect(lines()).toHaveLength(1);
    expect(reopened.remember('01', nowMs + 60_000)).toBe(false);
    expect(reopened.remember('02', nowMs + 60_000)).toBe(true);
    reopened.close();
  });

  it('refuses to open a file corrupted before its last line', () => {
    writeFileSync(filePath, `garbage\n${JSON.stringify({ nonce: '01', expiresAtMs: nowMs + 60_000 })}\n`);
    expect(() => FileNonceStore.open(filePath, clock)).toThrow(NonceStoreCorruptError);
  });

  it('throws once closed, so a nonce is never accepted without being persisted', () => {
    const store = FileNonceStore.open(filePath, clock);
    store.close();
    expect(() => store.remember('01', nowMs + 60_000)).toThrow(/closed/);
  });

  it('stays bounded by what the validity window allows over a long run, and empties once every nonce has expired', () => {
    const windowMs = 1_000;
    const stepMs = 10;
    const minLinesBeforeCompaction = 50;
    const store = FileNonceStore.open(filePath, clock, { minLinesBeforeCompaction });
    // Every line has the same length (fixed-width nonce and expiry), so the size counts lines.
    const nonceOf = (index: number) => index.toString(16).padStart(32, '0');
    const lineBytes = Buffer.byteLength(`${JSON.stringify({ nonce: nonceOf(0), expiresAtMs: nowMs + windowMs })}\n`);
    const liveAtMost = windowMs / stepMs + 1;
    let mostLines = 0;
    for (let index = 0; index < 1_500; index += 1) {
      expect(store.remember(nonceOf(index), nowMs + windowMs)).toBe(true);
      mostLines = Math.max(mostLines, statSync(filePath).size / lineBytes);
      nowMs += stepMs;
    }
    store.close();
    // Compaction keeps only live nonces and runs again at twice as many lines: 1 500 nonces, ~200 lines at most.
    expect(mostLines).toBeLessThanOrEqual(Math.max(minLinesBeforeCompaction, 2 * liveAtMost));
    nowMs += windowMs;
    FileNonceStore.open(filePath, clock).close();
    expect(lines()).toEqual([]);
  });

  it('compacts while open once the file has grown', () => {
    const store = FileNonceStore.open(filePath, clock, { minLinesBeforeCompaction: 100 });
    for (let index = 0; index < 100; index += 1) {
      store.remember(index.toString(16).padStart(4, '0'), nowMs + 10);
      nowMs += 1;
    }
    // Compaction ran at the 100th append, when the first 90 had expired.
    expect(lines()).toHaveLength(10);
    expect(store.remember((99).toString(16).padStart(4, '0'), nowMs + 10)).toBe(false);
    expect(store.remember((0).toString(16).padStart(4, '0'), nowMs + 10)).toBe(true);
    store.close();
  });
});
