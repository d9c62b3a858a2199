import { z } from 'zod';

const UNIT_BYTES = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 } as const;

/**
 * How a size is spelt in config: a whole number of bytes, or an amount with a binary unit
 * (`512KiB`, `64MiB`, `1GiB`, `1.5GiB`). A string needs its unit, so that "64" can never
 * silently mean 64 bytes when 64 MiB was meant; decimal units (MB) are refused for the same
 * reason (is it 10^6 or 2^20?).
 */
export const BYTE_SIZE_PATTERN = /^(\d{1,12}(?:\.\d{1,3})?)(B|KiB|MiB|GiB)$/;

/** A size in config, validated and turned into a whole number of bytes within [min, max]. */
export function byteSizeSchema(min: number, max: number, message: string) {
  const inRange = z.number().int(message).min(min, message).max(max, message);
  const spelt = z
    .string()
    .regex(BYTE_SIZE_PATTERN, message)
    .transform((text) => {
      const match = BYTE_SIZE_PATTERN.exec(text) as RegExpExecArray;
      return Math.round(Number(match[1]) * UNIT_BYTES[match[2] as keyof typeof UNIT_BYTES]);
    });
  return z.union([inRange, spelt.pipe(inRange)], { error: message });
}
