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

function termsOf(text: string, stopwords: ReadonlySet<string>): string[] {
  const terms: string[] = [];
  for (const word of text.match(WORD) ?? []) {
    // A word of more than one part is indexed whole (so `parseDuration` in a ticket
    // matches exactly) and by its parts (so "parse the duration" matches too).
    const whole = word.replace(/\$/g, '').toLowerCase();
    if (keep(whole, stopwords)) terms.push(whole);
    const parts = splitIdentifier(word);
    if (parts.length > 1) for (const part of parts) if (keep(part, stopwords)) terms.push(part);
  }
  return terms;
}

/**
 * Index terms of a file's text (identifiers, comments and strings alike), with repeats:
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

/** The distinct terms of a ticket, in first-seen order; ticket boilerplate words dropped. */
export function queryTerms(text: string): string[] {
  return [...new Set(termsOf(text, ALL_QUERY_STOPWORDS))];
}

/**
 * The words of a ticket that look like code identifiers rather than prose: they contain an
 * inner capital, an underscore, a digit, or are written as a call (`total()`) or member
 * (`Cart.total`). Matched against symbol names whole, they are the strongest signal a
 * ticket can carry. Lower-cased, distinct, first-seen order.
 */
export function queryIdentifiers(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)*(\(\))?/g)) {
    const token = match[0];
    const isCall = match[1] !== undefined;
    for (const name of token.replace(/\(\)$/, '').split('.')) {
      const identifierLike = isCall || token.includes('.') || /[a-z0-9][A-Z]|_|[A-Za-z][0-9]/.test(name);
      if (identifierLike && name.length >= 3) found.push(name.replace(/\$/g, '').toLowerCase());
    }
  }
  return [...new Set(found)];
}

/**
 * The parts of an identifier a ticket could contain: `totalWithTax` → `total`, `tax`
 * (`with` is a stopword, so no ticket's terms would hold it).
 */
export function significantParts(identifier: string): string[] {
  return [...new Set(splitIdentifier(identifier).filter((part) => keep(part, ALL_QUERY_STOPWORDS)))];
}
