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

/** A full commit id: 40 hex digits (SHA-1) or 64 (SHA-256), as every forge writes it. */
export function isCommitSha(value: unknown): value is string {
  return typeof value === 'string' && /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(value);
}

/** A user name as the forges spell them: letters, digits, `.`, `_` and `-` (GitHub's apps end in `[bot]`), at most 255 characters. */
export function isUserName(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9_.][A-Za-z0-9._-]{0,254}(?:\[bot\])?$/.test(value);
}

/**
 * A time the forge gave as ISO 8601 with a zone (`2024-05-01T10:00:00Z`, `…+02:00`, GitLab's
 * milliseconds), as epoch milliseconds; undefined for anything else, null included.
 */
export function timeOf(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
