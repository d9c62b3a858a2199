const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** The accepted spelling of a duration in the worker's YAML config: `250ms`, `30s`, `5m`, `1h`. */
export const DURATION_PATTERN = /^(\d{1,9})(ms|s|m|h)$/;

/**
 * Turns an `ms`-style duration string into milliseconds. Config holds strings people can
 * read; code works in numbers only, so the conversion happens once, at load.
 */
export function parseDuration(text: string): number {
  const match = DURATION_PATTERN.exec(text);
  if (!match) throw new RangeError(`expected a duration like 30s, 5m or 250ms`);
  const unit = match[2] as keyof typeof UNIT_MS;
  return Number(match[1]) * UNIT_MS[unit];
}
