/** BM25's term-frequency saturation: the usual value for code and prose alike. */
const K1 = 1.2;
/** BM25's length normalisation: long files are not favoured just for saying more. */
const B = 0.75;

/** One document to index: a key, and how often each term occurs in it (already weighted). */
export interface Bm25Document {
  readonly key: string;
  readonly termFrequencies: ReadonlyMap<string, number>;
}

/** What one query term added to one document's score, for the "why it ranked" log. */
export interface TermContribution {
  readonly term: string;
  readonly frequency: number;
  readonly score: number;
}

/** A document's BM25 score for a query, with each matching term's share. */
export interface Bm25Score {
  readonly key: string;
  readonly score: number;
  readonly terms: readonly TermContribution[];
}

interface Posting {
  readonly document: number;
  readonly frequency: number;
}

/**
 * An inverted BM25 index over a fixed set of documents. Scores are computed in a fixed order
 * (query terms as given, documents in insertion order), so the same documents and query
 * always give bit-identical scores.
 */
export class Bm25Index {
  private readonly keys: string[] = [];
  private readonly lengths: number[] = [];
  private readonly postings = new Map<string, Posting[]>();
  private readonly averageLength: number;

  constructor(documents: Iterable<Bm25Document>) {
    let total = 0;
    for (const document of documents) {
      const index = this.keys.length;
      this.keys.push(document.key);
      let length = 0;
      for (const [term, frequency] of document.termFrequencies) {
        if (frequency <= 0) continue;
        length += frequency;
        let list = this.postings.get(term);
        if (!list) this.postings.set(term, (list = []));
        list.push({ document: index, frequency });
      }
      // +1: an empty file still has a length, so the normalisation never divides by zero.
      this.lengths.push(length + 1);
      total += length + 1;
    }
    this.averageLength = this.keys.length === 0 ? 1 : total / this.keys.length;
  }

  /** How many documents there are. */
  get size(): number {
    return this.keys.length;
  }

  /** In how many documents a term occurs. */
  documentFrequency(term: string): number {
    return this.postings.get(term)?.length ?? 0;
  }

  /** Inverse document frequency (the non-negative BM25+ form): rare terms weigh more. */
  idf(term: string): number {
    const containing = this.documentFrequency(term);
    return Math.log(1 + (this.keys.length - containing + 0.5) / (containing + 0.5));
  }

  /** Every document that matches at least one term, with its score; unordered. */
  score(terms: readonly string[]): Bm25Score[] {
    const scores = new Map<number, { score: number; terms: TermContribution[] }>();
    for (const term of new Set(terms)) {
      const list = this.postings.get(term);
      if (!list) continue;
      const idf = this.idf(term);
      for (const { document, frequency } of list) {
        const length = this.lengths[document] ?? 1;
        const score = (idf * frequency * (K1 + 1)) / (frequency + K1 * (1 - B + (B * length) / this.averageLength));
        let entry = scores.get(document);
        if (!entry) scores.set(document, (entry = { score: 0, terms: [] }));
        entry.score += score;
        entry.terms.push({ term, frequency, score });
      }
    }
    return [...scores].map(([document, entry]) => ({ key: this.keys[document] ?? '', score: entry.score, terms: entry.terms }));
  }
}
