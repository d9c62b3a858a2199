/**
 * The checks every forge client makes of what its forge answered before it believes it.
 * Each client words its own refusal: these only say whether a value is what was expected.
 */

/** A JSON object: not null, not an array. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A number the forge counts from 1 (ids, iids, pull request numbers), exact as a JavaScript number. */
export function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

/** An http(s) URL: a request's page is shown and linked, so `javascript:` and its like are refused. */
export function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    const { protocol } = new URL(value);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}
