import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ContextEngine } from '../context-engine';
import { IndexBuildAbortedError } from '../errors/index-build-aborted.error';
import { TestRepository, testGitRunner } from '../testing/git-repository.fixture';

jest.setTimeout(60_000);

const WORKSPACE_ROOT = resolve(__dirname, '..', '..', '..', '..');
const CHILD = join(__dirname, '..', 'testing', 'open-index.child.ts');
const REPOSITORY_ID = 'orders';

/** Enough files that a build takes a while: two builds at once really overlap. */
function ordersRepository(): Record<string, string> {
  const files: Record<string, string> = {};
  for (let n = 0; n < 120; n += 1) {
    files[`src/orders/order-step-${n}.ts`] =
      `/** Step ${n} of placing an order. */\nexport class OrderStep${n} {\n  apply(total: number): number {\n    return total + ${n};\n  }\n}\n`;
    files[`tools/step_${n}.py`] = `def step_${n}(order):\n    return order.total + ${n}\n`;
  }
  return files;
}

/** The names in the repository's cache folder (there is one repository per cache here). */
function cacheEntries(cacheDir: string): string[] {
  const [repositoryFolder] = readdirSync(cacheDir);
  return repositoryFolder === undefined ? [] : readdirSync(join(cacheDir, repositoryFolder)).sort();
}

function openInChildProcess(cacheDir: string, worktree: string): Promise<{ source: string; digest: string; cacheWritten: boolean }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', CHILD, cacheDir, REPOSITORY_ID, worktree], { cwd: WORKSPACE_ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (status) => (status === 0 ? resolvePromise(JSON.parse(stdout) as { source: string; digest: string; cacheWritten: boolean }) : reject(new Error(stderr))));
  });
}

describe('the index cache with two builds of one repository at once', () => {
  let base: string;
  let repository: TestRepository;

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'context-engine-concurrency-'));
    repository = await TestRepository.create();
    repository.write(ordersRepository());
    await repository.commit('orders');
  });

  afterAll(() => {
    repository.dispose();
    rmSync(base, { recursive: true, force: true });
  });

  it('one engine (concurrent jobs of a worker): the second open waits for the first and is served from its cache', async () => {
    const cacheDir = join(base, 'one-engine');
    const engine = new ContextEngine({ cacheDir, git: testGitRunner });
    const [first, second] = await Promise.all([
      engine.open({ repositoryId: REPOSITORY_ID, worktree: repository.root }),
      engine.open({ repositoryId: REPOSITORY_ID, worktree: repository.root }),
    ]);
    expect([first.report.source, second.report.source]).toEqual(['full', 'cache']);
    expect(second.digest).toBe(first.digest);
    const entries = cacheEntries(cacheDir);
    expect(entries).toHaveLength(1);
    expect(entries[0]?.startsWith(`${first.commit}.`)).toBe(true);
  });

  it('one engine: a job cancelled while it waits for its turn stops at once, and the next one still gets its turn', async () => {
    const engine = new ContextEngine({ cacheDir: join(base, 'cancelled-wait'), git: testGitRunner });
    const cancelled = new AbortController();
    const first = engine.open({ repositoryId: REPOSITORY_ID, worktree: repository.root });
    const waiting = engine.open({ repositoryId: REPOSITORY_ID, worktree: repository.root, signal: cancelled.signal });
    const third = engine.open({ repositoryId: REPOSITORY_ID, worktree: repository.root });
    cancelled.abort();
    await expect(waiting).rejects.toBeInstanceOf(IndexBuildAbortedError);
    expect((await first).report.source).toBe('full');
    expect((await third).report.source).toBe('cache');
  });

  it('two processes sharing the cache: both succeed, and the cache holds one sound index and no temporary file', async () => {
    const cacheDir = join(base, 'two-processes');
    const results = await Promise.all([openInChildProcess(cacheDir, repository.root), openInChildProcess(cacheDir, repository.root)]);
    expect(results.map((result) => result.cacheWritten)).toEqual([true, true]);
    expect(results[1]?.digest).toBe(results[0]?.digest);
    const entries = cacheEntries(cacheDir);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatch(/\.index\.json\.gz$/);
    // What is cached reads back whole (every check passes) and equals a build from scratch.
    const cached = await new ContextEngine({ cacheDir, git: testGitRunner }).open({ repositoryId: REPOSITORY_ID, worktree: repository.root });
    expect(cached.report).toMatchObject({ source: 'cache', cacheRejected: [] });
    expect(cached.digest).toBe(results[0]?.digest);
    const fresh = await new ContextEngine({ cacheDir: join(base, 'fresh'), git: testGitRunner }).open({ repositoryId: REPOSITORY_ID, worktree: repository.root });
    expect(cached.digest).toBe(fresh.digest);
  });

  it("removes a crashed writer's old temporary file and leaves a younger one (another writer's, in progress) alone", async () => {
    const cacheDir = join(base, 'temporaries');
    const engine = new ContextEngine({ cacheDir, git: testGitRunner, limits: { maxCachedIndexes: 4 } });
    const index = await engine.open({ repositoryId: REPOSITORY_ID, worktree: repository.root });
    const [indexFile] = cacheEntries(cacheDir) as [string];
    const folder = join(cacheDir, readdirSync(cacheDir)[0] as string);
    const crashed = `${indexFile}.4242.aaaaaaaaaaaa.tmp`;
    const inProgress = `${indexFile}.4343.bbbbbbbbbbbb.tmp`;
    writeFileSync(join(folder, crashed), 'half an index');
    writeFileSync(join(folder, inProgress), 'half an index');
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(join(folder, crashed), twoHoursAgo, twoHoursAgo);
    // Another commit, so that the next open writes (a cache hit writes nothing).
    mkdirSync(join(repository.root, 'docs'), { recursive: true });
    repository.write({ 'docs/orders.md': '# Orders\n' });
    await repository.commit('docs');
    const next = await engine.open({ repositoryId: REPOSITORY_ID, worktree: repository.root });
    expect(next.report).toMatchObject({ source: 'incremental', baseCommit: index.commit, cacheWritten: true });
    expect(cacheEntries(cacheDir)).toEqual(expect.arrayContaining([inProgress]));
    expect(cacheEntries(cacheDir)).not.toContain(crashed);
    expect(cacheEntries(cacheDir).filter((name) => name.endsWith('.index.json.gz'))).toHaveLength(2);
  });
});
