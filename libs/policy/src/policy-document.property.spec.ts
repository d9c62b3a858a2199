import * as fc from 'fast-check';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { InstructionPayload__Output } from '@airlock/protocol';
import { isBaseRefAllowedByPolicy, isRepositoryAllowed, localEffectivePolicy, mergePolicy, type EffectivePolicy, type LocalPolicyInput } from './effective-policy';
import type { TaskKind } from './local-policy';
import {
  DEFAULT_PROTECTED_PATHS,
  parseBundleLayers,
  parsePolicyDocument,
  type PolicyDocument,
  type PolicyDocumentInput,
  type PolicyParseResult,
} from './policy-document';
import { selectLayers } from './policy-layers';
import { evaluateTaskAdmission } from './task-admission';

// Property tests of the policy parser and of the merge of central documents into a worker's
// local policy. The parser takes any JSON or YAML value and answers with the document or
// with field errors, never an exception; a merge is deterministic, does not depend on the
// order of the documents, and only ever narrows the local policy.

// ─── Arbitraries: small vocabularies, so that documents overlap and merges interact ───

const ALIASES = ['payments-api', 'billing', 'web', 'api-1'] as const;
const ALIAS_GLOBS = [...ALIASES, '*', 'pay*', 'b?lling', 'web*', 'api-?'];
const BASE_REFS = ['main', 'develop', 'release/1', 'release/2', 'feature/x', 'airlock/job-1'];
const BASE_REF_GLOBS = [...BASE_REFS, 'release/*', 'feature/*', '*'];
const TASK_KINDS: readonly TaskKind[] = ['fix', 'noop', 'review', 'index'];
const ENDPOINTS = ['gpu-a', 'gpu-b', 'cpu'];
const PATHS = [...DEFAULT_PROTECTED_PATHS, 'src/**', 'deploy/**', 'docs/*.md'];
const PACKAGES = ['left-pad', '@scope/name', 'requests', 'serde'];
const LICENCES = ['GPL-3.0-only', 'gpl-3.0-only', 'AGPL-3.0-or-later', 'SSPL-1.0', 'MIT'];

const level = fc.constantFrom('advisory', 'mandatory');
const subset = <T>(values: readonly T[]) => fc.subarray([...values]);

/** The `rules` of a valid policy document as an admin writes it (before defaults). */
const rulesInput: fc.Arbitrary<PolicyDocumentInput['rules']> = fc.record(
  {
    'job-kinds': fc.record({ allowed: subset(TASK_KINDS) }),
    repositories: fc.record({ allowed: subset(ALIAS_GLOBS) }),
    'base-refs': fc.record({ allowed: fc.dictionary(fc.constantFrom(...ALIAS_GLOBS), subset(BASE_REF_GLOBS).filter((refs) => refs.length > 0), { maxKeys: 3 }) }),
    'protected-paths': fc.record({ paths: subset(PATHS), level }, { requiredKeys: ['paths'] }),
    'max-files-changed': fc.record({ max: fc.integer({ min: 1, max: 10_000 }), level }, { requiredKeys: ['max'] }),
    'max-lines-changed': fc.record({ max: fc.integer({ min: 1, max: 1_000_000 }), level }, { requiredKeys: ['max'] }),
    secrets: fc.record({ enabled: fc.boolean(), level }, { requiredKeys: ['enabled'] }),
    'dependency-manifests': fc.record({ allowChanges: fc.boolean(), level }, { requiredKeys: ['allowChanges'] }),
    'denied-packages': fc.record({ packages: subset(PACKAGES), level }, { requiredKeys: ['packages'] }),
    'denied-licenses': fc.record({ licenses: subset(LICENCES), level }, { requiredKeys: ['licenses'] }),
    'tests-must-pass': fc.record({ required: fc.boolean(), level }, { requiredKeys: ['required'] }),
    'min-tests-run': fc.record({ min: fc.integer({ min: 0, max: 100_000 }), level }, { requiredKeys: ['min'] }),
    'inference-endpoints': fc.record({ allowed: subset(ENDPOINTS) }),
    'inference-token-budget': fc.record({ max: fc.integer({ min: 1_000, max: 100_000_000 }) }),
    'inference-time-budget': fc.record({ max: fc.constantFrom('1s', '30s', '15m', '1h', '1.5h', '24h') }),
    'metadata-level': fc.record({ report: fc.constantFrom('minimal', 'standard'), buckets: fc.boolean() }, { requiredKeys: ['report'] }),
  },
  { requiredKeys: [] },
);

const documentInput: fc.Arbitrary<PolicyDocumentInput> = fc.record(
  { schemaVersion: fc.constant(1 as const), description: fc.string({ maxLength: 100 }), rules: rulesInput },
  { requiredKeys: ['schemaVersion', 'rules'] },
);

function parsedOrThrow(input: unknown): PolicyDocument {
  const parsed = parsePolicyDocument(input);
  if (!parsed.ok) throw new Error(`generated document refused: ${JSON.stringify(parsed.errors)}`);
  return parsed.value;
}

const policyDocument = documentInput.map(parsedOrThrow);

/** What a worker's config says: a catalog, base-ref rules, limits and local `policy.rules`. */
const localPolicyInput: fc.Arbitrary<LocalPolicyInput> = fc
  .record({
    allowedTaskKinds: subset(TASK_KINDS),
    repoAliases: subset(ALIASES),
    baseRefs: fc.array(fc.tuple(subset(BASE_REF_GLOBS), subset(['airlock/', 'Feature/', 'release/2']))),
    endpointNames: fc.shuffledSubarray(ENDPOINTS),
    maxChangedFiles: fc.integer({ min: 1, max: 10_000 }),
    maxChangedLines: fc.integer({ min: 1, max: 1_000_000 }),
    maxJobTokens: fc.integer({ min: 1_000, max: 100_000_000 }),
    agentTimeoutMs: fc.integer({ min: 1_000, max: 86_400_000 }),
    rules: rulesInput.map((rules) => parsedOrThrow({ schemaVersion: 1, rules }).rules),
  })
  .map(({ baseRefs, ...input }) => ({
    ...input,
    baseRefRules: new Map(input.repoAliases.map((alias, index) => [alias, { allowed: baseRefs[index]?.[0] ?? ['main'], forbiddenPrefixes: baseRefs[index]?.[1] ?? [] }])),
  }));

const localPolicy = localPolicyInput.map(localEffectivePolicy);

/** Every task a probe instruction can ask for, on every alias and base ref of the vocabularies. */
const PROBES: readonly InstructionPayload__Output[] = [
  ...['fix', 'index'].flatMap((task) =>
    [...ALIASES, 'unknown'].flatMap((alias) =>
      BASE_REFS.map((ref) => ({ task, fix: { repoAlias: alias, baseRef: ref }, index: { repoAlias: alias, ref } }) as unknown as InstructionPayload__Output),
    ),
  ),
  ...[...ALIASES, 'unknown'].map((alias) => ({ task: 'review', review: { repoAlias: alias } }) as unknown as InstructionPayload__Output),
  { task: 'noop', noop: {} } as unknown as InstructionPayload__Output,
];

/** The probes a policy admits, by index: two policies that admit the same ones decide alike. */
const admitted = (policy: EffectivePolicy): number[] => PROBES.flatMap((probe, index) => (evaluateTaskAdmission(probe, policy).allowed ? [index] : []));

const levelRank = (value: 'advisory' | 'mandatory') => (value === 'mandatory' ? 1 : 0);
const isSubsequence = (inner: readonly string[], outer: readonly string[]) => {
  let at = 0;
  for (const item of outer) if (item === inner[at]) at += 1;
  return at === inner.length;
};

/** Whether `strict` is at least as strict as `loose` on every rule. Fails the test on the first rule that is not. */
function expectAtLeastAsStrict(strict: EffectivePolicy, loose: EffectivePolicy): void {
  expect(loose.jobKinds).toEqual(expect.arrayContaining([...strict.jobKinds]));
  expect(admitted(loose)).toEqual(expect.arrayContaining(admitted(strict)));
  for (const alias of ALIASES) {
    if (isRepositoryAllowed(strict, alias)) expect(isRepositoryAllowed(loose, alias)).toBe(true);
    for (const ref of BASE_REFS) if (isBaseRefAllowedByPolicy(strict, alias, ref)) expect(isBaseRefAllowedByPolicy(loose, alias, ref)).toBe(true);
  }
  expect(strict.protectedPaths.paths).toEqual(expect.arrayContaining([...loose.protectedPaths.paths]));
  for (const rule of ['protectedPaths', 'maxFilesChanged', 'maxLinesChanged', 'secrets', 'dependencyManifests', 'deniedPackages', 'deniedLicenses', 'testsMustPass', 'minTestsRun'] as const) {
    expect(levelRank(strict[rule].level)).toBeGreaterThanOrEqual(levelRank(loose[rule].level));
  }
  expect(strict.maxFilesChanged.max).toBeLessThanOrEqual(loose.maxFilesChanged.max);
  expect(strict.maxLinesChanged.max).toBeLessThanOrEqual(loose.maxLinesChanged.max);
  if (loose.secrets.enabled) expect(strict.secrets.enabled).toBe(true);
  if (!loose.dependencyManifests.allowChanges) expect(strict.dependencyManifests.allowChanges).toBe(false);
  expect(strict.deniedPackages.packages).toEqual(expect.arrayContaining([...loose.deniedPackages.packages]));
  const strictLicences = strict.deniedLicenses.licenses.map((id) => id.toLowerCase());
  expect(strictLicences).toEqual(expect.arrayContaining(loose.deniedLicenses.licenses.map((id) => id.toLowerCase())));
  if (loose.testsMustPass.required) expect(strict.testsMustPass.required).toBe(true);
  expect(strict.minTestsRun.min).toBeGreaterThanOrEqual(loose.minTestsRun.min);
  expect(isSubsequence(strict.inferenceEndpoints, loose.inferenceEndpoints)).toBe(true);
  expect(strict.inferenceTokenBudget).toBeLessThanOrEqual(loose.inferenceTokenBudget);
  expect(strict.inferenceTimeBudgetMs).toBeLessThanOrEqual(loose.inferenceTimeBudgetMs);
  if (loose.metadata.report === 'minimal') expect(strict.metadata.report).toBe('minimal');
  if (loose.metadata.buckets) expect(strict.metadata.buckets).toBe(true);
}

/** A parse result either holds the value or names at least one field, each with what was expected. */
function expectWellFormedResult<T>(result: PolicyParseResult<T>): void {
  if (result.ok) return;
  expect(result.errors.length).toBeGreaterThan(0);
  for (const error of result.errors) {
    expect(typeof error.path).toBe('string');
    expect(error.expected).toMatch(/\S/);
  }
}

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

/** A planted value no schema message could contain unless it quoted the value itself. */
const PLANTED = 'planted-value-7f3a';

/** A valid document with one value or list replaced by something hostile (wrong type, huge, the planted value). */
const mutatedDocument = documentInput.chain((input) =>
  fc
    .constantFrom(...leafPaths(input))
    .chain((path) =>
      fc
        .oneof(
          fc.anything(),
          fc.constant(PLANTED),
          fc.constant([PLANTED]),
          fc.constantFrom(-1, 0, 1.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, 1e308),
          fc.nat({ max: 100_000 }).map((length) => 'x'.repeat(length)),
          fc.nat({ max: 20_000 }).map((count) => Array.from({ length: count }, () => 'main')),
        )
        .map((replacement) => setAt(input, path, replacement)),
    ),
);

/** YAML text built from the tokens that matter to the schema and to YAML itself (anchors, tags, flow collections). */
const yamlishText = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        'schemaVersion: 1', 'rules:', '  secrets:', '    enabled: true', '    level: advisory', '  max-files-changed:', '    max: 12',
        '  job-kinds: {allowed: [fix, noop]}', '  repositories:', '    allowed:', '      - "*"', '      - payments-api', '&a [1, 2]', '*a',
        '<<: *a', '!!binary aGVsbG8=', '!!str 1', '? complex', ': key', '- - -', '{', '}', '[', ']', '---', '...', '%YAML 1.2', '"unterminated',
        "'q'", '~', 'null', '0x1F', '1e309', '.inf', '-.nan', '|', '>-', '  ', '\t', '#', 'description: |', '  text', '__proto__: {polluted: 1}', 'constructor: x',
      ),
      fc.string({ maxLength: 20 }),
    ),
    { maxLength: 25 },
  )
  .map((lines) => lines.join('\n'));

// ─── Properties ───

describe('parsePolicyDocument and parseBundleLayers: properties', () => {
  it('accepts every valid document, and the same document after a JSON or YAML round trip', () => {
    fc.assert(
      fc.property(documentInput, (input) => {
        const parsed = parsePolicyDocument(input);
        expect(parsed.ok).toBe(true);
        expect(parsePolicyDocument(JSON.parse(JSON.stringify(input)))).toEqual(parsed);
        expect(parsePolicyDocument(parseYaml(stringifyYaml(input)))).toEqual(parsed);
      }),
      { numRuns: 300 },
    );
  });

  it('answers any JSON or JavaScript value with a document or named field errors, never an exception', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.anything(), fc.record({ schemaVersion: fc.constant(1), rules: fc.dictionary(fc.string(), fc.jsonValue()) })), (input) => {
        expectWellFormedResult(parsePolicyDocument(input));
        expectWellFormedResult(parseBundleLayers(input));
        expectWellFormedResult(parseBundleLayers({ layers: [input] }));
      }),
      { numRuns: 500 },
    );
  });

  it('answers a valid document with one hostile value with a document or field errors that never quote the value', () => {
    fc.assert(
      fc.property(mutatedDocument, (input) => {
        const result = parsePolicyDocument(input);
        expectWellFormedResult(result);
        if (!result.ok) for (const error of result.errors) expect(`${error.path} ${error.expected}`).not.toContain(PLANTED);
      }),
      { numRuns: 500 },
    );
  });

  it('answers whatever random YAML parses to with a document or field errors', () => {
    fc.assert(
      fc.property(yamlishText, (text) => {
        let value: unknown;
        try {
          value = parseYaml(text);
        } catch {
          return; // The YAML library's own refusal: the worker's config loader reports it as invalid YAML.
        }
        expectWellFormedResult(parsePolicyDocument(value));
        expectWellFormedResult(parsePolicyDocument({ schemaVersion: 1, rules: value }));
      }),
      { numRuns: 500 },
    );
  });
});

describe('mergePolicy: properties', () => {
  it('only ever narrows the local policy, and is at least as strict as each document merged alone', () => {
    fc.assert(
      fc.property(localPolicy, fc.array(policyDocument, { maxLength: 4 }), (local, documents) => {
        const { effective } = mergePolicy(local, documents);
        expectAtLeastAsStrict(effective, local);
        for (const document of documents) expectAtLeastAsStrict(effective, mergePolicy(local, [document]).effective);
      }),
      { numRuns: 200 },
    );
  });

  it('is deterministic, and the order of the documents changes no decision and no narrowed rule', () => {
    const documentsAndPermutation = fc.array(policyDocument, { maxLength: 4 }).chain((documents) => fc.tuple(fc.constant(documents), fc.shuffledSubarray(documents, { minLength: documents.length, maxLength: documents.length })));
    fc.assert(
      fc.property(localPolicy, documentsAndPermutation, (local, [documents, permuted]) => {
        const merged = mergePolicy(local, documents);
        expect(mergePolicy(local, documents)).toEqual(merged);
        const reordered = mergePolicy(local, permuted);
        expect(reordered.narrowed).toEqual(merged.narrowed);
        expect(admitted(reordered.effective)).toEqual(admitted(merged.effective));
        // Both are at least as strict as each other: the same policy, whatever order its lists are in.
        expectAtLeastAsStrict(reordered.effective, merged.effective);
        expectAtLeastAsStrict(merged.effective, reordered.effective);
      }),
      { numRuns: 200 },
    );
  });

  it('merging no document, or an empty one, leaves the local policy as it is', () => {
    fc.assert(
      fc.property(localPolicy, (local) => {
        expect(mergePolicy(local, [])).toEqual({ effective: local, narrowed: [] });
        expect(mergePolicy(local, [{ schemaVersion: 1, rules: {} }])).toEqual({ effective: local, narrowed: [] });
      }),
      { numRuns: 100 },
    );
  });

  it('merging a document twice decides as merging it once', () => {
    fc.assert(
      fc.property(localPolicy, policyDocument, (local, document) => {
        const once = mergePolicy(local, [document]);
        const twice = mergePolicy(local, [document, document]);
        expect(twice.narrowed).toEqual(once.narrowed);
        expectAtLeastAsStrict(once.effective, twice.effective);
        expectAtLeastAsStrict(twice.effective, once.effective);
      }),
      { numRuns: 200 },
    );
  });
});

describe('selectLayers: properties', () => {
  const POLICY_ID = '0b7f3f8e-1c52-4d7a-9a55-0d4b5d3c2e11';
  const layer = fc
    .record({
      scope: fc.constantFrom('tenant', 'pool', 'repository'),
      key: fc.constantFrom('gpu', 'eu', ...ALIASES),
      mode: fc.constantFrom('enforce', 'shadow'),
      version: fc.integer({ min: 1, max: 1000 }),
      document: documentInput,
    })
    .map(({ scope, key, ...rest }) => ({ scope, ...(scope === 'tenant' ? {} : { key }), policyId: POLICY_ID, ...rest }));
  const slot = (candidate: { scope: string; key?: string; mode: string }) => `${candidate.scope}:${candidate.key ?? ''}:${candidate.mode}`;
  const bundleAndPermutation = fc
    .uniqueArray(layer, { maxLength: 8, selector: slot })
    .chain((layers) => fc.tuple(fc.constant(layers), fc.shuffledSubarray(layers, { minLength: layers.length, maxLength: layers.length })));
  const target = fc.record({ labels: subset(['gpu', 'eu', 'other']), repoAlias: fc.option(fc.constantFrom(...ALIASES), { nil: undefined }) });

  it('selects the same documents in the same order whatever order the bundle lists its layers in', () => {
    fc.assert(
      fc.property(bundleAndPermutation, target, ([layers, permuted], chosen) => {
        const bundle = parseBundleLayers({ layers });
        const reordered = parseBundleLayers({ layers: permuted });
        if (!bundle.ok || !reordered.ok) throw new Error(`generated bundle refused: ${JSON.stringify(bundle.ok ? reordered : bundle)}`);
        expect(selectLayers(reordered.value, chosen)).toEqual(selectLayers(bundle.value, chosen));
      }),
      { numRuns: 300 },
    );
  });
});
