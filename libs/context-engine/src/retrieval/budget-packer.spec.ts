import type { DefinitionHit, RankedFile } from '../ranking/file-ranker';
import { packWithinBudget, type PackingOptions } from './budget-packer';

// One token per character keeps the arithmetic of these tests readable.
const perCharacter = (text: string) => text.length;

function ranked(path: string, score: number, definitions: DefinitionHit[] = []): RankedFile {
  return { path, score, why: { bm25: score, symbolScore: 0, lift: 0, liftedAbove: [], matchedTerms: [], definitions, references: [], roleWeight: 1 } };
}

function hit(path: string, name: string, startLine: number, endLine: number, score = 1): DefinitionHit {
  return { path, name, kind: 'function', line: startLine, startLine, endLine, container: null, match: 'identifier', score };
}

function options(files: Record<string, string>, overrides: Partial<PackingOptions> = {}): PackingOptions {
  return {
    tokenBudget: 1000,
    maxFiles: 10,
    maxSymbols: 10,
    countTokens: perCharacter,
    readText: async (path) => files[path],
    ...overrides,
  };
}

describe('packWithinBudget', () => {
  const big = Array.from({ length: 30 }, (_, i) => `line ${String(i + 1).padStart(2, '0')} of big`).join('\n');
  const files = { 'a.ts': 'a'.repeat(100), 'big.ts': big, 'c.ts': 'c'.repeat(50) };

  it('takes whole files in rank order while they fit, counting each header', async () => {
    const packed = await packWithinBudget([ranked('a.ts', 3), ranked('c.ts', 2)], [], options(files, { tokenBudget: 200 }));
    expect(packed.files.map((f) => [f.path, f.coverage, f.rank])).toEqual([
      ['a.ts', 'whole-file', 1],
      ['c.ts', 'whole-file', 2],
    ]);
    // header = countTokens(path) + 4
    expect(packed.tokensUsed).toBe(100 + 4 + 4 + 50 + 4 + 4);
  });

  it('never spends more than the budget', async () => {
    for (const budget of [0, 10, 57, 99, 120, 163, 400]) {
      const packed = await packWithinBudget(
        [ranked('big.ts', 5, [hit('big.ts', 'f', 3, 5), hit('big.ts', 'g', 20, 22)]), ranked('a.ts', 3), ranked('c.ts', 2)],
        [hit('big.ts', 'f', 3, 5)],
        options(files, { tokenBudget: budget }),
      );
      expect(packed.tokensUsed).toBeLessThanOrEqual(budget);
      const counted = packed.symbols.reduce((s, x) => s + x.tokens, 0) + packed.files.reduce((s, f) => s + f.tokens, 0);
      expect(counted).toBe(packed.tokensUsed);
    }
  });

  it('gives only the named definitions of a file too large to fit whole', async () => {
    const packed = await packWithinBudget(
      [ranked('big.ts', 5, [hit('big.ts', 'g', 20, 22, 2), hit('big.ts', 'f', 3, 5, 1)])],
      [],
      options(files, { tokenBudget: 200 }),
    );
    expect(packed.files).toHaveLength(1);
    const [file] = packed.files;
    expect(file?.coverage).toBe('definitions');
    expect(file?.excerpts.map((e) => [e.startLine, e.endLine])).toEqual([
      [3, 5],
      [20, 22],
    ]);
    expect(file?.excerpts[0]?.text).toBe('line 03 of big\nline 04 of big\nline 05 of big');
  });

  it('merges overlapping and adjacent definition ranges', async () => {
    const packed = await packWithinBudget(
      [ranked('big.ts', 5, [hit('big.ts', 'outer', 2, 9), hit('big.ts', 'inner', 4, 6), hit('big.ts', 'next', 10, 11)])],
      [],
      options(files, { tokenBudget: 220 }),
    );
    expect(packed.files[0]?.excerpts.map((e) => [e.startLine, e.endLine])).toEqual([[2, 11]]);
  });

  it('leaves out a file that fits neither whole nor by definitions, and tries the next', async () => {
    const packed = await packWithinBudget([ranked('big.ts', 5), ranked('c.ts', 2)], [], options(files, { tokenBudget: 100 }));
    expect(packed.files.map((f) => f.path)).toEqual(['c.ts']);
    expect(packed.files[0]?.rank).toBe(2);
    expect(packed.filesOverBudget).toBe(1);
  });

  it('skips a file that can no longer be read', async () => {
    const packed = await packWithinBudget([ranked('gone.ts', 9), ranked('c.ts', 2)], [], options(files));
    expect(packed.files.map((f) => f.path)).toEqual(['c.ts']);
  });

  it('stops at maxFiles', async () => {
    const packed = await packWithinBudget([ranked('a.ts', 3), ranked('c.ts', 2)], [], options(files, { maxFiles: 1 }));
    expect(packed.files.map((f) => f.path)).toEqual(['a.ts']);
  });

  it('spends at most a tenth of the budget on the symbol map, best symbols first', async () => {
    const symbols = [hit('a.ts', 'first', 1, 1, 3), hit('c.ts', 'second', 1, 1, 2), hit('c.ts', 'third', 1, 1, 1)];
    // 'a.ts:1 function first' is 22 characters; a budget of 250 leaves 25 for symbols.
    const packed = await packWithinBudget([], symbols, options(files, { tokenBudget: 250 }));
    expect(packed.symbols.map((s) => s.name)).toEqual(['first']);
    expect(packed.symbols[0]?.tokens).toBe('a.ts:1 function first'.length);
  });

  it('reads no more than four times maxFiles (at least 20) of the ranking once the budget is nearly spent, counting the rest as over budget', async () => {
    const many = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`f${i}.ts`, 'x'.repeat(500)]));
    const reads: string[] = [];
    const ranking = Object.keys(many).map((path, i) => ranked(path, 1000 - i));
    const packed = await packWithinBudget(ranking, [], options(many, { tokenBudget: 100, maxFiles: 8, readText: async (path) => (reads.push(path), many[path]) }));
    expect(reads).toHaveLength(32);
    expect(packed).toMatchObject({ files: [], filesOverBudget: 1000 });
  });

  it('is deterministic', async () => {
    const run = () =>
      packWithinBudget([ranked('big.ts', 5, [hit('big.ts', 'f', 3, 5)]), ranked('a.ts', 3)], [hit('big.ts', 'f', 3, 5)], options(files, { tokenBudget: 150 }));
    expect(await run()).toEqual(await run());
  });
});
