import { Bm25Index } from './bm25.index';

function index(documents: Record<string, Record<string, number>>): Bm25Index {
  return new Bm25Index(Object.entries(documents).map(([key, counts]) => ({ key, termFrequencies: new Map(Object.entries(counts)) })));
}

function scoreOf(bm25: Bm25Index, key: string, terms: string[]): number {
  return bm25.score(terms).find((result) => result.key === key)?.score ?? 0;
}

describe('Bm25Index', () => {
  const bm25 = index({
    rare: { invoice: 1, total: 1 },
    common: { total: 1, cart: 1 },
    other: { total: 1, user: 1 },
    long: { invoice: 1, noise: 40 },
  });

  it('weighs a rare term above a term every document has', () => {
    expect(bm25.idf('invoice')).toBeGreaterThan(bm25.idf('total'));
    expect(scoreOf(bm25, 'rare', ['invoice'])).toBeGreaterThan(scoreOf(bm25, 'common', ['total']));
  });

  it('favours the shorter of two documents with the same count of a term', () => {
    expect(scoreOf(bm25, 'rare', ['invoice'])).toBeGreaterThan(scoreOf(bm25, 'long', ['invoice']));
  });

  it('saturates: ten times the count is far less than ten times the score', () => {
    const saturating = index({ once: { word: 1, pad: 9 }, often: { word: 10 }, none: { pad: 10 } });
    const ratio = scoreOf(saturating, 'often', ['word']) / scoreOf(saturating, 'once', ['word']);
    expect(ratio).toBeGreaterThan(1);
    expect(ratio).toBeLessThan(2.2);
  });

  it('returns only matching documents, with each matching term and its share', () => {
    const results = bm25.score(['invoice', 'total', 'missing']);
    expect(results.map((result) => result.key).sort()).toEqual(['common', 'long', 'other', 'rare']);
    const rare = results.find((result) => result.key === 'rare');
    expect(rare?.terms.map((term) => term.term)).toEqual(['invoice', 'total']);
    expect(rare?.score).toBeCloseTo((rare?.terms ?? []).reduce((sum, term) => sum + term.score, 0), 12);
  });

  it('counts a repeated query term once', () => {
    expect(scoreOf(bm25, 'rare', ['invoice', 'invoice'])).toBe(scoreOf(bm25, 'rare', ['invoice']));
  });

  it('handles an empty index', () => {
    expect(index({}).score(['anything'])).toEqual([]);
  });
});
