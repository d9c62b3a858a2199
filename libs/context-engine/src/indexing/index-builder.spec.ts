import { IndexBuildAbortedError } from '../errors/index-build-aborted.error';
import type { TreeEntry } from '../git/tree-listing';
import { PathFilter } from '../selection/path-glob';
import { SymbolExtractor } from '../symbols/symbol-extractor';
import { FileAnalyzer } from './file-analyzer';
import { buildIndexEntries, type IndexBuildContext } from './index-builder';
import { analysisKey, type IndexEntry } from './index-entry';
import { blobObjectId, type WorktreeRead } from './worktree-reader';

/** A worktree in memory: path → text, with the tree listing git would give for it. */
function worktree(files: Record<string, string>): { tree: TreeEntry[]; reads: string[]; reader: { read(path: string, max: number): Promise<WorktreeRead> } } {
  const reads: string[] = [];
  const tree = Object.keys(files)
    .sort()
    .map((path) => {
      const bytes = Buffer.from(files[path] as string);
      return { path, kind: 'blob' as const, size: bytes.length, objectId: blobObjectId(bytes, 'x'.repeat(40)) };
    });
  return {
    tree,
    reads,
    reader: {
      async read(path) {
        reads.push(path);
        return { kind: 'read', bytes: Buffer.from(files[path] as string) };
      },
    },
  };
}

const analyzer = new FileAnalyzer(new SymbolExtractor(), { maxTermsPerFile: 100, maxDefinitionsPerFile: 50, maxReferencesPerFile: 50 });

function context(reader: IndexBuildContext['reader'], overrides: Partial<IndexBuildContext> = {}): IndexBuildContext {
  return {
    filter: new PathFilter([], []),
    reader,
    analyzer,
    maxFiles: 100,
    maxFileBytes: 10_000,
    maxIndexBytes: 1_000_000,
    previous: new Map(),
    deadline: Number.POSITIVE_INFINITY,
    clock: () => 0,
    ...overrides,
  };
}

function reusable(entries: readonly IndexEntry[]): Map<string, IndexEntry> {
  return new Map(entries.map((entry) => [analysisKey(entry.objectId, entry.language), entry]));
}

const files = {
  '.airlock.yml': 'version: 1',
  'a.md': 'alpha notes about carts',
  'b.md': 'beta notes about taxes',
  'c.md': 'gamma notes about users',
  'node_modules/x/index.md': 'vendored',
  'package-lock.json': '{}',
  'secrets/key.md': 'do not read',
};

describe('buildIndexEntries', () => {
  it('indexes readable files, counts the skipped by name, and neither lists nor reads excluded ones', async () => {
    const { tree, reader, reads } = worktree(files);
    const built = await buildIndexEntries(tree, context(reader, { filter: new PathFilter([], ['secrets/**']) }));
    expect(built.entries.map((e) => e.path)).toEqual(['a.md', 'b.md', 'c.md']);
    expect(reads).toEqual(['a.md', 'b.md', 'c.md']);
    expect(built.counts).toEqual({ listed: 7, excluded: 1, analysed: 3, reused: 0, differingFromCommit: 0, skipped: { 'airlock-config': 1, vendored: 1, lockfile: 1 } });
    expect(built.complete).toBe(true);
  });

  it('carries over analyses by blob id, reading only what changed, and gives the same entries', async () => {
    const before = worktree(files);
    const first = await buildIndexEntries(before.tree, context(before.reader));
    const { 'a.md': moved, ...rest } = files;
    const changed = { ...rest, 'b.md': 'beta notes about VAT', 'renamed-a.md': moved };
    const after = worktree(changed);
    const incremental = await buildIndexEntries(after.tree, context(after.reader, { previous: reusable(first.entries) }));
    expect(after.reads).toEqual(['b.md']);
    expect(incremental.counts).toMatchObject({ analysed: 1, reused: 3 });
    const fresh = worktree(changed);
    const full = await buildIndexEntries(fresh.tree, context(fresh.reader));
    expect(incremental.entries).toEqual(full.entries);
  });

  it('lists at most maxFiles files, in path order, and counts the rest', async () => {
    const { tree, reader } = worktree(files);
    const built = await buildIndexEntries(tree, context(reader, { maxFiles: 2 }));
    expect(built.entries.map((e) => e.path)).toEqual(['a.md', 'b.md']);
    expect(built.counts.skipped['max-files']).toBe(2);
  });

  it('stops analysing once the index is full, and never exceeds maxIndexBytes', async () => {
    const wordy = Array.from({ length: 60 }, (_, i) => `word${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))}`).join(' ');
    const { tree, reader } = worktree({ 'a.md': 'alpha notes', 'b.md': wordy, 'c.md': 'gamma notes' });
    const all = await buildIndexEntries(tree, context(reader));
    const firstSize = Buffer.byteLength(JSON.stringify(all.entries[0]));
    // Room for a's analysis and two stubs, not for b's sixty terms.
    const built = await buildIndexEntries(tree, context(reader, { maxIndexBytes: firstSize + 600 }));
    expect(built.entries.map((e) => [e.path, e.skipped])).toEqual([
      ['a.md', null],
      ['b.md', 'index-full'],
      ['c.md', 'index-full'],
    ]);
    expect(built.entries.reduce((sum, e) => sum + Buffer.byteLength(JSON.stringify(e)), 0)).toBeLessThanOrEqual(firstSize + 600);
    // Two more stubs would not fit: they are counted, not listed.
    const tight = await buildIndexEntries(tree, context(reader, { maxIndexBytes: firstSize + 10 }));
    expect(tight.entries.map((e) => e.path)).toEqual(['a.md']);
    expect(tight.counts.skipped['index-full']).toBe(2);
  });

  it('when the time budget runs out, lists the rest as time-budget, still takes what it can reuse, and says it is incomplete', async () => {
    const { tree, reader } = worktree(files);
    const first = await buildIndexEntries(tree, context(reader));
    const cVersion = first.entries.find((e) => e.path === 'c.md') as IndexEntry;
    let now = 0;
    // Time passes with each read: the first read is within budget, the second is not.
    const slow = { read: async (path: string, max: number) => ((now += 10), reader.read(path, max)) };
    const built = await buildIndexEntries(tree, context(slow, { clock: () => now, deadline: 5, previous: reusable([cVersion]) }));
    expect(built.entries.map((e) => [e.path, e.skipped])).toEqual([
      ['a.md', null],
      ['b.md', 'time-budget'],
      ['c.md', null],
      ['secrets/key.md', 'time-budget'],
    ]);
    expect(built.complete).toBe(false);
  });

  it('throws IndexBuildAbortedError when the signal fires', async () => {
    const { tree, reader } = worktree(files);
    const controller = new AbortController();
    controller.abort();
    await expect(buildIndexEntries(tree, context(reader, { signal: controller.signal }))).rejects.toBeInstanceOf(IndexBuildAbortedError);
  });

  it('keeps files skipped on reading in the index, with why', async () => {
    const { tree } = worktree(files);
    const refusing = { read: async (): Promise<WorktreeRead> => ({ kind: 'skipped', reason: 'outside-worktree' }) };
    const built = await buildIndexEntries(tree, context(refusing));
    expect(built.entries.every((e) => e.skipped === 'outside-worktree' && e.terms.length === 0)).toBe(true);
  });
});
