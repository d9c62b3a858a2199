/** Terms shorter than this carry no signal (`i`, `x`) and only grow the index. */
const MIN_TERM_LENGTH = 2;
/** Longer "words" are hashes, base64 or minified noise, never something a ticket names. */
const MAX_TERM_LENGTH = 64;
/**
 * Words that occur in nearly every file of every language, in prose and code alike; BM25's
 * inverse document frequency would weigh them near zero anyway, so they are dropped to keep
 * the index small.
 */
const INDEX_STOPWORDS = new Set(
  (
    'the a an and or of to in on for is it be as at by with from this that these those are was were has have had ' +
    'do does did not no but if then else so its into than too very can will would should could may might ' +
    'const let var return import export def self function func package public private protected static void new'
  ).split(' '),
);
/**
 * Words a ticket uses to describe any bug: they say nothing about where it is. Applied to
 * the query only, so a file that really is about `errors` still indexes the word.
 */
const QUERY_STOPWORDS = new Set(
  'fix fixes fixed bug bugs issue issues error errors wrong returns instead expected actual please when should happens ticket broken fails failing works'.split(
    ' ',
  ),
);
const WORD = /[A-Za-z_$][A-Za-z0-9_$]*/g;
// Boundaries inside an identifier: underscores/dollars, lower→Upper (parseDuration),
// ACRONYMWord (HTTPServer → HTTP Server), letter↔digit (base64Url → base 64 url).
const IDENTIFIER_BOUNDARY = /[_$]+|(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])/;

function keep(term: string, stopwords: ReadonlySet<string>): boolean {
  return term.length >= MIN_TERM_LENGTH && term.length <= MAX_TERM_LENGTH && !stopwords.has(term);
}

/**
 * The lower-case parts of one identifier: `parseHTTPDuration_v2` → `parse`, `http`,
 * `duration`, `v`, `2`. A single-part word yields itself.
 */
export function splitIdentifier(identifier: string): string[] {
  return identifier
    .split(IDENTIFIER_BOUNDARY)
    .filter((part) => part.length > 0)
    .map((part) => part.toLowerCase());
}

/**
 * Bump when what `indexTerms` yields changes: cached analyses hold its output, so the
 * version is part of the cache's analysis key.
 */
export const TOKENIZER_VERSION = 1;

/**
 * A deliberately light English suffix stemmer, applied alike to index and query terms so
 * that a ticket's prose meets the code's names: "applying"/"applies"/"applied" → `apply`,
 * "parsing"/"parsed"/"parse" → `pars`, "discounts" → `discount`, "shipping" → `ship`.
 * It only has to map related forms together, not to produce words; short words are left.
 */
export function stem(term: string): string {
  if (term.length <= 4 || /[0-9_]/.test(term)) return term;
  let t = term;
  if (t.endsWith('ies') || t.endsWith('ied')) t = `${t.slice(0, -3)}y`;
  else if (t.endsWith('sses')) t = t.slice(0, -2);
  else if (t.endsWith('s') && !/(ss|us|is)$/.test(t)) t = t.slice(0, -1);
  if (t.endsWith('ing') && t.length - 3 >= 4) t = t.slice(0, -3);
  else if (t.endsWith('ed') && t.length - 2 >= 4) t = t.slice(0, -2);
  if (t.endsWith('e') && t.length >= 4) t = t.slice(0, -1);
  // shipp(ing) → ship; but keep the doubled l, s, z of `install`, `class`, `buzz`.
  if (t.length >= 4 && t[t.length - 1] === t[t.length - 2] && /[^aeioulsz]$/.test(t)) t = t.slice(0, -1);
  return t;
}

function termsOf(text: string, stopwords: ReadonlySet<string>): string[] {
  const terms: string[] = [];
  for (const word of text.match(WORD) ?? []) {
    // A word of more than one part is indexed whole (so `parseDuration` in a ticket
    // matches exactly) and by its parts (so "parse the duration" matches too).
    const whole = word.replace(/\$/g, '').toLowerCase();
    if (keep(whole, stopwords)) terms.push(stem(whole));
    const parts = splitIdentifier(word);
    if (parts.length > 1) for (const part of parts) if (keep(part, stopwords)) terms.push(stem(part));
  }
  return terms;
}

/**
 * Stemmed index terms of a file's text (identifiers, comments and strings alike), with repeats:
 * the count of a term is its frequency. Used for content and, split on `/` and `.`, paths.
 */
export function indexTerms(text: string): string[] {
  return termsOf(text, INDEX_STOPWORDS);
}

/** Index terms of a worktree-relative path: its directory and file names, split like identifiers. */
export function pathTerms(path: string): string[] {
  return indexTerms(path.replace(/[/.\-\\]/g, ' '));
}

const ALL_QUERY_STOPWORDS = new Set([...INDEX_STOPWORDS, ...QUERY_STOPWORDS]);

/** The distinct (stemmed) terms of a ticket, in first-seen order; ticket boilerplate words dropped. */
export function queryTerms(text: string): string[] {
  return [...new Set(termsOf(text, ALL_QUERY_STOPWORDS))];
}

/**
 * The words of a ticket that look like code identifiers rather than prose: they contain an
 * inner capital, an underscore, a digit, or are written as a call (`total()`) or member
 * (`Cart.total` names `total`). Matched against symbol names whole, they are the strongest signal a
 * ticket can carry. Lower-cased, distinct, first-seen order.
 */
export function queryIdentifiers(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)*(\(\))?/g)) {
    const isCall = match[1] !== undefined;
    const names = match[0].replace(/\(\)$/, '').split('.');
    names.forEach((name, i) => {
      // In `Store.reserve()` the member is what is named; `Store` only qualifies it and
      // counts only if it looks like code by itself.
      const last = i === names.length - 1;
      const identifierLike = (last && (isCall || names.length > 1)) || /[a-z0-9][A-Z]|_|[A-Za-z][0-9]/.test(name);
      if (identifierLike && name.length >= 3) found.push(name.replace(/\$/g, '').toLowerCase());
    });
  }
  return [...new Set(found)];
}

/**
 * The stemmed parts of an identifier that a ticket's terms could contain: `totalWithTax`
 * → `total`, `tax` (`with` is a stopword, so no ticket's terms would hold it).
 */
export function significantParts(identifier: string): string[] {
  return [...new Set(splitIdentifier(identifier).filter((part) => keep(part, ALL_QUERY_STOPWORDS)).map(stem))];
}
