import type { IndexEntry } from '../indexing/index-entry';
import { indexTerms } from '../lexical/tokenizer';
import type { SymbolDefinition } from '../symbols/symbol';
import { FileRanker } from './file-ranker';

function entry(path: string, text: string, definitions: Partial<SymbolDefinition & { name: string }>[] = [], references: string[] = []): IndexEntry {
  const counts = new Map<string, number>();
  for (const term of indexTerms(text)) counts.set(term, (counts.get(term) ?? 0) + 1);
  const terms = [...counts.keys()].sort();
  return {
    path,
    objectId: '0'.repeat(40),
    size: text.length,
    language: 'typescript',
    skipped: null,
    terms,
    frequencies: terms.map((t) => counts.get(t) ?? 0),
    definitions: definitions.map((d) => ({ kind: 'function', line: 1, startLine: 1, endLine: 1, container: null, name: 'x', ...d })),
    references,
    parseErrors: false,
    symbolsMissing: false,
    lineCount: 1,
  };
}

describe('FileRanker', () => {
  const entries = [
    entry('src/pricing/discount.ts', 'apply discount percent total', [{ name: 'applyDiscount', line: 3 }]),
    // Calls it often, so it out-counts the definition lexically.
    entry('src/checkout/checkout.ts', 'applydiscount apply discount applydiscount apply discount applydiscount cart', [], ['applyDiscount']),
    entry('src/pricing/discount.spec.ts', 'applydiscount applydiscount applydiscount apply discount test', [{ name: 'testApplyDiscountTwice' }], ['applyDiscount']),
    entry('src/users/user.ts', 'user name email', [{ name: 'User', kind: 'class' }]),
    entry('docs/readme.md', 'discount discount discount'),
    { ...entry('assets/logo.png', 'discount'), skipped: 'binary' as const },
  ];
  const ranker = new FileRanker(entries);

  it('puts the file defining a symbol the ticket names as code first, even against files mentioning it more', () => {
    const ranked = ranker.rank('applyDiscount() applies the discount twice');
    expect(ranked[0]?.path).toBe('src/pricing/discount.ts');
    expect(ranked[0]?.why.definitions[0]).toMatchObject({ name: 'applyDiscount', match: 'identifier', line: 3 });
  });

  it('lifts the definition of a named symbol above the files using it, and says so', () => {
    // Without its symbol boost the definition would trail the caller here.
    const unrelated = ['users', 'orders', 'stock', 'labels', 'rates', 'tokens'].map((name) => entry(`src/${name}.ts`, `${name} service`));
    const heavyUsers = new FileRanker([
      entry('src/pricing/discount.ts', 'apply discount', [{ name: 'applyDiscount', line: 3 }]),
      entry('src/checkout/coupons.ts', `${'applyDiscount apply discount coupon minimum '.repeat(12)}`, [], ['applyDiscount']),
      ...unrelated,
    ]);
    const ranked = heavyUsers.rank("applyDiscount() ignores the coupon's minimum");
    expect(ranked.map((file) => file.path)).toEqual(['src/pricing/discount.ts', 'src/checkout/coupons.ts']);
    expect((ranked[0]?.why.bm25 ?? 0) + (ranked[0]?.why.symbolScore ?? 0)).toBeLessThan(ranked[1]?.score ?? 0);
    expect(ranked[0]?.why.lift).toBeGreaterThan(0);
    expect(ranked[0]?.why.liftedAbove).toEqual(['applydiscount']);
    expect(ranked[1]?.why.lift).toBe(0);
  });

  it('ranks source above tests, type declarations and prose that match the ticket as well, keeping them in the ranking', () => {
    const words = 'parse proto key object prototype settings';
    const ranked = new FileRanker([
      entry('lib/parse.js', words),
      entry('test/proto-key.test.mjs', words),
      entry('lib/parse.d.ts', words),
      entry('README.md', words),
      entry('package.json', words),
      entry('src/other.js', 'unrelated words only'),
    ]).rank('parse turns a proto key into the prototype of the settings object');
    const weights = ranked.map((file) => file.why.roleWeight);
    expect(weights).toEqual([1, 0.6, 0.5, 0.5, 0.35]);
    expect(ranked.map((file) => file.path)).toEqual(['lib/parse.js', 'test/proto-key.test.mjs', expect.any(String), expect.any(String), 'README.md']);
    expect(ranked.slice(2, 4).map((file) => file.path).sort()).toEqual(['lib/parse.d.ts', 'package.json']);
  });

  it('does not lift a name that many files define', () => {
    const common = new FileRanker([
      ...['a', 'b', 'c', 'd'].map((name) => entry(`src/${name}.ts`, 'render', [{ name: 'renderAll' }])),
      entry('src/caller.ts', 'renderAll renderAll renderAll render all', [], ['renderAll']),
    ]);
    expect(common.rank('renderAll() is slow').every((file) => file.why.lift === 0)).toBe(true);
  });

  it('matches a definition by the words of its name when the ticket describes it in prose', () => {
    const ranked = ranker.rank('Applying a discount to the cart total is broken');
    expect(ranked[0]?.path).toBe('src/pricing/discount.ts');
    expect(ranked[0]?.why.definitions[0]?.match).toBe('parts');
  });

  it('matches a one-word definition by a plain word of the ticket', () => {
    const ranked = ranker.rank('the user record loses its email');
    expect(ranked[0]?.path).toBe('src/users/user.ts');
    expect(ranked[0]?.why.definitions[0]).toMatchObject({ name: 'User', match: 'word' });
  });

  it('explains every ranking: matched terms, definitions, references', () => {
    const checkout = ranker.rank('applyDiscount() breaks checkout').find((file) => file.path === 'src/checkout/checkout.ts');
    expect(checkout?.why.references).toEqual(['applydiscount']);
    expect(checkout?.why.matchedTerms.map((t) => t.term)).toEqual(expect.arrayContaining(['applydiscount', 'checkout']));
    expect(checkout?.score).toBeCloseTo((checkout?.why.bm25 ?? 0) + (checkout?.why.symbolScore ?? 0) + (checkout?.why.lift ?? 0), 12);
  });

  it('never ranks a file whose content was skipped', () => {
    expect(ranker.rank('discount logo').map((file) => file.path)).not.toContain('assets/logo.png');
  });

  it('orders ties by path and is deterministic', () => {
    const tied = new FileRanker([entry('b.ts', 'same words'), entry('a.ts', 'same words')]);
    expect(tied.rank('same words').map((file) => file.path)).toEqual(['a.ts', 'b.ts']);
    expect(ranker.rank('discount checkout cart')).toEqual(ranker.rank('discount checkout cart'));
  });

  it('ranks nothing for a query with no known term', () => {
    expect(ranker.rank('zebra quokka')).toEqual([]);
  });

  it('lists the named definitions across files, best first', () => {
    const ranked = ranker.rank('applyDiscount() is wrong for some users');
    expect(ranker.rankSymbols(ranked).map((hit) => [hit.name, hit.match])).toEqual([
      ['applyDiscount', 'identifier'],
      ['User', 'word'],
    ]);
  });
});
