const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/**
 * How a duration is spelt in configuration, on both sides: an amount and a unit, e.g.
 * `250ms`, `1.5s`, `30s`, `5m`, `1h`. A unit is always required so that "30" can never
 * silently mean 30 ms when 30 s was meant.
 */
export const DURATION_PATTERN = /^(\d{1,9}(?:\.\d{1,3})?)(ms|s|m|h)$/;

/**
 * Turns an ms-style duration into whole milliseconds, or null for anything else. Config
 * holds strings people can read; code works in milliseconds only, converted once at load.
 */
export function parseDuration(text: string): number | null {
  const match = DURATION_PATTERN.exec(text.trim());
  if (!match) return null;
  const [, amount, unit] = match;
  return Math.round(Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS]);
}
