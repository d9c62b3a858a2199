import { ROLE_WEIGHT, roleOf } from './file-role';
import { Bm25Index, type TermContribution } from '../lexical/bm25.index';
import { pathTerms, queryIdentifiers, queryTerms, significantParts, stem } from '../lexical/tokenizer';
import type { IndexEntry } from '../indexing/index-entry';
import { comparePaths } from '../git/tree-listing';
import type { SymbolDefinition } from '../symbols/symbol';

/** A path says what a file is about more densely than its body: its terms count this many times. */
const PATH_WEIGHT = 3;
/**
 * Symbol boosts, on BM25's scale (one rare term in a short file scores about 5–8). A
 * definition whose name the ticket spells as code is the strongest evidence there is; a
 * name made of words the ticket uses, or equal to one plain word of it, is good evidence;
 * using a named symbol (calling it) is weak evidence. Each is divided by how many files
 * define that name, so `constructor` or `__init__` buys nothing.
 */
const BOOST = { identifier: 8, parts: 4, word: 2, reference: 1 } as const;
/**
 * A symbol the ticket spells as code and that at most this many files define is specific
 * enough that its definition should come before every file that merely uses or mentions
 * it (a test calling it eight times outscores it on BM25 alone).
 */
const MAX_LIFTED_DEFINERS = 3;
/** A file's symbol boost counts its best few hits only: a big file must not win on volume. */
const MAX_SYMBOL_HITS_PER_FILE = 3;
/** Plain ticket words shorter than this do not name symbols (`id`, `get`, `run`). */
const MIN_WORD_SYMBOL_LENGTH = 4;

/** How a definition matched the ticket. */
export type SymbolMatch = 'identifier' | 'parts' | 'word';

/** A definition that matched the ticket, with its location. */
export interface DefinitionHit extends SymbolDefinition {
  readonly path: string;
  readonly match: SymbolMatch;
  readonly score: number;
}

/** Why a file ranked where it did. Holds file and symbol names: for local logs only, never to send upstream. */
export interface RankReason {
  readonly bm25: number;
  readonly symbolScore: number;
  /**
   * Added so that this file, defining a symbol the ticket spells as code, ranks above the
   * files that only use or mention that symbol; 0 when not needed.
   */
  readonly lift: number;
  /** The symbols whose uses this file was lifted above. */
  readonly liftedAbove: readonly string[];
  /** Query terms found in the file (content or path), best first. */
  readonly matchedTerms: readonly TermContribution[];
  /** Definitions in the file that the ticket names, best first. */
  readonly definitions: readonly DefinitionHit[];
  /** Identifiers from the ticket that the file uses (calls, imports, types). */
  readonly references: readonly string[];
  /** The weight of the file's role (ROLE_WEIGHT) its BM25 and symbol scores were multiplied by; the lift comes after. */
  readonly roleWeight: number;
}

/** One ranked file. */
export interface RankedFile {
  readonly path: string;
  readonly score: number;
  readonly why: RankReason;
}

interface Located {
  readonly entry: number;
  readonly definition: SymbolDefinition;
}

/**
 * Ranks an index's files against a ticket: BM25 over content and path terms, plus boosts
 * for definitions the ticket names and, weakly, for files using them. Built once per index;
 * ranking is deterministic (score, then path; ties between hits by name and line).
 */
export class FileRanker {
  private readonly entries: readonly IndexEntry[];
  private readonly bm25: Bm25Index;
  private readonly byName = new Map<string, Located[]>();
  /** Definitions by their stemmed lower-case name, for plain ticket words ("users" → `User`). */
  private readonly byStem = new Map<string, Located[]>();
  private readonly byPart = new Map<string, Located[]>();
  private readonly referencedBy = new Map<string, number[]>();

  constructor(entries: readonly IndexEntry[]) {
    this.entries = entries.filter((entry) => entry.skipped === null);
    this.bm25 = new Bm25Index(
      this.entries.map((entry) => {
        const frequencies = new Map<string, number>();
        entry.terms.forEach((term, i) => frequencies.set(term, entry.frequencies[i] ?? 0));
        for (const term of pathTerms(entry.path)) frequencies.set(term, (frequencies.get(term) ?? 0) + PATH_WEIGHT);
        return { key: entry.path, termFrequencies: frequencies };
      }),
    );
    this.entries.forEach((entry, index) => {
      for (const definition of entry.definitions) {
        const located = { entry: index, definition };
        push(this.byName, definition.name.toLowerCase(), located);
        push(this.byStem, stem(definition.name.toLowerCase()), located);
        const parts = significantParts(definition.name);
        // One significant part is a plain word: the 'word' match covers it.
        if (parts.length > 1) for (const part of parts) push(this.byPart, part, located);
      }
      for (const name of entry.references) {
        const key = name.toLowerCase();
        const list = this.referencedBy.get(key);
        // References are sorted per file but may differ only in case; count a file once.
        if (list?.[list.length - 1] !== index) push(this.referencedBy, key, index);
      }
    });
  }

  /** Every file with a positive score for `query`, best first. */
  rank(query: string): RankedFile[] {
    const terms = queryTerms(query);
    const identifiers = queryIdentifiers(query);
    const termSet = new Set(terms);
    const hits = new Map<number, DefinitionHit[]>();
    const addHit = (located: Located, match: SymbolMatch, weight: number) => {
      const definingFiles = new Set((this.byName.get(located.definition.name.toLowerCase()) ?? []).map((l) => l.entry)).size;
      const entry = this.entries[located.entry] as IndexEntry;
      push(hits, located.entry, { ...located.definition, path: entry.path, match, score: weight / Math.max(1, definingFiles) });
    };
    for (const name of identifiers) for (const located of this.byName.get(name) ?? []) addHit(located, 'identifier', BOOST.identifier);
    const identifierSet = new Set(identifiers);
    for (const term of terms) {
      if (term.length < MIN_WORD_SYMBOL_LENGTH) continue;
      for (const located of this.byStem.get(term) ?? []) {
        if (!identifierSet.has(located.definition.name.toLowerCase())) addHit(located, 'word', BOOST.word);
      }
    }
    const partCandidates = new Set<Located>();
    for (const term of terms) for (const located of this.byPart.get(term) ?? []) partCandidates.add(located);
    for (const located of partCandidates) {
      const name = located.definition.name.toLowerCase();
      if (identifierSet.has(name) || termSet.has(stem(name))) continue;
      if (significantParts(located.definition.name).every((part) => termSet.has(part))) addHit(located, 'parts', BOOST.parts);
    }
    const referenced = new Map<number, string[]>();
    for (const name of identifiers) for (const index of this.referencedBy.get(name) ?? []) push(referenced, index, name);

    const scored = new Map<number, { bm25: number; terms: readonly TermContribution[] }>();
    const keyToIndex = new Map(this.entries.map((entry, index) => [entry.path, index]));
    for (const result of this.bm25.score(terms)) scored.set(keyToIndex.get(result.key) as number, { bm25: result.score, terms: result.terms });
    const candidates = new Set([...scored.keys(), ...hits.keys(), ...referenced.keys()]);
    const ranked = new Map<number, RankedFile>();
    for (const index of [...candidates].sort((a, b) => a - b)) {
      const entry = this.entries[index] as IndexEntry;
      const definitions = bestPerName(hits.get(index) ?? []);
      const references = [...new Set(referenced.get(index) ?? [])].sort();
      const symbolScore =
        definitions.slice(0, MAX_SYMBOL_HITS_PER_FILE).reduce((sum, hit) => sum + hit.score, 0) +
        references.reduce((sum, name) => sum + BOOST.reference / Math.max(1, this.referencedBy.get(name)?.length ?? 1), 0);
      const lexical = scored.get(index);
      const bm25 = lexical?.bm25 ?? 0;
      const roleWeight = ROLE_WEIGHT[roleOf(entry.path)];
      const score = (bm25 + symbolScore) * roleWeight;
      if (score <= 0) continue;
      const matchedTerms = [...(lexical?.terms ?? [])].sort((a, b) => b.score - a.score || comparePaths(a.term, b.term));
      ranked.set(index, { path: entry.path, score, why: { bm25, symbolScore, lift: 0, liftedAbove: [], matchedTerms, definitions, references, roleWeight } });
    }
    this.liftDefinitionsAboveUses(identifiers, ranked);
    return [...ranked.values()].sort((a, b) => b.score - a.score || comparePaths(a.path, b.path));
  }

  /**
   * Puts the definition of each specific symbol the ticket spells as code above every file
   * that uses it (references it, or holds its name as a term): the model needs the
   * definition first and its callers and tests after.
   */
  private liftDefinitionsAboveUses(identifiers: readonly string[], ranked: Map<number, RankedFile>): void {
    for (const name of identifiers) {
      const definers = [...new Set((this.byName.get(name) ?? []).map((located) => located.entry))].sort((a, b) => a - b);
      if (definers.length === 0 || definers.length > MAX_LIFTED_DEFINERS) continue;
      const term = stem(name);
      let bestUse = 0;
      for (const [index, file] of ranked) {
        if (definers.includes(index)) continue;
        const uses = file.why.references.includes(name) || file.why.matchedTerms.some((match) => match.term === term);
        if (uses) bestUse = Math.max(bestUse, file.score);
      }
      for (const index of definers) {
        const file = ranked.get(index);
        if (!file || file.score > bestUse) continue;
        const lift = bestUse - file.score + BOOST.identifier / definers.length;
        ranked.set(index, {
          ...file,
          score: file.score + lift,
          why: { ...file.why, lift: file.why.lift + lift, liftedAbove: [...file.why.liftedAbove, name] },
        });
      }
    }
  }

  /** The definitions the ticket names, across all files, best first. */
  rankSymbols(ranked: readonly RankedFile[]): DefinitionHit[] {
    const fileScore = new Map(ranked.map((file) => [file.path, file.score]));
    return ranked
      .flatMap((file) => file.why.definitions)
      .sort(
        (a, b) =>
          b.score - a.score ||
          (fileScore.get(b.path) ?? 0) - (fileScore.get(a.path) ?? 0) ||
          comparePaths(a.path, b.path) ||
          a.line - b.line,
      );
  }
}

/** One hit per distinct name and line, the best kind of match first; sorted best first. */
function bestPerName(hits: readonly DefinitionHit[]): DefinitionHit[] {
  const best = new Map<string, DefinitionHit>();
  for (const hit of hits) {
    const key = `${hit.name}\0${hit.line}`;
    const previous = best.get(key);
    if (!previous || hit.score > previous.score) best.set(key, hit);
  }
  return [...best.values()].sort((a, b) => b.score - a.score || comparePaths(a.name, b.name) || a.line - b.line);
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
