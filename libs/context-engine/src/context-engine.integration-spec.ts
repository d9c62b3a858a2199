import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ContextEngine, type ContextEngineOptions } from './context-engine';
import { IndexBuildAbortedError } from './errors/index-build-aborted.error';
import { WorktreeNotAtCommitError } from './errors/worktree-not-at-commit.error';
import type { RepositoryIndex } from './repository-index';
import { TestRepository, testGitRunner } from './testing/git-repository.fixture';

const REPOSITORY_ID = 'billing';

const initialFiles = {
  '.airlock.yml': 'version: 1\ntest:\n  command: [npm, test]\n',
  'src/cart.ts': 'export class Cart {\n  total(): number {\n    return 0;\n  }\n}\n',
  'src/pricing/discount.ts': '/** Applies a percentage discount. */\nexport function applyDiscount(cents: number, percent: number): number {\n  return cents - Math.round((cents * percent) / 100);\n}\n',
  'src/legacy/old-tax.ts': 'export const OLD_TAX_RATE = 0.19;\n',
  'src/util/format.ts': 'export function formatCents(cents: number): string {\n  return (cents / 100).toFixed(2);\n}\n',
  'tools/report.py': 'def monthly_report(rows):\n    return sum(r.total for r in rows)\n',
  'README.md': '# Billing\nCarts, discounts and taxes.\n',
  'node_modules/left-pad/index.js': 'module.exports = function leftPad() {};\n',
  'package-lock.json': '{}\n',
};

describe('ContextEngine with real git', () => {
  let base: string;
  let repository: TestRepository;
  let commitP: string;
  let commitC: string;

  const engine = (cacheDir: string, overrides: Partial<ContextEngineOptions> = {}) => new ContextEngine({ cacheDir, git: testGitRunner, ...overrides });
  const cacheFiles = (cacheDir: string): string[] =>
    (existsSync(cacheDir) ? readdirSync(cacheDir, { recursive: true, encoding: 'utf8' }) : [])
      .filter((name) => name.endsWith('.index.json.gz'))
      .map((name) => join(cacheDir, name));
  const paths = (index: RepositoryIndex) => index.files().map((file) => file.path);

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'context-engine-it-'));
    repository = await TestRepository.create();
    repository.write(initialFiles);
    commitP = await repository.commit('P');
  });

  afterAll(() => {
    repository.dispose();
    rmSync(base, { recursive: true, force: true });
  });

  it('builds the index of a commit: files, symbols, and the skip rules applied', async () => {
    const cacheDir = join(base, 'build');
    const index = await engine(cacheDir).open({ repositoryId: REPOSITORY_ID, worktree: repository.root, commit: commitP });
    expect(index.report).toMatchObject({ commit: commitP, source: 'full', baseCommit: null, complete: true, cacheWritten: true, cacheWriteError: null });
    expect(paths(index)).toEqual(['README.md', 'src/cart.ts', 'src/legacy/old-tax.ts', 'src/pricing/discount.ts', 'src/util/format.ts', 'tools/report.py']);
    expect(index.report.counts.skipped).toEqual({ 'airlock-config': 1, vendored: 1, lockfile: 1 });
    expect(index.findDefinitions('applyDiscount')).toEqual([
      { name: 'applyDiscount', kind: 'function', line: 2, startLine: 1, endLine: 4, container: null, path: 'src/pricing/discount.ts' },
    ]);
    expect(index.findDefinitions('monthly_report')[0]?.path).toBe('tools/report.py');
    expect(cacheFiles(cacheDir)).toHaveLength(1);
  });

  it('updates incrementally from commit P to C (change, rename, delete, add) and equals a full build at C', async () => {
    const cacheDir = join(base, 'incremental');
    await engine(cacheDir).open({ repositoryId: REPOSITORY_ID, worktree: repository.root });

    repository.write({ 'src/cart.ts': 'export class Cart {\n  totalWithTax(rate: number): number {\n    return 0;\n  }\n}\n' });
    await repository.git('mv', 'src/util/format.ts', 'src/util/money-format.ts');
    repository.remove('src/legacy/old-tax.ts');
    repository.write({ 'src/checkout.py': 'class Checkout:\n    def pay(self):\n        return True\n' });
    commitC = await repository.commit('C');

    const incremental = await engine(cacheDir).open({ repositoryId: REPOSITORY_ID, worktree: repository.root, previousCommit: commitP });
    expect(incremental.report).toMatchObject({ commit: commitC, source: 'incremental', baseCommit: commitP, complete: true });
    // Only the changed and the new file are read; the renamed one is carried over by blob id.
    expect(incremental.report.counts).toMatchObject({ analysed: 2, reused: 4 });
    expect(paths(incremental)).toEqual(['README.md', 'src/cart.ts', 'src/checkout.py', 'src/pricing/discount.ts', 'src/util/money-format.ts', 'tools/report.py']);
    expect(incremental.findDefinitions('totalWithTax')).toHaveLength(1);
    expect(incremental.findDefinitions('total')).toHaveLength(0);
    expect(incremental.findDefinitions('formatCents')[0]?.path).toBe('src/util/money-format.ts');

    const full = await engine(join(base, 'full-at-c')).open({ repositoryId: REPOSITORY_ID, worktree: repository.root });
    expect(full.report.source).toBe('full');
    expect(incremental.digest).toBe(full.digest);
    expect(incremental.files()).toEqual(full.files());
    expect(incremental.rank('cart total with tax')).toEqual(full.rank('cart total with tax'));
    // Both commits stay cached.
    expect(cacheFiles(cacheDir)).toHaveLength(2);
  });

  it('serves a commit it has indexed from the cache, reading nothing', async () => {
    const cacheDir = join(base, 'incremental');
    const cached = await engine(cacheDir).open({ repositoryId: REPOSITORY_ID, worktree: repository.root, commit: commitC });
    expect(cached.report).toMatchObject({ source: 'cache', baseCommit: commitC, cacheWritten: false });
    const full = await engine(join(base, 'full-at-c')).open({ repositoryId: REPOSITORY_ID, worktree: repository.root });
    expect(cached.digest).toBe(full.digest);
  });

  it('rebuilds over a corrupt cache file, deleting it and saying why', async () => {
    const cacheDir = join(base, 'corrupt');
    const first = await engine(cacheDir).open({ repositoryId: REPOSITORY_ID, worktree: repository.root });
    const [file] = cacheFiles(cacheDir);
    writeFileSync(file as string, 'this is not an index');
    const rebuilt = await engine(cacheDir).open({ repositoryId: REPOSITORY_ID, worktree: repository.root });
    expect(rebuilt.report.source).toBe('full');
    expect(rebuilt.report.cacheRejected).toEqual([{ commit: commitC, reason: 'not a complete gzip stream' }]);
    expect(rebuilt.digest).toBe(first.digest);
    // Written again, and readable.
    const again = await engine(cacheDir).open({ repositoryId: REPOSITORY_ID, worktree: repository.root });
    expect(again.report.source).toBe('cache');
  });

  it('rebuilds an index written in another format version', async () => {
    const cacheDir = join(base, 'version');
    await engine(cacheDir).open({ repositoryId: REPOSITORY_ID, worktree: repository.root });
    const [file] = cacheFiles(cacheDir) as [string];
    const document = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8'));
    document.header.format += 1;
    writeFileSync(file, gzipSync(Buffer.from(JSON.stringify(document))));
    const rebuilt = await engine(cacheDir).open({ repositoryId: REPOSITORY_ID, worktree: repository.root });
    expect(rebuilt.report.source).toBe('full');
    expect(rebuilt.report.cacheRejected[0]?.reason).toMatch(/^format /);
  });

  it('keeps the caches of two repositories apart', async () => {
    const cacheDir = join(base, 'two-repositories');
    await engine(cacheDir).open({ repositoryId: REPOSITORY_ID, worktree: repository.root });
    const other = await engine(cacheDir).open({ repositoryId: 'another', worktree: repository.root });
    expect(other.report.source).toBe('full');
    expect(readdirSync(cacheDir)).toHaveLength(2);
  });

  it('keeps at most maxCachedIndexes per repository, dropping the least recently used', async () => {
    const cacheDir = join(base, 'bounded');
    const options = { limits: { maxCachedIndexes: 2 } };
    await engine(cacheDir, options).open({ repositoryId: REPOSITORY_ID, worktree: repository.root });
    repository.write({ 'docs/one.md': 'one' });
    const one = await repository.commit('one');
    await engine(cacheDir, options).open({ repositoryId: REPOSITORY_ID, worktree: repository.root });
    repository.write({ 'docs/two.md': 'two' });
    const two = await repository.commit('two');
    await engine(cacheDir, options).open({ repositoryId: REPOSITORY_ID, worktree: repository.root });
    const kept = cacheFiles(cacheDir).map((file) => file.split('/').pop()?.split('.')[0]);
    expect(kept.sort()).toEqual([one, two].sort());
  });

  it('honours the caller excludes: excluded files are neither read nor listed', async () => {
    const index = await engine(join(base, 'excludes')).open({ repositoryId: REPOSITORY_ID, worktree: repository.root, exclude: ['tools/**', '**/*.md'] });
    expect(paths(index)).not.toContain('tools/report.py');
    expect(paths(index).some((path) => path.endsWith('.md'))).toBe(false);
    expect(index.report.counts.excluded).toBeGreaterThanOrEqual(2);
    expect(index.findDefinitions('monthly_report')).toEqual([]);
  });

  it('refuses a worktree that is not at the requested commit', async () => {
    await expect(engine(join(base, 'wrong-commit')).open({ repositoryId: REPOSITORY_ID, worktree: repository.root, commit: commitP })).rejects.toBeInstanceOf(
      WorktreeNotAtCommitError,
    );
  });

  it('refuses requests it cannot honour, naming the field', async () => {
    const open = engine(join(base, 'invalid'));
    await expect(open.open({ repositoryId: '', worktree: repository.root })).rejects.toMatchObject({ code: 'CONTEXT_REQUEST_INVALID', field: 'repositoryId' });
    await expect(open.open({ repositoryId: REPOSITORY_ID, worktree: repository.root, commit: 'HEAD' })).rejects.toMatchObject({ field: 'commit' });
    const index = await open.open({ repositoryId: REPOSITORY_ID, worktree: repository.root });
    await expect(index.retrieve({ query: 'cart', tokenBudget: -1 })).rejects.toMatchObject({ field: 'tokenBudget' });
  });

  it('fails with a coded error when the worktree is not a git repository', async () => {
    const notRepository = mkdtempSync(join(base, 'plain-'));
    await expect(engine(join(base, 'no-git')).open({ repositoryId: REPOSITORY_ID, worktree: notRepository })).rejects.toMatchObject({
      code: 'CONTEXT_GIT_LISTING_FAILED',
      step: 'rev-parse',
    });
  });

  it('stops on abort and caches nothing', async () => {
    const cacheDir = join(base, 'aborted');
    const controller = new AbortController();
    controller.abort();
    await expect(engine(cacheDir).open({ repositoryId: REPOSITORY_ID, worktree: repository.root, signal: controller.signal })).rejects.toBeInstanceOf(
      IndexBuildAbortedError,
    );
    expect(cacheFiles(cacheDir)).toHaveLength(0);
  });

  it('returns a partial index when the time budget runs out, and the next open completes it', async () => {
    const cacheDir = join(base, 'time-budget');
    let now = 0;
    // Every clock reading costs 1 ms of a 12 ms budget: a few files get analysed, not all.
    const partial = await engine(cacheDir, { clock: () => (now += 1), limits: { timeBudgetMs: 12 } }).open({ repositoryId: REPOSITORY_ID, worktree: repository.root });
    expect(partial.report.complete).toBe(false);
    const late = partial.files().filter((file) => file.skipped === 'time-budget').length;
    expect(late).toBeGreaterThan(0);
    expect(cacheFiles(cacheDir)).toHaveLength(1);

    const completed = await engine(cacheDir).open({ repositoryId: REPOSITORY_ID, worktree: repository.root });
    expect(completed.report).toMatchObject({ source: 'incremental', complete: true });
    expect(completed.report.counts.analysed).toBe(late);
    const full = await engine(join(base, 'time-budget-full')).open({ repositoryId: REPOSITORY_ID, worktree: repository.root });
    expect(completed.digest).toBe(full.digest);
  });

  it('still returns the index when the cache cannot be written', async () => {
    const cacheDir = join(base, 'not-a-directory');
    writeFileSync(cacheDir, 'a file where the cache folder should be');
    const index = await engine(cacheDir).open({ repositoryId: REPOSITORY_ID, worktree: repository.root });
    expect(index.report.cacheWritten).toBe(false);
    expect(index.report.cacheWriteError).toMatch(/^E[A-Z]+$/);
    expect(paths(index)).toContain('src/cart.ts');
  });

  it('indexes a file changed on disk as it is on disk, never serves that as the commit, and re-reads it once clean', async () => {
    const cacheDir = join(base, 'dirty');
    repository.write({ 'src/cart.ts': 'export class Cart {\n  dirtyOnDisk(): void {}\n}\n' });
    const dirty = await engine(cacheDir).open({ repositoryId: REPOSITORY_ID, worktree: repository.root });
    expect(dirty.findDefinitions('dirtyOnDisk')).toHaveLength(1);
    expect(dirty.report.counts.differingFromCommit).toBe(1);
    await repository.git('checkout', '--', 'src/cart.ts');
    const clean = await engine(cacheDir).open({ repositoryId: REPOSITORY_ID, worktree: repository.root });
    // Same commit, but the cached index was not the commit's: only the file that differed is read.
    expect(clean.report).toMatchObject({ source: 'incremental', complete: true });
    expect(clean.report.counts).toMatchObject({ analysed: 1, differingFromCommit: 0 });
    expect(clean.findDefinitions('dirtyOnDisk')).toHaveLength(0);
    const full = await engine(join(base, 'dirty-fresh')).open({ repositoryId: REPOSITORY_ID, worktree: repository.root });
    expect(clean.digest).toBe(full.digest);
    expect((await engine(cacheDir).open({ repositoryId: REPOSITORY_ID, worktree: repository.root })).report.source).toBe('cache');
  });
});

describe('ContextEngine and links out of the worktree', () => {
  let base: string;
  let repository: TestRepository;

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'context-engine-links-'));
    mkdirSync(join(base, 'outside'));
    writeFileSync(join(base, 'outside', 'secret.ts'), 'export const exfiltrateMe = "zanzibarquokka";\n');
    repository = await TestRepository.create();
    repository.write({ 'src/app.ts': 'export function main(): void {}\n', 'lib/helper.ts': 'export function helper(): void {}\n' });
    symlinkSync(join(base, 'outside', 'secret.ts'), join(repository.root, 'src', 'leak.ts'));
    symlinkSync(join(base, 'outside'), join(repository.root, 'linked'));
    await repository.commit('links');
  });

  afterAll(() => {
    repository.dispose();
    rmSync(base, { recursive: true, force: true });
  });

  it('does not follow a committed link to a file or folder outside', async () => {
    const index = await new ContextEngine({ cacheDir: join(base, 'cache'), git: testGitRunner }).open({ repositoryId: 'links', worktree: repository.root });
    expect(index.files().map((file) => file.path)).toEqual(['lib/helper.ts', 'src/app.ts']);
    expect(index.report.counts.skipped.symlink).toBe(2);
    expect(index.findDefinitions('exfiltrateMe')).toEqual([]);
    expect(index.rank('zanzibarquokka exfiltrateMe')).toEqual([]);
  });

  it('does not read through a directory replaced on disk by a link outside', async () => {
    rmSync(join(repository.root, 'lib'), { recursive: true });
    mkdirSync(join(base, 'outside', 'lib-target'));
    writeFileSync(join(base, 'outside', 'lib-target', 'helper.ts'), 'export const exfiltrateMe = "zanzibarquokka";\n');
    symlinkSync(join(base, 'outside', 'lib-target'), join(repository.root, 'lib'));
    try {
      const index = await new ContextEngine({ cacheDir: join(base, 'cache-swapped'), git: testGitRunner }).open({ repositoryId: 'links', worktree: repository.root });
      expect(index.files().find((file) => file.path === 'lib/helper.ts')?.skipped).toBe('outside-worktree');
      expect(index.findDefinitions('exfiltrateMe')).toEqual([]);
      const result = await index.retrieve({ query: 'zanzibarquokka helper exfiltrateMe', tokenBudget: 10_000 });
      expect(result.files.map((file) => file.path)).not.toContain('lib/helper.ts');
      expect(JSON.stringify(result)).not.toContain('zanzibarquokka');
    } finally {
      rmSync(join(repository.root, 'lib'));
      await repository.git('checkout', '--', 'lib');
    }
  });
});
