import { z } from 'zod';
import { durationSchema } from '../../config/duration.schema';

/**
 * The repository's own `.airlock.yml`. The test command comes only from here (or the
 * worker's config), never from an instruction, so a control plane cannot choose what runs.
 */
export const repoConfigSchema = z.strictObject({
  version: z.literal(1),
  test: z.strictObject({
    command: z.array(z.string().min(1).max(4096)).min(1).max(256).describe('argv of the test command; run without a shell.'),
    timeout: durationSchema('expected a duration like 2m').optional(),
  }),
  context: z
    .strictObject({
      include: z.array(z.string().min(1).max(512)).max(100).optional(),
      exclude: z.array(z.string().min(1).max(512)).max(100).optional(),
    })
    .optional(),
});

/** A validated `.airlock.yml`, durations in milliseconds. */
export type RepoConfig = z.output<typeof repoConfigSchema>;
