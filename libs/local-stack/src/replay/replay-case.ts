import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** Where a case's extra files live inside its folder, laid out as they go into the repository. */
export const REPLAY_CASE_REPO_DIR = 'repo';

const relativePath = z
  .string()
  .min(1)
  .refine(
    (path) => !path.startsWith('/') && !path.includes('\\') && path.split('/').every((segment) => segment !== '..' && segment !== '' && segment !== '.git'),
    'expected a relative path with /, no .., not into .git',
  );

const npmVersion = z.string().regex(/^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/, 'expected an exact version like 1.2.3');

/** Where the code at base comes from: always a registry these machines reach, never a commit. */
const sourceSchema = z.union([
  z.strictObject({ npm: z.strictObject({ name: z.string().min(1), version: npmVersion }) }),
  z.strictObject({
    pypi: z.strictObject({
      name: z.string().min(1),
      version: z.string().min(1),
      file: z.string().regex(/\.(?:whl|tar\.gz|zip)$/, 'expected a wheel or sdist file name'),
    }),
  }),
  z.strictObject({
    debian: z.strictObject({
      package: z.string().min(1),
      version: z.string().min(1),
      /** The folder inside the unpacked .deb that becomes the repository. */
      path: relativePath,
    }),
  }),
]);

/**
 * How the fix is known: the next npm release (its difference in the listed files, computed
 * at materialisation), or a patch of ours next to case.yml for sources with one version.
 */
const fixSchema = z.union([
  z.strictObject({ npm: z.strictObject({ version: npmVersion, files: z.array(relativePath).min(1) }) }),
  z.strictObject({ patch: relativePath }),
]);

export const replayCaseSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{2,80}$/, 'expected a lower-case id of letters, digits and dashes'),
  language: z.enum(['javascript', 'typescript', 'python', 'rust', 'go', 'java']),
  source: sourceSchema,
  fix: fixSchema,
  upstream: z.url({ protocol: /^https$/ }),
  ticket: z.strictObject({ title: z.string().min(5).max(200), description: z.string().min(20) }),
  expect: z.enum(['SUCCEEDED', 'FAILED']),
  /** The failure code a job must end with when `expect` is FAILED. */
  expectFailure: z.string().regex(/^[A-Z_]+$/, 'expected a failure code such as TESTS_FAILED').optional(),
  /**
   * How the scripted model goes about it (see scriptedConversation): `fix` (default),
   * `fail-then-fix`, `malformed-then-fix`, or `wrong-fix` (which must end FAILED).
   */
  conversation: z.enum(['fix', 'fail-then-fix', 'malformed-then-fix', 'wrong-fix']).default('fix'),
  /**
   * Environment the setup step needs, as a worker's config would give it; `{npmMirror}` and
   * `{pythonIndex}` stand for the mirrors the test starts.
   */
  setupEnv: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
  /** Files added to the repository at base, relative to the case's repo/ folder and to the repository root. */
  files: z.array(relativePath).min(1),
});

export type ReplayCaseDefinition = z.output<typeof replayCaseSchema>;

/** A case as loaded: its definition and the folder it came from. */
export interface ReplayCase {
  readonly dir: string;
  readonly definition: ReplayCaseDefinition;
}

/** The part of `.airlock.yml` the verification script runs; the worker validates the whole file. */
export const replayRepoConfigSchema = z.object({
  version: z.literal(1),
  setup: z.object({ commands: z.array(z.array(z.string().min(1)).min(1)).min(1) }).optional(),
  test: z.object({ command: z.array(z.string().min(1)).min(1), junit: z.array(z.string().min(1)).optional() }),
});

export type ReplayRepoConfig = z.output<typeof replayRepoConfigSchema>;

const describeIssues = (error: z.ZodError): string =>
  error.issues.map((issue) => `  ${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`).join('\n');

/**
 * Reads and validates `<dir>/case.yml`, and checks that every file it names is there: the
 * extra files under repo/ (with an `.airlock.yml` among them) and the fix patch.
 */
export function loadReplayCase(dir: string): ReplayCase {
  const file = join(dir, 'case.yml');
  if (!existsSync(file)) throw new Error(`${file}: no case.yml in this case folder`);
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: not valid YAML: ${(error as Error).message}`);
  }
  const parsed = replayCaseSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${file}: invalid case definition:\n${describeIssues(parsed.error)}`);
  const definition = parsed.data;
  if ((definition.expect === 'FAILED') !== (definition.expectFailure !== undefined)) throw new Error(`${file}: expectFailure: expected exactly when expect is FAILED`);
  const missing = definition.files.filter((path) => !existsSync(join(dir, REPLAY_CASE_REPO_DIR, path)));
  if (missing.length > 0) throw new Error(`${file}: files: not found under ${REPLAY_CASE_REPO_DIR}/: ${missing.join(', ')}`);
  if (!definition.files.includes('.airlock.yml')) throw new Error(`${file}: files: must include the repository's .airlock.yml`);
  if ('patch' in definition.fix && !existsSync(join(dir, definition.fix.patch))) throw new Error(`${file}: fix.patch: ${definition.fix.patch} not found next to case.yml`);
  return { dir, definition };
}

/** Reads the case's `.airlock.yml` (the setup and test commands the verification runs). */
export function readReplayRepoConfig(replayCase: ReplayCase): ReplayRepoConfig {
  const file = join(replayCase.dir, REPLAY_CASE_REPO_DIR, '.airlock.yml');
  const parsed = replayRepoConfigSchema.safeParse(parseYaml(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file}: invalid .airlock.yml:\n${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** Replaces the `{npmMirror}` and `{pythonIndex}` placeholders of a case's setupEnv. */
export function resolveSetupEnv(setupEnv: Readonly<Record<string, string>>, mirrors: { npmMirror?: string; pythonIndex?: string }): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const [name, value] of Object.entries(setupEnv)) {
    resolved[name] = value.replace(/\{(npmMirror|pythonIndex)\}/g, (_, placeholder: 'npmMirror' | 'pythonIndex') => {
      const url = mirrors[placeholder];
      if (!url) throw new Error(`setupEnv.${name} needs {${placeholder}}, but no such mirror was given`);
      return url;
    });
  }
  return resolved;
}
