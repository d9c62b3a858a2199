/** Bounds on the fuzzy search, so a huge file or answer cannot stall the worker (it then finds nothing). */
const FUZZY_LIMITS = { maxFileLines: 20_000, maxSearchLines: 200, maxLineChars: 1_000 } as const;
/** The best window must beat the runner-up by this much, or the match is ambiguous. */
const CLEAR_LEAD = 0.02;

/**
 * The start of the one stretch of `lines` most like `search`, if it is at least `threshold`
 * alike; `'ambiguous'` when another stretch is nearly as alike. Likeness is the mean over
 * the stretch's lines of the Dice coefficient of their character bigrams (whitespace
 * trimmed): cheap, linear in line length, and tolerant of a changed word or quote.
 */
export function findFuzzyMatch(lines: readonly string[], search: readonly string[], threshold: number): number | 'ambiguous' | undefined {
  if (search.length === 0 || search.length > lines.length) return undefined;
  if (lines.length > FUZZY_LIMITS.maxFileLines || search.length > FUZZY_LIMITS.maxSearchLines) return undefined;
  const fileGrams = lines.map(bigrams);
  const searchGrams = search.map(bigrams);
  let best = -1;
  let bestAt = -1;
  let second = -1;
  for (let start = 0; start + search.length <= lines.length; start += 1) {
    let total = 0;
    for (let offset = 0; offset < search.length; offset += 1) total += dice(fileGrams[start + offset] as Bigrams, searchGrams[offset] as Bigrams);
    const score = total / search.length;
    if (score > best) {
      second = best;
      best = score;
      bestAt = start;
    } else if (score > second) {
      second = score;
    }
  }
  if (best < threshold) return undefined;
  return best - second < CLEAR_LEAD ? 'ambiguous' : bestAt;
}

type Bigrams = ReadonlyMap<string, number> & { readonly size: number; readonly total: number; readonly text: string };

function bigrams(line: string): Bigrams {
  const text = line.trim().slice(0, FUZZY_LIMITS.maxLineChars);
  const counts = new Map<string, number>();
  for (let i = 0; i + 1 < text.length; i += 1) {
    const gram = text.slice(i, i + 2);
    counts.set(gram, (counts.get(gram) ?? 0) + 1);
  }
  return Object.assign(counts, { total: Math.max(0, text.length - 1), text });
}

function dice(a: Bigrams, b: Bigrams): number {
  if (a.text === b.text) return 1;
  if (a.total === 0 || b.total === 0) return 0;
  let shared = 0;
  for (const [gram, count] of a) shared += Math.min(count, b.get(gram) ?? 0);
  return (2 * shared) / (a.total + b.total);
}
