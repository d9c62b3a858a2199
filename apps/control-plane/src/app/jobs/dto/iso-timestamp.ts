const ISO_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

// PostgreSQL stores any of these; years outside are a typo, not a query.
const MIN_YEAR = 1970;
const MAX_YEAR = 9999;

/** What a timestamp parameter's error message says is expected. */
export const ISO_TIMESTAMP_EXPECTATION = 'expected an ISO 8601 timestamp with a time zone, e.g. 2026-12-01T00:00:00Z';

/**
 * The instant an ISO 8601 timestamp with a zone names (`2026-12-01T09:30:00Z`,
 * `2026-12-01T10:30:00.250+01:00`), or null. Stricter than Date.parse, which rolls
 * 30 February over into March and reads a timestamp without zone as local time.
 * Digits past the millisecond are dropped, as the database keeps milliseconds.
 */
export function parseIsoTimestamp(text: string): Date | null {
  const match = ISO_TIMESTAMP.exec(text);
  if (!match) return null;
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes] = match.slice(1).map((part) => (part === undefined ? 0 : Number(part)));
  if (year === undefined || month === undefined || day === undefined) return null;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const valid =
    year >= MIN_YEAR &&
    year <= MAX_YEAR &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth &&
    (hour ?? 0) <= 23 &&
    (minute ?? 0) <= 59 &&
    (second ?? 0) <= 59 &&
    (offsetHours ?? 0) <= 23 &&
    (offsetMinutes ?? 0) <= 59;
  if (!valid) return null;
  const instant = Date.parse(text);
  return Number.isNaN(instant) ? null : new Date(instant);
}
