import { z } from 'zod';
import { durationSchema } from '../../config/duration.schema';

const argv = (what: string) => z.array(z.string().min(1).max(4096)).min(1).max(256).describe(`argv of ${what}; run without a shell.`);

/**
 * A path inside the repository, as `.airlock.yml` names files: relative, with `/`, never
 * climbing out (`..`), never into `.git` and never at `.airlock.yml` itself.
 */
export const repoPathSchema = z
  .string()
  .min(1)
  .max(512)
  .refine(
    (path) =>
      !path.startsWith('/') &&
      !path.includes('\\') &&
      !path.includes('\0') &&
      path.split('/').every((segment) => segment !== '..' && segment !== '.git' && segment !== '') &&
      path !== '.airlock.yml',
    'expected a relative path inside the repository (no leading /, no .., not into .git, not .airlock.yml)',
  );

/**
 * How a repository's dependencies are installed before the agent runs: in the sandbox,
 * with network only to the package mirrors the worker's config names. The result (the
 * `cachePaths` it produces) is cached per repository and digest of the `cacheKey` files.
 * The same shape serves `.airlock.yml` and a worker catalog entry, which wins.
 */
export const setupSchema = z.strictObject({
  commands: z.array(argv('a setup command')).min(1).max(32).describe('Run in order in the repository root; the first to fail fails the job with SETUP_FAILED (SANDBOX_*_LIMIT when it ran past one of the worker\'s sandbox.limits).'),
  cacheKey: z
    .array(repoPathSchema)
    .max(32)
    .default([])
    .describe('Files whose content keys the cached result: lockfiles and manifests (package-lock.json, poetry.lock, go.sum). With none, setup runs every job.'),
  cachePaths: z
    .array(repoPathSchema)
    .max(32)
    .default([])
    .describe('What setup produces and a later job with the same key gets back instead of running setup (node_modules, .venv).'),
  timeout: durationSchema('expected a duration like 10m').optional().describe('Whole-setup timeout (default: the worker\'s setup.timeout).'),
});

/** A validated setup declaration, durations in milliseconds. */
export type SetupConfig = z.output<typeof setupSchema>;

/**
 * The repository's own `.airlock.yml`. The test command comes only from here (or the
 * worker's config), never from an instruction, so a control plane cannot choose what runs.
 */
export const repoConfigSchema = z.strictObject({
  version: z.literal(1),
  setup: setupSchema.optional(),
  test: z.strictObject({
    command: argv('the test command'),
    timeout: durationSchema('expected a duration like 2m').optional(),
    junit: z
      .array(repoPathSchema)
      .min(1)
      .max(16)
      .optional()
      .describe('JUnit XML files the test command writes (globs with * and **): with them the worker counts tests and knows which failed; without, only the exit code.'),
    paths: z
      .array(z.string().min(1).max(512))
      .min(1)
      .max(64)
      .optional()
      .describe('Globs naming the test files, which tell a reproducing test from the fix (default: common test file names of each language).'),
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
