import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonLogger } from '../../logging/json-logger';
import { type CachedSetup, DependencyCache } from './dependency-cache';

jest.setTimeout(30_000);

/**
 * The dependency cache on a real file system with the real `cp`: keys, restore, isolation
 * of a job's copy from the entry, LRU eviction by size, crash leftovers, broken entries and
 * a setup that tries to smuggle files from outside its worktree into the cache.
 */
describe('DependencyCache (real files, real cp)', () => {
  const host = { path: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin', lang: 'C.UTF-8' };
  const SETUP: CachedSetup = { commands: [['npm', 'ci']], cacheKey: ['package-lock.json'], cachePaths: ['node_modules'] };
  let base: string;
  let logs: Array<Record<string, unknown>>;
  let logger: JsonLogger;
  const signal = new AbortController().signal;
  const events = () => logs.map((line) => `${String(line['event'])}${line['result'] ? ` ${String(line['result'])}` : ''}${line['reason'] ? ` (${String(line['reason'])})` : ''}`);

  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'airlock-dep-cache-'));
    logs = [];
    logger = new JsonLogger((line) => logs.push(JSON.parse(line) as Record<string, unknown>));
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  let worktrees = 0;
  /** A fresh worktree with `files` (path → content). */
  const worktree = (files: Record<string, string>) => {
    const dir = join(base, 'jobs', `job-${(worktrees += 1)}`);
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  const openCache = async (maxBytes = 1024 ** 3) => {
    const cache = new DependencyCache(join(base, 'dependency-cache'), maxBytes, host);
    await cache.removeStale(logger);
    return cache;
  };
  const entries = () => readdirSync(join(base, 'dependency-cache', 'entries')).sort();

  it('keys on the alias, the declaration, each key file (a missing one included) and the platform', async () => {
    const cache = await openCache();
    const lock = { 'package-lock.json': '{"lockfileVersion":3}' };
    const key = await cache.keyFor('payments', SETUP, worktree(lock));
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    // The same inputs in another worktree: the same key.
    expect(await cache.keyFor('payments', SETUP, worktree({ ...lock, 'src/index.js': 'changed code does not matter' }))).toBe(key);
    const others = [
      await cache.keyFor('billing', SETUP, worktree(lock)),
      await cache.keyFor('payments', { ...SETUP, commands: [['npm', 'install']] }, worktree(lock)),
      await cache.keyFor('payments', { ...SETUP, cachePaths: ['node_modules', '.cache'] }, worktree(lock)),
      await cache.keyFor('payments', SETUP, worktree({ 'package-lock.json': '{"lockfileVersion":3,"x":1}' })),
      await cache.keyFor('payments', SETUP, worktree({})),
      await new DependencyCache(join(base, 'other'), 1024, host, { platform: 'darwin', arch: process.arch }).keyFor('payments', SETUP, worktree(lock)),
    ];
    expect(new Set([key, ...others]).size).toBe(others.length + 1);
  });

  it('does not follow a key file symlinked out of the worktree', async () => {
    const cache = await openCache();
    const outside = join(base, 'outside-secret');
    writeFileSync(outside, 'secret one');
    const linked = worktree({});
    symlinkSync(outside, join(linked, 'package-lock.json'));
    const key = await cache.keyFor('payments', SETUP, linked);
    writeFileSync(outside, 'secret two');
    expect(await cache.keyFor('payments', SETUP, linked)).toBe(key);
  });

  it('misses, stores, then restores a copy the job may change without touching the entry', async () => {
    const cache = await openCache();
    const first = worktree({ 'package-lock.json': '{}' });
    const key = await cache.keyFor('payments', SETUP, first);
    expect(await cache.restore(key, first, SETUP.cachePaths, logger, signal)).toBe(false);
    mkdirSync(join(first, 'node_modules', 'left-pad', '.bin'), { recursive: true });
    writeFileSync(join(first, 'node_modules', 'left-pad', 'index.js'), 'module.exports = 1;');
    symlinkSync('../index.js', join(first, 'node_modules', 'left-pad', '.bin', 'left-pad'));
    await cache.store(key, first, SETUP.cachePaths, logger, signal);
    expect(entries()).toEqual([key]);

    const second = worktree({ 'package-lock.json': '{}' });
    expect(await cache.restore(key, second, SETUP.cachePaths, logger, signal)).toBe(true);
    expect(readFileSync(join(second, 'node_modules', 'left-pad', '.bin', 'left-pad'), 'utf8')).toBe('module.exports = 1;');
    // The job edits and deletes in its node_modules…
    writeFileSync(join(second, 'node_modules', 'left-pad', 'index.js'), 'module.exports = "tampered";');
    rmSync(join(second, 'node_modules', 'left-pad', '.bin'), { recursive: true });
    // …and the next job still gets the entry as stored.
    const third = worktree({ 'package-lock.json': '{}' });
    expect(await cache.restore(key, third, SETUP.cachePaths, logger, signal)).toBe(true);
    expect(readFileSync(join(third, 'node_modules', 'left-pad', 'index.js'), 'utf8')).toBe('module.exports = 1;');
    expect(existsSync(join(third, 'node_modules', 'left-pad', '.bin', 'left-pad'))).toBe(true);
    expect(events()).toEqual(['setup-cache miss', 'setup-cache-stored', 'setup-cache hit', 'setup-cache hit']);
  });

  it('evicts the least recently used entries until the rest fit cacheMaxBytes, counting a hit as a use', async () => {
    const cache = await openCache(3_000);
    const stored: string[] = [];
    for (const name of ['a', 'b', 'c', 'd']) {
      const dir = worktree({ 'package-lock.json': name });
      const key = await cache.keyFor('payments', SETUP, dir);
      mkdirSync(join(dir, 'node_modules'));
      writeFileSync(join(dir, 'node_modules', 'blob'), Buffer.alloc(1_000, name));
      stored.push(key);
      if (name === 'd') {
        // a, b, c stored 30, 20 and 10 minutes ago; a used again just now.
        const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);
        stored.slice(0, 3).forEach((entry, index) => utimesSync(join(base, 'dependency-cache', 'entries', entry, 'last-used'), minutesAgo(30 - 10 * index), minutesAgo(30 - 10 * index)));
        expect(await cache.restore(stored[0] ?? '', worktree({}), SETUP.cachePaths, logger, signal)).toBe(true);
      }
      await cache.store(key, dir, SETUP.cachePaths, logger, signal);
    }
    const [a, b, c, d] = stored;
    // 4 × 1000 bytes > 3000: b, the least recently used, goes; a was hit, so it stays.
    expect(entries()).toEqual([a, c, d].sort());
    expect(logs.filter((line) => line['event'] === 'setup-cache-removed')).toEqual([expect.objectContaining({ key: b, reason: 'evicted' })]);
  });

  it('ignores and cleans a staging directory a crash left behind, however complete it looks', async () => {
    const cache = await openCache();
    const dir = worktree({ 'package-lock.json': '{}' });
    const key = await cache.keyFor('payments', SETUP, dir);
    const leftover = join(base, 'dependency-cache', 'staging', `${key}.0123456789ab`);
    mkdirSync(join(leftover, 'content', 'node_modules'), { recursive: true });
    writeFileSync(join(leftover, 'content', 'node_modules', 'half'), 'written before the crash');
    writeFileSync(join(leftover, 'meta.json'), JSON.stringify({ format: 1, key, paths: ['node_modules'], sizeBytes: 24, createdAt: new Date().toISOString() }));
    expect(await cache.restore(key, dir, SETUP.cachePaths, logger, signal)).toBe(false);
    expect(existsSync(join(dir, 'node_modules'))).toBe(false);
    // At start (removeStale) and after every store, staging holds only what a store is writing.
    await cache.removeStale(logger);
    expect(readdirSync(join(base, 'dependency-cache', 'staging'))).toEqual([]);
    expect(events()).toContain('setup-cache-staging-removed');
  });

  it('falls back (false) on a broken entry, removes it and what it had copied, and stores anew', async () => {
    const cache = await openCache();
    const dir = worktree({ 'package-lock.json': '{}' });
    const key = await cache.keyFor('payments', SETUP, dir);
    mkdirSync(join(dir, 'node_modules'));
    writeFileSync(join(dir, 'node_modules', 'x.js'), 'x');
    await cache.store(key, dir, SETUP.cachePaths, logger, signal);
    writeFileSync(join(base, 'dependency-cache', 'entries', key, 'meta.json'), '{ torn');
    const next = worktree({ 'package-lock.json': '{}' });
    expect(await cache.restore(key, next, SETUP.cachePaths, logger, signal)).toBe(false);
    expect(existsSync(join(next, 'node_modules'))).toBe(false);
    expect(entries()).toEqual([]);
    expect(logs).toContainEqual(expect.objectContaining({ event: 'setup-cache-unusable', key, error: expect.objectContaining({ message: 'meta.json is not JSON' }) as unknown }));
    await cache.store(key, dir, SETUP.cachePaths, logger, signal);
    expect(await cache.restore(key, next, SETUP.cachePaths, logger, signal)).toBe(true);
  });

  it('keeps one entry when two jobs store the same key at once, and leaves no staging behind', async () => {
    const cache = await openCache();
    const dirs = [worktree({ 'package-lock.json': '{}' }), worktree({ 'package-lock.json': '{}' })];
    const key = await cache.keyFor('payments', SETUP, dirs[0] ?? '');
    dirs.forEach((dir, index) => {
      mkdirSync(join(dir, 'node_modules'));
      writeFileSync(join(dir, 'node_modules', 'by'), `job ${index}`);
    });
    await Promise.all(dirs.map((dir) => cache.store(key, dir, SETUP.cachePaths, logger, signal)));
    expect(entries()).toEqual([key]);
    expect(readdirSync(join(base, 'dependency-cache', 'staging'))).toEqual([]);
    expect(readFileSync(join(base, 'dependency-cache', 'entries', key, 'content', 'node_modules', 'by'), 'utf8')).toMatch(/^job [01]$/);
    // One stored, the other skipped; which finishes (and logs) first is the race's to decide.
    expect(events().filter((event) => event.startsWith('setup-cache-store')).sort()).toEqual(['setup-cache-store-skipped (stored by another job first)', 'setup-cache-stored']);
  });

  it('copies nothing from outside the worktree through a directory setup replaced by a symlink', async () => {
    const cache = await openCache();
    const outside = join(base, 'worker-state');
    mkdirSync(join(outside, 'deps'), { recursive: true });
    writeFileSync(join(outside, 'deps', 'mac.key'), 'secret');
    const dir = worktree({ 'package-lock.json': '{}' });
    symlinkSync(outside, join(dir, 'build'));
    const setup = { ...SETUP, cachePaths: ['build/deps'] };
    const key = await cache.keyFor('payments', setup, dir);
    await cache.store(key, dir, setup.cachePaths, logger, signal);
    expect(entries()).toEqual([]);
    expect(logs).toContainEqual(expect.objectContaining({ event: 'setup-cache-store-failed', key }));
    // Nor does a restore write through one planted in the checkout.
    mkdirSync(join(dir, 'real', 'deps'), { recursive: true });
    writeFileSync(join(dir, 'real', 'deps', 'x'), 'x');
    const safe = { ...SETUP, cachePaths: ['real/deps'] };
    const safeKey = await cache.keyFor('payments', safe, dir);
    await cache.store(safeKey, dir, safe.cachePaths, logger, signal);
    const hostile = worktree({ 'package-lock.json': '{}' });
    symlinkSync(outside, join(hostile, 'real'));
    expect(await cache.restore(safeKey, hostile, safe.cachePaths, logger, signal)).toBe(false);
    expect(readdirSync(join(outside, 'deps'))).toEqual(['mac.key']);
  });
});
