import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as fc from 'fast-check';
import { stringify as stringifyYaml } from 'yaml';
import { FailureCode } from '@airlock/protocol';
import { RepoConfigInvalidError } from './repo-config-invalid.error';
import { REPO_CONFIG_FILE, readRepoConfig } from './repo-config.reader';

// Property tests of the `.airlock.yml` loader. The file comes from the repository, which
// anyone with push rights writes: whatever it holds, the loader returns a validated config
// or throws RepoConfigInvalidError (REPO_CONFIG_INVALID, naming the field), never anything
// else; and a valid config written out as YAML reads back as itself.

let worktree: string;

beforeAll(() => {
  worktree = mkdtempSync(join(tmpdir(), 'airlock-repo-config-property-'));
});

afterAll(() => {
  rmSync(worktree, { recursive: true, force: true });
});

/** Reads `text` as the worktree's `.airlock.yml`: the config, or the coded refusal; anything else fails the property. */
async function readAs(text: string): Promise<{ ok: true; config: unknown } | { ok: false; field: string }> {
  writeFileSync(join(worktree, REPO_CONFIG_FILE), text);
  try {
    return { ok: true, config: await readRepoConfig(worktree) };
  } catch (error) {
    if (!(error instanceof RepoConfigInvalidError)) throw error;
    expect(error.failureCode).toBe(FailureCode.REPO_CONFIG_INVALID);
    expect(error.message).toMatch(/^\.airlock\.yml .+: expected \S/);
    return { ok: false, field: error.field };
  }
}

const argvWord = fc.string({ minLength: 1, maxLength: 20 });
const argv = fc.array(argvWord, { minLength: 1, maxLength: 5 });
const repoPath = fc.stringMatching(/^[a-z0-9_-]{1,10}(\/[a-z0-9_.-]{1,10}){0,3}$/).filter((path) => path.split('/').every((segment) => segment !== '..' && segment !== '.' && segment !== '.git') && path !== '.airlock.yml');
const glob = fc.stringMatching(/^[a-z*]{1,10}(\/[a-z*.]{1,10}){0,3}$/);
const DURATIONS: ReadonlyArray<[string, number]> = [['250ms', 250], ['1.5s', 1_500], ['30s', 30_000], ['2m', 120_000], ['1h', 3_600_000]];
const duration = fc.constantFrom(...DURATIONS);

/** A valid `.airlock.yml` as a repository writes it, and what the loader must read from it. */
const validConfig = fc
  .record(
    {
      setup: fc.record({ commands: fc.array(argv, { minLength: 1, maxLength: 3 }), cacheKey: fc.array(repoPath, { maxLength: 3 }), cachePaths: fc.array(repoPath, { maxLength: 3 }), timeout: duration }, { requiredKeys: ['commands'] }),
      test: fc.record({ command: argv, timeout: duration, junit: fc.array(repoPath, { minLength: 1, maxLength: 3 }), paths: fc.array(glob, { minLength: 1, maxLength: 3 }) }, { requiredKeys: ['command'] }),
      context: fc.record({ include: fc.array(glob, { maxLength: 3 }), exclude: fc.array(glob, { maxLength: 3 }) }, { requiredKeys: [] }),
    },
    { requiredKeys: ['test'] },
  )
  .map(({ setup, test, context }) => {
    const written = {
      version: 1,
      ...(setup && { setup: { ...setup, ...(setup.timeout && { timeout: setup.timeout[0] }) } }),
      test: { ...test, ...(test.timeout && { timeout: test.timeout[0] }) },
      ...(context && { context }),
    };
    const expected = {
      version: 1,
      ...(setup && { setup: { cacheKey: [], cachePaths: [], ...setup, ...(setup.timeout && { timeout: setup.timeout[1] }) } }),
      test: { ...test, ...(test.timeout && { timeout: test.timeout[1] }) },
      ...(context && { context }),
    };
    return { written, expected };
  });

type Path = ReadonlyArray<string | number>;

function leafPaths(value: unknown, path: Path = []): Path[] {
  if (value === null || typeof value !== 'object') return path.length > 0 ? [path] : [];
  const entries = Array.isArray(value) ? value.map((item, index) => [index, item] as const) : Object.entries(value);
  return [...(path.length > 0 ? [path] : []), ...entries.flatMap(([key, child]) => leafPaths(child, [...path, key]))];
}

function setAt(root: unknown, path: Path, replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [key, ...rest] = path;
  if (Array.isArray(root)) return root.map((item, index) => (index === key ? setAt(item, rest, replacement) : item));
  const node = root as Record<string, unknown>;
  return { ...node, [key!]: setAt(node[key as string], rest, replacement) };
}

/** A valid config with one value replaced by something hostile, written out as YAML. */
const mutatedConfigText = validConfig.chain(({ written }) =>
  fc.constantFrom(...leafPaths(written)).chain((path) =>
    fc
      .oneof(
        fc.jsonValue(),
        fc.constantFrom('', '/etc/passwd', '../outside', 'a/../../b', '.git/config', '.airlock.yml', 'a\\b', 'a\0b', '0s', '99999999h', 'soon', 2, -1, null, true),
        fc.nat({ max: 50_000 }).map((length) => 'x'.repeat(length)),
        fc.nat({ max: 2_000 }).map((count) => Array.from({ length: count }, () => 'a')),
      )
      .map((replacement) => stringifyYaml(setAt(written, path, replacement))),
  ),
);

/** YAML text from the tokens that matter: the schema's keys, anchors and aliases, tags, flow collections, broken quoting. */
const yamlishText = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        'version: 1', 'version: 2', 'test:', '  command: [make, test]', '  command: "npm test"', '  timeout: 2m', '  junit: [out/*.xml]', 'setup:',
        '  commands: [[npm, ci]]', 'context:', '  include: ["src/**"]', 'a: &x [1, 2]', 'b: *x', 'c: *missing', '<<: *x', '!!binary aGVsbG8=', '!!js/function x',
        '? [complex, key]', ': value', '- - -', '{', '}', '[', ']', '---', '...', '%YAML 1.1', '"unterminated', "'q'", '~', '.inf', '|', '>-', '\t',
        '__proto__: {polluted: true}', 'version: !!str 1', 'version: 0x1', 'test: {command: [make], command: [x]}',
      ),
      fc.string({ maxLength: 20 }),
    ),
    { maxLength: 25 },
  )
  .map((lines) => lines.join('\n'));

/** An alias bomb: each level refers to the previous one ten times (YAML's "billion laughs"). */
const aliasBomb = fc.integer({ min: 1, max: 12 }).map((levels) => {
  const lines = ['l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let level = 1; level <= levels; level += 1) lines.push(`l${level}: &l${level} [${Array.from({ length: 10 }, () => `*l${level - 1}`).join(', ')}]`);
  return `version: 1\ntest:\n  command: [make]\n${lines.join('\n')}\n`;
});

/** Nesting deep enough to exhaust a recursive parser's stack. */
const deepNesting = fc.integer({ min: 1, max: 10_000 }).map((depth) => `version: 1\ntest:\n  command: ${'['.repeat(depth)}${']'.repeat(depth)}\n`);

describe('readRepoConfig: properties', () => {
  it('reads back every valid config written as YAML, durations in milliseconds and defaults filled in', async () => {
    await fc.assert(
      fc.asyncProperty(validConfig, async ({ written, expected }) => {
        expect(await readAs(stringifyYaml(written))).toEqual({ ok: true, config: expected });
      }),
      { numRuns: 200 },
    );
  });

  it('answers a valid config with one hostile value with a config or REPO_CONFIG_INVALID naming a field', async () => {
    await fc.assert(
      fc.asyncProperty(mutatedConfigText, async (text) => {
        const outcome = await readAs(text);
        if (outcome.ok) {
          // Whatever is let through names no file outside the repository, in .git or the config itself.
          const config = outcome.config as { setup?: { cacheKey: string[]; cachePaths: string[] }; test: { junit?: string[] } };
          for (const path of [...(config.setup?.cacheKey ?? []), ...(config.setup?.cachePaths ?? []), ...(config.test.junit ?? [])]) {
            expect(path.startsWith('/') || path.split('/').some((segment) => segment === '..' || segment === '.git') || path === REPO_CONFIG_FILE).toBe(false);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('answers random text and YAML-like text with a config or REPO_CONFIG_INVALID, never another error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), yamlishText), async (text) => {
        await readAs(text);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses alias bombs and deep nesting as REPO_CONFIG_INVALID without running out of memory or stack', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(aliasBomb, deepNesting), async (text) => {
        const outcome = await readAs(text);
        // A small bomb or a shallow nest is a (strange) valid file; what is not must be refused with a code.
        if (outcome.ok) expect(outcome.config).toMatchObject({ version: 1 });
      }),
      { numRuns: 40 },
    );
  });
});
