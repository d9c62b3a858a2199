import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContextEngine } from './context-engine';
import type { RepositoryIndex } from './repository-index';
import { TestRepository } from './testing/git-repository.fixture';
import { testGitRunner } from './testing/git-repository.fixture';
import { RECALL_CASES, shopRepositoryFiles } from './testing/shop-repository.fixture';

const TOP = 5;
/** The baseline drops only words no one would grep for. */
const GREP_STOPWORDS = new Set('the and for are but not its one has have after once when than with does from lets of'.split(' '));

/**
 * The baseline a developer would reach for: `git grep -c -i -F` of each word of the ticket
 * (three letters or more), counts added up per file, most first, ties by path.
 */
async function grepRanking(repository: TestRepository, ticket: string): Promise<string[]> {
  const words = [...new Set((ticket.toLowerCase().match(/[a-z0-9_]{3,}/g) ?? []).filter((word) => !GREP_STOPWORDS.has(word)))];
  const counts = new Map<string, number>();
  for (const word of words) {
    let stdout = '';
    try {
      stdout = await repository.git('grep', '-c', '-i', '-F', '-e', word);
    } catch {
      continue; // exit 1: no match
    }
    for (const line of stdout.split('\n').filter(Boolean)) {
      const separator = line.lastIndexOf(':');
      const path = line.slice(0, separator);
      counts.set(path, (counts.get(path) ?? 0) + Number(line.slice(separator + 1)));
    }
  }
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([path]) => path);
}

/** 1-based rank, or Infinity when absent. */
function rankOf(ranking: readonly string[], path: string): number {
  const index = ranking.indexOf(path);
  return index === -1 ? Number.POSITIVE_INFINITY : index + 1;
}

describe('recall: the defining file of what a ticket names ranks in the top 5', () => {
  let repository: TestRepository;
  let cacheDir: string;
  let index: RepositoryIndex;

  beforeAll(async () => {
    repository = await TestRepository.create();
    repository.write(shopRepositoryFiles());
    await repository.commit('shop');
    cacheDir = mkdtempSync(join(tmpdir(), 'context-engine-recall-'));
    index = await new ContextEngine({ cacheDir, git: testGitRunner }).open({ repositoryId: 'shop', worktree: repository.root });
  });

  afterAll(() => {
    repository.dispose();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('does at least as well as git grep -c on the ticket words, and puts every case in the top 5', async () => {
    const rows: { ticket: string; engine: number; grep: number }[] = [];
    for (const { ticket, definedIn } of RECALL_CASES) {
      const engine = rankOf(
        index.rank(ticket).map((file) => file.path),
        definedIn,
      );
      const grep = rankOf(await grepRanking(repository, ticket), definedIn);
      rows.push({ ticket, engine, grep });
    }
    const hits = (key: 'engine' | 'grep') => rows.filter((row) => row[key] <= TOP).length;
    const reciprocal = (key: 'engine' | 'grep') => rows.reduce((sum, row) => sum + 1 / row[key], 0) / rows.length;
    const table = rows.map((row) => `${String(row.engine).padStart(8)} ${String(row.grep).padStart(6)}  ${row.ticket}`).join('\n');
    process.stdout.write(
      `\nrank of the defining file (${rows.length} tickets, ${index.files().length} files)\n  engine   grep  ticket\n${table}\n` +
        `top-${TOP}: engine ${hits('engine')}/${rows.length}, git grep ${hits('grep')}/${rows.length}; ` +
        `MRR: engine ${reciprocal('engine').toFixed(3)}, git grep ${reciprocal('grep').toFixed(3)}\n`,
    );
    expect(rows.filter((row) => row.engine > TOP)).toEqual([]);
    expect(hits('engine')).toBeGreaterThanOrEqual(hits('grep'));
    expect(reciprocal('engine')).toBeGreaterThanOrEqual(reciprocal('grep'));
  });

  it('retrieves the defining file first, within the budget, with its reasons', async () => {
    const result = await index.retrieve({ query: RECALL_CASES[0]?.ticket ?? '', tokenBudget: 2_000 });
    expect(result.files[0]?.path).toBe(RECALL_CASES[0]?.definedIn);
    expect(result.files[0]?.why.definitions.map((hit) => hit.name)).toContain('applyDiscount');
    expect(result.symbols[0]).toMatchObject({ name: 'applyDiscount', path: RECALL_CASES[0]?.definedIn });
    expect(result.tokensUsed).toBeLessThanOrEqual(2_000);
  });
});
