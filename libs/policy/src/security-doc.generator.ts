import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FailureCode, Phase } from '@airlock/protocol';
import { describeResultFields, type ReportedMetadataLevel, type ResultFieldDescription } from './result-fields';

/**
 * The JobResult rows of docs/security.md ("What crosses, field by field"), generated from
 * describeResultFields — the same derivation the control plane's trust view serves — so the
 * page cannot drift from what applyMetadataLevel lets out. Rewrite them with
 *
 *   node -r @swc-node/register libs/policy/src/security-doc.generator.ts
 *
 * (`--check` only reports whether they are current); security-doc.spec.ts fails when they are not.
 */

/** What a model steered by a hostile ticket can do with a field (docs/security.md, the residual channel). */
export type ModelSteering =
  /** Set by the worker, its config, the baseline run or the control plane before the model runs. */
  | 'no'
  /** A number the change, its test runs or the agent's work decide. */
  | 'count'
  /** A test run's exit code. */
  | 'exit-code'
  /** A yes or no the change decides. */
  | 'flag'
  /** Outcome, failure code or failed phase: where and how the job ends. */
  | 'code'
  /** Which policy rules fired on the change, and how. */
  | 'rules'
  /** Wall-clock time a phase the model works in takes. */
  | 'duration'
  /** A keyed hash of what the model wrote: only whether two are equal can be told. */
  | 'equality'
  /** A share of steerable totals; which endpoint answered is not the model's choice. */
  | 'split';

/** What the code bounds a JobResult field to, and what a model can do with it. Hand-kept; the spec requires one per field. */
export interface ResultFieldFacts {
  /** What validateWorkerFrame holds the value to beyond its type; empty when the type is the whole bound. */
  readonly bounds: string;
  readonly steering: ModelSteering;
}

/** Beyond what the type says; empty when the type is the whole bound (a bool, any uint32). */
const count = (bounds = ''): ResultFieldFacts => ({ bounds, steering: 'count' });
const fixed = (bounds: string): ResultFieldFacts => ({ bounds, steering: 'no' });

/** Every leaf of JobResult as describeResultFields names it, with its bounds (validateWorkerFrame) and steering. */
export const RESULT_FIELD_FACTS: Readonly<Record<string, ResultFieldFacts>> = {
  'attempt.jobId': fixed('a UUID the control plane issued'),
  'attempt.attempt': fixed('1..1000000'),
  outcome: { bounds: 'SUCCEEDED, FAILED or CANCELLED', steering: 'code' },
  failureCode: { bounds: 'a known code; unspecified exactly when SUCCEEDED', steering: 'code' },
  failedPhase: { bounds: 'a known phase, or unspecified', steering: 'code' },
  'phaseDurations[].phase': fixed('a known phase; at most 16 entries'),
  'phaseDurations[].durationMs': { bounds: 'milliseconds', steering: 'duration' },
  'tokens.requests': count(),
  'tokens.promptTokens': count(),
  'tokens.completionTokens': count(),
  'change.filesChanged': count(),
  'change.linesAdded': count(),
  'change.linesRemoved': count(),
  'change.editsProposed': count(),
  'change.editsApplied': count('at most editsProposed'),
  'verification.testsRan': { bounds: '', steering: 'flag' },
  'verification.testExitCode': { bounds: '0..255', steering: 'exit-code' },
  'verification.baseTestsRan': fixed(''),
  'verification.baseTestExitCode': fixed('0..255'),
  'verification.baseReportRead': fixed(''),
  'verification.testsBefore': fixed(''),
  'verification.failingBefore': fixed('at most testsBefore'),
  'verification.testsAfter': count(),
  'verification.failingAfter': count('at most testsAfter'),
  'verification.testsFixed': count('at most failingBefore'),
  'verification.testsRegressed': count('at most failingAfter'),
  'verification.agentTestRuns': count(),
  'verification.reproductionAdded': { bounds: '', steering: 'flag' },
  'verification.reportRead': { bounds: '', steering: 'flag' },
  contextFiles: fixed(''),
  changeMac: { bounds: '0 or 32 bytes (HMAC-SHA256)', steering: 'equality' },
  deliveryMac: fixed('0 or 32 bytes (HMAC-SHA256)'),
  'policy.revision': fixed('0..2^31-1'),
  'policy.shadowRevision': fixed('0..2^31-1'),
  'policy.decisions[].rule': { bounds: 'a known rule; at most 48 entries, one per rule and outcome', steering: 'rules' },
  'policy.decisions[].level': fixed('ADVISORY or MANDATORY'),
  'policy.decisions[].outcome': { bounds: 'BLOCKED, CORRECTED, RECORDED or SHADOW_WOULD_BLOCK', steering: 'rules' },
  metadataLevel: fixed('MINIMAL, STANDARD or STANDARD_BUCKETED'),
  'modelUsage[].endpointIndex': fixed('0..15, rising; at most 16 entries'),
  'modelUsage[].endpoint': fixed('`[A-Za-z0-9._-]{1,64}`, from the config'),
  'modelUsage[].model': fixed('`[A-Za-z0-9._:/@+-]{1,200}`, from the config'),
  'modelUsage[].requests': { bounds: 'at least 1; the entries add up to tokens', steering: 'split' },
  'modelUsage[].promptTokens': { bounds: 'the entries add up to tokens', steering: 'split' },
  'modelUsage[].completionTokens': { bounds: 'the entries add up to tokens', steering: 'split' },
  delivery: fixed('a delivery kind, or unspecified'),
  ticketRefMac: fixed('0 or 32 bytes (HMAC-SHA256)'),
  'review.critical': count('0..10000'),
  'review.major': count('0..10000'),
  'review.minor': count('0..10000'),
  'review.info': count('0..10000'),
  'review.dropped': count('0..10000'),
};

const STEERING_TEXT: Readonly<Record<ModelSteering, string>> = {
  no: 'no',
  count: 'yes: a count',
  'exit-code': 'yes: an exit code',
  flag: 'yes: a flag',
  code: 'yes: how the job ends',
  rules: 'yes: which rules fire',
  duration: 'yes: a duration',
  equality: 'only equal or not',
  split: 'no (splits steered totals)',
};

/** The level columns of the table, in order. */
export const TABLE_LEVELS: readonly ReportedMetadataLevel[] = ['METADATA_LEVEL_STANDARD', 'METADATA_LEVEL_STANDARD_BUCKETED', 'METADATA_LEVEL_MINIMAL'];

/** The generated part of docs/security.md lies between these two lines. */
export const GENERATED_BEGIN = '<!-- generated by libs/policy/src/security-doc.generator.ts: do not edit by hand -->';
export const GENERATED_END = '<!-- end of generated rows -->';

function treatmentText(entry: ResultFieldDescription): string {
  switch (entry.treatment) {
    case 'EXACT':
      return 'exact';
    case 'NOT_SENT':
      return 'not sent';
    case 'POWER_OF_TWO':
      return '0 or a power of two, rounded down';
    case 'ROUNDED_100_MS':
      return 'nearest 100 ms';
    case 'ZERO_OR_ONE':
      return '0 if 0, else 1';
    case 'FIXED':
      return `always \`${entry.note.replace(/^Always (\S+) at this level\.$/, '$1').replace(/^METADATA_LEVEL_/, '')}\``;
    case 'ALTERED':
      return 'altered (see applyMetadataLevel)';
  }
}

function typeText(type: string): string {
  return type.startsWith('enum ') ? type.slice('enum '.length) : type;
}

/** Counts of enum values a model could pick from, for the residual channel's arithmetic. */
export function codeCounts(): { readonly failureCodes: number; readonly phases: number } {
  const named = (values: Record<string, string>) => Object.values(values).filter((value) => !value.endsWith('_UNSPECIFIED')).length;
  return { failureCodes: named(FailureCode), phases: named(Phase) };
}

/** The result fields the model can set a number in, by kind of job. */
export function steerableCounts(): { readonly fix: readonly string[]; readonly review: readonly string[] } {
  const counts = Object.entries(RESULT_FIELD_FACTS)
    .filter(([, facts]) => facts.steering === 'count')
    .map(([field]) => field);
  return {
    fix: counts.filter((field) => !field.startsWith('review.')),
    review: counts.filter((field) => field.startsWith('tokens.') || field.startsWith('review.')),
  };
}

/** The generated block: the JobResult table, then the counts the residual channel uses. */
export function generatedResultRows(): string {
  const byLevel = new Map(TABLE_LEVELS.map((level) => [level, new Map(describeResultFields(level).map((entry) => [entry.field, entry]))]));
  const standard = describeResultFields('METADATA_LEVEL_STANDARD');
  const rows = standard.map((entry) => {
    const facts = RESULT_FIELD_FACTS[entry.field];
    if (!facts) throw new Error(`JobResult.${entry.field} has no entry in RESULT_FIELD_FACTS (libs/policy/src/security-doc.generator.ts)`);
    const levels = TABLE_LEVELS.map((level) => treatmentText(byLevel.get(level)!.get(entry.field)!));
    return `| \`result.${entry.field}\` | ${typeText(entry.type)}${facts.bounds ? `; ${facts.bounds}` : ''} | ${STEERING_TEXT[facts.steering]} | ${levels.join(' | ')} |`;
  });
  const { fix, review } = steerableCounts();
  const { failureCodes, phases } = codeCounts();
  const names = (fields: readonly string[]) => fields.map((field) => `\`${field}\``).join(', ');
  return [
    GENERATED_BEGIN,
    '| field | type; bounds | model | `standard` | `standard`, buckets | `minimal` |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `Counts a model can set: **${fix.length} in a fix job's result** (${names(fix)}) and **${review.length} in a review's** (${names(review)}); ` +
      `the codes it can steer are chosen among ${failureCodes} failure codes and ${phases} phases.`,
    GENERATED_END,
  ].join('\n');
}

/** The page with its generated block replaced by the current one. Throws when the markers are missing. */
export function withGeneratedRows(page: string): string {
  const begin = page.indexOf(GENERATED_BEGIN);
  const end = page.indexOf(GENERATED_END);
  if (begin < 0 || end < begin) throw new Error(`docs/security.md: expected the lines ${GENERATED_BEGIN} and ${GENERATED_END}`);
  return `${page.slice(0, begin)}${generatedResultRows()}${page.slice(end + GENERATED_END.length)}`;
}

/** docs/security.md, from this file's place in the repository. */
export const SECURITY_DOC_PATH = join(__dirname, '../../../docs/security.md');

if (require.main === module) {
  const page = readFileSync(SECURITY_DOC_PATH, 'utf8');
  const current = withGeneratedRows(page);
  if (process.argv.includes('--check')) {
    process.stdout.write(current === page ? 'docs/security.md: the JobResult rows are current\n' : 'docs/security.md: the JobResult rows are out of date\n');
    process.exitCode = current === page ? 0 : 1;
  } else if (current !== page) {
    writeFileSync(SECURITY_DOC_PATH, current);
    process.stdout.write('docs/security.md: JobResult rows rewritten\n');
  } else {
    process.stdout.write('docs/security.md: the JobResult rows are current\n');
  }
}
