import { z } from 'zod';
import { parseDuration } from '@airlock/duration';
import { PolicyRule, type PolicyRule__Output } from '@airlock/protocol';

/**
 * The rules of a policy, by the id an admin writes in the document and reads in every
 * report. On the wire each travels as its `PolicyRule` enum value (RULE_IDS_TO_WIRE).
 */
export const RULE_IDS = [
  'job-kinds',
  'repositories',
  'base-refs',
  'protected-paths',
  'max-files-changed',
  'max-lines-changed',
  'secrets',
  'dependency-manifests',
  'denied-packages',
  'denied-licenses',
  'tests-must-pass',
  'min-tests-run',
  'inference-endpoints',
  'inference-token-budget',
  'inference-time-budget',
  'metadata-level',
] as const;

export type RuleId = (typeof RULE_IDS)[number];

/** Each rule id's `PolicyRule` wire value. */
export const RULE_IDS_TO_WIRE: Readonly<Record<RuleId, PolicyRule__Output>> = {
  'job-kinds': PolicyRule.RULE_JOB_KINDS,
  repositories: PolicyRule.RULE_REPOSITORIES,
  'base-refs': PolicyRule.RULE_BASE_REFS,
  'protected-paths': PolicyRule.RULE_PROTECTED_PATHS,
  'max-files-changed': PolicyRule.RULE_MAX_FILES_CHANGED,
  'max-lines-changed': PolicyRule.RULE_MAX_LINES_CHANGED,
  secrets: PolicyRule.RULE_SECRETS,
  'dependency-manifests': PolicyRule.RULE_DEPENDENCY_MANIFESTS,
  'denied-packages': PolicyRule.RULE_DENIED_PACKAGES,
  'denied-licenses': PolicyRule.RULE_DENIED_LICENSES,
  'tests-must-pass': PolicyRule.RULE_TESTS_MUST_PASS,
  'min-tests-run': PolicyRule.RULE_MIN_TESTS_RUN,
  'inference-endpoints': PolicyRule.RULE_INFERENCE_ENDPOINTS,
  'inference-token-budget': PolicyRule.RULE_INFERENCE_TOKEN_BUDGET,
  'inference-time-budget': PolicyRule.RULE_INFERENCE_TIME_BUDGET,
  'metadata-level': PolicyRule.RULE_METADATA_LEVEL,
};

/** The rule id of a `PolicyRule` wire value, or undefined for UNSPECIFIED or an unknown value. */
export function ruleIdOfWire(rule: PolicyRule | string): RuleId | undefined {
  return RULE_IDS.find((id) => RULE_IDS_TO_WIRE[id] === rule);
}

/**
 * The rules evaluated on a candidate change or its test run. Each carries an enforcement
 * level; the others are limits of what a job may do at all, always mandatory.
 */
export const ENFORCEABLE_RULE_IDS = [
  'protected-paths',
  'max-files-changed',
  'max-lines-changed',
  'secrets',
  'dependency-manifests',
  'denied-packages',
  'denied-licenses',
  'tests-must-pass',
  'min-tests-run',
] as const satisfies readonly RuleId[];

export type EnforceableRuleId = (typeof ENFORCEABLE_RULE_IDS)[number];

/**
 * The largest value each limit can take in a policy document or a worker's config, whatever
 * else they say: no job can go past these, so a result that does reports something no
 * worker measured.
 */
export const LIMIT_CEILINGS = {
  filesChanged: 10_000,
  linesChanged: 1_000_000,
  jobTokens: 100_000_000,
  /** One completion's `max_tokens` (the worker's `limits.maxModelTokens`). */
  answerTokens: 1_000_000,
} as const;

/** `advisory`: recorded, the job goes on. `mandatory`: the job is stopped. */
export const RULE_LEVELS = ['advisory', 'mandatory'] as const;
export type RuleLevel = (typeof RULE_LEVELS)[number];

/** Paths the agent may not touch unless a policy says otherwise: the repository's own Airlock and CI config. */
export const DEFAULT_PROTECTED_PATHS: readonly string[] = [
  '.airlock.yml',
  '.github/workflows/**',
  '.gitlab-ci.yml',
  '.gitlab/**',
  '.circleci/**',
  '.buildkite/**',
  'Jenkinsfile',
  'azure-pipelines.yml',
  '.azure-pipelines/**',
  'bitbucket-pipelines.yml',
  '.drone.yml',
  '.travis.yml',
];

const ALIAS_GLOB = /^[a-z0-9*?][a-z0-9._*?-]{0,62}$/;
const LABEL = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const ENDPOINT_NAME = /^[A-Za-z0-9._-]{1,64}$/;
// Same shape as a base ref on the wire, plus `*` (which matches any run of characters but `/`).
const BASE_REF_GLOB = /^(?!-)(?!\/)(?!.*\.\.)(?!.*\/\/)(?!.*@\{)(?!refs\/)[A-Za-z0-9._/*-]{1,200}(?<![./])$/;
// A repository-relative path glob: no leading `/`, no `..` segment, no backslash or control character.
// eslint-disable-next-line no-control-regex -- control characters are what it refuses
const PATH_GLOB = /^(?!\/)(?!.*(^|\/)\.\.(\/|$))[^\\\u0000-\u001f]{1,300}$/;
// npm names (scoped or not), PyPI and crates.io names: lowercase letters, digits and . _ - / @.
const PACKAGE_NAME = /^(@[a-z0-9][a-z0-9._-]{0,213}\/)?[a-z0-9][a-z0-9._-]{0,213}$/;
// An SPDX licence identifier such as GPL-3.0-only, AGPL-3.0-or-later, SSPL-1.0, LicenseRef-x.
const SPDX_ID = /^[A-Za-z0-9][A-Za-z0-9.+-]{0,99}$/;

const level = z.enum(RULE_LEVELS, { error: 'expected advisory or mandatory' }).default('mandatory');

const list = <T extends z.ZodType>(item: T, max: number, what: string) => z.array(item).max(max, `expected at most ${max} ${what}`);

const timeBudget = z
  .string({ error: 'expected a duration like 30s, 15m or 1h' })
  .transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined || ms === null || ms < 1_000 || ms > 24 * 3_600_000) {
      ctx.addIssue({ code: 'custom', message: 'expected a duration from 1s to 24h, like 30s, 15m or 1h' });
      return z.NEVER;
    }
    return ms;
  });

/** Every rule of a policy document, each optional: a rule left out says nothing (the other layers and local policy decide). */
export const policyRulesSchema = z.strictObject({
  'job-kinds': z.strictObject({
    allowed: list(z.enum(['fix', 'noop', 'review', 'index'], { error: 'expected fix, noop, review or index' }), 4, 'job kinds'),
  }),
  repositories: z.strictObject({
    allowed: list(z.string().regex(ALIAS_GLOB, 'expected a repository alias or a glob of one ([a-z0-9._-], * and ?)'), 500, 'aliases'),
  }),
  'base-refs': z.strictObject({
    allowed: z
      .record(
        z.string().regex(ALIAS_GLOB, 'expected a repository alias or a glob of one as key'),
        list(z.string().regex(BASE_REF_GLOB, 'expected a branch name without refs/heads/, or a glob such as release/*'), 50, 'branches').min(1, 'expected at least one branch'),
      )
      .refine((record) => Object.keys(record).length <= 500, 'expected at most 500 aliases'),
  }),
  'protected-paths': z.strictObject({
    paths: list(z.string().regex(PATH_GLOB, 'expected a repository-relative path glob (no leading /, no .. segment)'), 200, 'paths'),
    level,
  }),
  'max-files-changed': z.strictObject({
    max: z.number().int('expected an integer').min(1, 'expected at least 1').max(LIMIT_CEILINGS.filesChanged, `expected at most ${LIMIT_CEILINGS.filesChanged}`),
    level,
  }),
  'max-lines-changed': z.strictObject({
    max: z.number().int('expected an integer').min(1, 'expected at least 1').max(LIMIT_CEILINGS.linesChanged, `expected at most ${LIMIT_CEILINGS.linesChanged}`),
    level,
  }),
  secrets: z.strictObject({ enabled: z.boolean({ error: 'expected true or false' }), level }),
  'dependency-manifests': z.strictObject({ allowChanges: z.boolean({ error: 'expected true or false' }), level }),
  'denied-packages': z.strictObject({
    packages: list(z.string().regex(PACKAGE_NAME, 'expected a package name such as left-pad or @scope/name'), 1_000, 'packages'),
    level,
  }),
  'denied-licenses': z.strictObject({
    licenses: list(z.string().regex(SPDX_ID, 'expected an SPDX licence id such as AGPL-3.0-only'), 200, 'licences'),
    level,
  }),
  'tests-must-pass': z.strictObject({ required: z.boolean({ error: 'expected true or false' }), level }),
  'min-tests-run': z.strictObject({
    min: z.number().int('expected an integer').min(0, 'expected at least 0').max(100_000, 'expected at most 100000'),
    level,
  }),
  'inference-endpoints': z.strictObject({
    allowed: list(z.string().regex(ENDPOINT_NAME, "expected an endpoint name from the worker's catalog ([A-Za-z0-9._-]{1,64})"), 64, 'endpoints'),
  }),
  'inference-token-budget': z.strictObject({
    max: z.number().int('expected an integer').min(1_000, 'expected at least 1000').max(LIMIT_CEILINGS.jobTokens, `expected at most ${LIMIT_CEILINGS.jobTokens}`),
  }),
  'inference-time-budget': z.strictObject({ max: timeBudget }),
  'metadata-level': z.strictObject({
    report: z.enum(['minimal', 'standard'], { error: 'expected minimal or standard' }),
    buckets: z.boolean({ error: 'expected true or false' }).default(false),
  }),
}).partial();

/** A policy document as an admin writes it (JSON over the API, YAML in a worker's config). */
export const policyDocumentSchema = z.strictObject({
  schemaVersion: z.literal(1, { error: 'expected 1' }),
  description: z.string().max(2_000, 'expected at most 2000 characters').optional(),
  rules: policyRulesSchema,
});

export type PolicyRules = z.output<typeof policyRulesSchema>;
export type PolicyDocument = z.output<typeof policyDocumentSchema>;
/** The document as written, before defaults (level: mandatory, buckets: false) and duration parsing. */
export type PolicyDocumentInput = z.input<typeof policyDocumentSchema>;

/** One layer of a signed bundle: a published version and where it applies. */
export const bundleLayerSchema = z
  .strictObject({
    scope: z.enum(['tenant', 'pool', 'repository'], { error: 'expected tenant, pool or repository' }),
    /** The pool label (scope pool) or the repository alias (scope repository); absent for tenant. */
    key: z.string().regex(LABEL, 'expected a pool label or repository alias ([a-z0-9][a-z0-9._-]{0,62})').optional(),
    policyId: z.uuid({ error: 'expected a UUID' }),
    version: z.number().int('expected an integer').min(1, 'expected at least 1'),
    /** `shadow` layers are evaluated beside the enforced ones and stop nothing. */
    mode: z.enum(['enforce', 'shadow'], { error: 'expected enforce or shadow' }),
    document: policyDocumentSchema,
  })
  .superRefine((layer, ctx) => {
    if ((layer.scope === 'tenant') !== (layer.key === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['key'], message: layer.scope === 'tenant' ? 'expected no key for the tenant scope' : `expected the ${layer.scope === 'pool' ? 'pool label' : 'repository alias'} the layer applies to` });
    }
  });

/** The `layers_json` of a signed policy bundle. At most one enforce and one shadow layer per scope and key. */
export const bundleLayersSchema = z
  .strictObject({ layers: list(bundleLayerSchema, 256, 'layers') })
  .superRefine((bundle, ctx) => {
    const seen = new Set<string>();
    bundle.layers.forEach((layer, index) => {
      const slot = `${layer.scope}:${layer.key ?? ''}:${layer.mode}`;
      if (seen.has(slot)) ctx.addIssue({ code: 'custom', path: ['layers', index], message: `expected one ${layer.mode} layer per scope and key (this ${layer.scope} layer repeats one)` });
      seen.add(slot);
    });
  });

export type BundleLayer = z.output<typeof bundleLayerSchema>;
export type BundleLayers = z.output<typeof bundleLayersSchema>;

/** One reason a document was refused: where, and what was expected there. Never the value itself. */
export interface PolicyFieldError {
  /** Dotted path with [index] for arrays, e.g. `rules.protected-paths.paths[2]`. */
  readonly path: string;
  readonly expected: string;
}

export type PolicyParseResult<T> = { ok: true; value: T } | { ok: false; errors: PolicyFieldError[] };

/** Validates a policy document, naming the path of every field that is wrong. */
export function parsePolicyDocument(input: unknown): PolicyParseResult<PolicyDocument> {
  return parseWith(policyDocumentSchema, input);
}

/** Validates a bundle's layers (after the bundle's signature has been verified). */
export function parseBundleLayers(input: unknown): PolicyParseResult<BundleLayers> {
  return parseWith(bundleLayersSchema, input);
}

function parseWith<S extends z.ZodType>(schema: S, input: unknown): PolicyParseResult<z.output<S>> {
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, errors: result.error.issues.map((issue) => ({ path: formatPath(issue.path), expected: expectedOf(issue) })) };
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text.length === 0 ? String(segment) : `.${String(segment)}`;
  }
  return text.length === 0 ? '(document)' : text;
}

function expectedOf(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `no field ${issue.keys.map((key) => `"${key}"`).join(', ')} (unknown here)`;
  if (issue.code === 'invalid_type' && issue.input === undefined) return `a value (${issue.expected} is required)`;
  const message = issue.message;
  return message.startsWith('expected ') ? message.slice('expected '.length) : message;
}
