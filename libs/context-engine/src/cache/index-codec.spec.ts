import { gunzipSync, gzipSync } from 'node:zlib';
import { IndexCacheCorruptError } from '../errors/index-cache-corrupt.error';
import type { IndexEntry } from '../indexing/index-entry';
import { skippedEntry } from '../indexing/index-entry';
import { decodeIndex, encodeIndex, entriesDigestOf, INDEX_FORMAT_VERSION, type IndexHeader } from './index-codec';

const REPOSITORY = 'a'.repeat(32);
const EXPECTED = { repositoryKey: REPOSITORY, maxIndexBytes: 1024 * 1024 };
const header: Omit<IndexHeader, 'entriesDigest' | 'format'> = {
  repositoryKey: REPOSITORY,
  commit: 'c'.repeat(40),
  selectionDigest: 'd'.repeat(64),
  analysisDigest: 'e'.repeat(64),
  complete: true,
  counts: { listed: 3, excluded: 0, analysed: 2, reused: 0, differingFromCommit: 0, skipped: { binary: 1 } },
};
const entries: IndexEntry[] = [
  skippedEntry('assets/logo.png', '1'.repeat(40), 2048, null, 'binary'),
  {
    path: 'src/cart.ts',
    objectId: '2'.repeat(40),
    size: 120,
    language: 'typescript',
    skipped: null,
    terms: ['cart', 'total'],
    frequencies: [3, 1],
    definitions: [{ name: 'Cart', kind: 'class', line: 2, startLine: 1, endLine: 9, container: null }],
    references: ['Money'],
    parseErrors: false,
    symbolsMissing: false,
    lineCount: 9,
  },
];

/** Decodes, lets `change` edit the JSON, and encodes again: a well-formed file with bad content. */
function tampered(change: (document: { header: Record<string, unknown>; entries: Record<string, unknown>[] }) => void): Buffer {
  const document = JSON.parse(gunzipSync(encodeIndex(header, entries)).toString('utf8'));
  change(document);
  return gzipSync(Buffer.from(JSON.stringify(document)));
}

function rejection(bytes: Buffer, expected = EXPECTED): string {
  try {
    decodeIndex(bytes, expected);
  } catch (error) {
    if (error instanceof IndexCacheCorruptError) return error.reason;
    throw error;
  }
  throw new Error('decoded without complaint');
}

describe('index codec', () => {
  it('round-trips an index exactly', () => {
    const decoded = decodeIndex(encodeIndex(header, entries), EXPECTED);
    expect(decoded.entries).toEqual(entries);
    expect(decoded.header).toEqual({ format: INDEX_FORMAT_VERSION, ...header, entriesDigest: entriesDigestOf(entries) });
  });

  it('gives the same digest whatever order the fields of an entry were assembled in', () => {
    const [first, second] = entries as [IndexEntry, IndexEntry];
    const reordered = Object.fromEntries(Object.entries(second).reverse()) as unknown as IndexEntry;
    expect(entriesDigestOf([first, reordered])).toBe(entriesDigestOf(entries));
  });

  it.each<[string, () => Buffer, RegExp]>([
    ['not gzip', () => Buffer.from('plain text'), /gzip/],
    ['truncated gzip', () => encodeIndex(header, entries).subarray(0, 40), /gzip/],
    ['gzip of garbage', () => gzipSync(Buffer.from('{"header": [')), /JSON/],
    ['another format version', () => tampered((d) => (d.header.format = INDEX_FORMAT_VERSION + 1)), /format/],
    ['another repository', () => tampered((d) => (d.header.repositoryKey = 'b'.repeat(32))), /another repository/],
    ['a changed frequency', () => tampered((d) => (d.entries[1] as { frequencies: number[] }).frequencies.splice(0, 1, 4)), /digest/],
    ['an extra field', () => tampered((d) => ((d.entries[1] as Record<string, unknown>).extra = 1)), /other fields/],
    ['a missing field', () => tampered((d) => delete (d.entries[1] as Record<string, unknown>).lineCount), /other fields/],
    ['a path leaving the worktree', () => tampered((d) => ((d.entries[1] as { path: string }).path = '../secret.ts')), /relative path/],
    ['an absolute path', () => tampered((d) => ((d.entries[1] as { path: string }).path = '/etc/passwd')), /relative path/],
    ['a path into .git', () => tampered((d) => ((d.entries[1] as { path: string }).path = 'sub/.git/config')), /relative path/],
    ['entries out of order', () => tampered((d) => d.entries.reverse()), /order/],
    ['an unknown symbol kind', () => tampered((d) => ((d.entries[1] as { definitions: { kind: string }[] }).definitions[0]!.kind = 'macro')), /kind/],
    ['a negative size', () => tampered((d) => ((d.entries[1] as { size: number }).size = -1)), /size/],
    ['terms that are not terms', () => tampered((d) => ((d.entries[1] as { terms: string[] }).terms = ['Cart', 'total'])), /terms/],
    ['an unknown skip reason', () => tampered((d) => ((d.entries[0] as { skipped: string }).skipped = 'boring')), /skipped/],
  ])('rejects %s', (_, bytes, reason) => {
    expect(rejection(bytes())).toMatch(reason);
  });

  it('refuses to inflate beyond maxIndexBytes (a small file cannot become a huge one)', () => {
    const bomb = gzipSync(Buffer.alloc(4 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(16 * 1024);
    expect(rejection(bomb, { repositoryKey: REPOSITORY, maxIndexBytes: 1024 })).toMatch(/maxIndexBytes/);
  });
});
