import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from '@airlock/duration';

/** A duration in config (`30s`, `5m`, `250ms`), validated and turned into milliseconds. */
export function durationSchema(message: string) {
  return z
    .string()
    .regex(DURATION_PATTERN, message)
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === null) {
        ctx.addIssue({ code: 'custom', message });
        return z.NEVER;
      }
      return ms;
    });
}
