import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  evaluateChange,
  evaluateTaskAdmission,
  evaluateVerification,
  mergePolicy,
  parsePolicyDocument,
  RULE_IDS,
  type EffectivePolicy,
  type PolicyDocument,
  type PolicyViolation,
  type RuleId,
} from '@airlock/policy';
import type { InstructionPayload__Output } from '@airlock/protocol';
import { parseDocument } from 'yaml';
import { loadWorkerConfig } from '../config/worker-config.loader';
import { patchCandidate } from '../jobs/governance/candidate-change';
import type { JobRecordMetadata } from '../jobs/record/job-record';
import { JobRecordReader } from '../jobs/record/job-record.reader';
import { localEffectivePolicyOf } from '../policy/local-policy';
import { CliExitError, EXIT_CODES } from './exit-codes';
import type { CliIo } from './worker.cli';

/** Records `policy evaluate` reads unless told otherwise. */
export const DEFAULT_EVALUATE_LAST = 50;
/** The largest candidate document read: a policy document is a few kilobytes. */
const MAX_DOCUMENT_BYTES = 1024 * 1024;
/** The largest recorded patch read (a record keeps at most 8 MiB of one). */
const MAX_PATCH_BYTES = 8 * 1024 * 1024;

export interface PolicyEvaluateOptions {
  readonly config: string;
  readonly last?: number;
}

/** What the candidate would have done under one rule, over the records it could judge. */
interface RuleTally {
  evaluated: number;
  wouldBlock: number;
  wouldRecord: number;
}

const ADMISSION_RULES: readonly RuleId[] = ['job-kinds', 'repositories', 'base-refs'];
const VERIFICATION_RULES: readonly RuleId[] = ['tests-must-pass', 'min-tests-run'];
const CHANGE_RULES: readonly RuleId[] = ['protected-paths', 'max-files-changed', 'max-lines-changed', 'secrets', 'dependency-manifests', 'denied-packages', 'denied-licenses'];

/**
 * `policy evaluate <candidate>`: what a candidate policy document would have done to this
 * worker's recent jobs, before anyone publishes it. Entirely local — it reads the document,
 * the worker config and the job records, and contacts nothing. The document is merged with
 * the local policy as a bundle layer would be (the stricter wins); then, for each of the last
 * N records: admission on the recorded task (repository, base ref; the records are fix
 * jobs), the change rules on the final candidate patch, and the verification rules on the
 * recorded test counts. It prints, per rule, the jobs it could judge and how many the
 * candidate would have blocked (mandatory) or recorded (advisory).
 */
export async function policyEvaluateCommand(file: string, options: PolicyEvaluateOptions, io: CliIo): Promise<number> {
  const document = readCandidate(file);
  const config = loadWorkerConfig(options.config);
  const candidate = mergePolicy(localEffectivePolicyOf(config), [document]).effective;
  const reader = new JobRecordReader(config.stateDir);
  const records = reader
    .list()
    .flatMap((listing) => (listing.record?.state === 'ended' ? [{ record: listing.record, directory: listing.directory }] : []))
    .slice(0, options.last ?? DEFAULT_EVALUATE_LAST);
  const tallies = new Map<RuleId, RuleTally>(RULE_IDS.map((rule) => [rule, { evaluated: 0, wouldBlock: 0, wouldRecord: 0 }]));
  const count = (rules: readonly RuleId[], violations: readonly PolicyViolation[]) => {
    for (const rule of rules) {
      const tally = tallies.get(rule)!;
      tally.evaluated += 1;
      const broken = violations.filter((violation) => violation.rule === rule);
      if (broken.some((violation) => violation.level === 'mandatory')) tally.wouldBlock += 1;
      else if (broken.length > 0) tally.wouldRecord += 1;
    }
  };
  let withPatch = 0;
  let truncated = 0;
  for (const { record, directory } of records) {
    count(ADMISSION_RULES, admissionViolations(record, candidate));
    const patch = finalPatch(record, directory);
    if (patch === undefined) continue;
    withPatch += 1;
    if (patch.truncated) truncated += 1;
    count(CHANGE_RULES, await evaluateChange(candidate, patchCandidate(patch.text)));
    const facts = verificationFacts(record);
    if (facts !== undefined) count(VERIFICATION_RULES, evaluateVerification(candidate, facts));
  }
  io.out(`${report(file, records.length, withPatch, truncated, tallies).join('\n')}\n`);
  return EXIT_CODES.ok;
}

/** Reads and validates the candidate (YAML or JSON, which YAML reads too); every problem named by its field path. */
function readCandidate(file: string): PolicyDocument {
  let text: string;
  try {
    if (statSync(file).size > MAX_DOCUMENT_BYTES) throw new CliExitError(EXIT_CODES.configInvalid, `policy evaluate: ${file} is larger than ${MAX_DOCUMENT_BYTES} bytes; a policy document is a few kilobytes`);
    text = readBounded(file, MAX_DOCUMENT_BYTES).toString('utf8');
  } catch (error) {
    if (error instanceof CliExitError) throw error;
    throw new CliExitError(EXIT_CODES.configInvalid, `policy evaluate: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const parsed = parseDocument(text, { uniqueKeys: true });
  if (parsed.errors.length > 0) throw new CliExitError(EXIT_CODES.configInvalid, `policy evaluate: ${file} is not YAML or JSON: ${parsed.errors[0]!.message.split('\n')[0]}`);
  const result = parsePolicyDocument(parsed.toJS());
  if (!result.ok) {
    const problems = result.errors.map((error) => `  ${error.path}: expected ${error.expected}`);
    throw new CliExitError(EXIT_CODES.configInvalid, [`policy evaluate: ${file} is not a valid policy document:`, ...problems].join('\n'));
  }
  return result.value;
}

/** Admission of the recorded task under the candidate, as the worker's gatekeeper would run it. */
function admissionViolations(record: JobRecordMetadata, candidate: EffectivePolicy): PolicyViolation[] {
  const payload: InstructionPayload__Output = {
    jobId: record.jobId,
    attempt: record.attempt,
    tenantId: '',
    audience: '',
    issuedAtMs: 0,
    expiresAtMs: 0,
    nonce: Buffer.alloc(0),
    policyRef: '',
    task: 'fix',
    fix: { repoAlias: record.repoAlias, baseRef: record.baseRef, ticketRef: '', deliveryJobId: '', deliveryGeneration: 0, ticket: null },
  };
  const admission = evaluateTaskAdmission(payload, candidate);
  // A repository no longer in the catalog is refused by local config, not by the candidate: it counts for no rule.
  return admission.allowed ? [] : admission.rules.map((rule) => ({ rule, level: 'mandatory', detail: admission.failureCode }));
}

/** The attempt's last stored patch: the candidate its job ended with. */
function finalPatch(record: JobRecordMetadata, directory: string): { readonly text: string; readonly truncated: boolean } | undefined {
  const last = record.patches.at(-1);
  if (last === undefined || !last.stored) return undefined;
  try {
    return { text: readBounded(join(directory, last.file), MAX_PATCH_BYTES).toString('utf8'), truncated: last.truncated };
  } catch {
    return undefined; // removed by retention since the listing
  }
}

/**
 * The recorded verification of the final candidate, when TEST ran on it (its patch has a
 * test verdict). Whether the tests passed is that verdict — the worker's comparison with the
 * base run — not the exit code alone, as in the TEST phase.
 */
function verificationFacts(record: JobRecordMetadata): Parameters<typeof evaluateVerification>[1] | undefined {
  const verdicts = record.patches.at(-1)?.verdicts.map((entry) => entry.verdict) ?? [];
  const verification = record.result?.['verification'] as { testsRan?: unknown; testExitCode?: unknown; reportRead?: unknown; testsAfter?: unknown } | null | undefined;
  const tested = verdicts.includes('tests-passed') || verdicts.includes('tests-failed');
  if (!tested || verification == null) return undefined;
  const passed = verdicts.includes('tests-passed');
  const exitCode = typeof verification.testExitCode === 'number' ? verification.testExitCode : 1;
  return {
    testsRan: verification.testsRan === true,
    testExitCode: passed ? 0 : exitCode || 1,
    reportRead: verification.reportRead === true,
    testsAfter: typeof verification.testsAfter === 'number' ? verification.testsAfter : 0,
  };
}

function report(file: string, records: number, withPatch: number, truncated: number, tallies: ReadonlyMap<RuleId, RuleTally>): string[] {
  const lines = [`Candidate ${file}, merged with this worker's local policy (the stricter wins), over the last ${records} ended job record${records === 1 ? '' : 's'} (${withPatch} with a final patch).`];
  if (records === 0) return [...lines, 'Nothing to evaluate: no ended job records.'];
  const rows = [
    ['RULE', 'JOBS EVALUATED', 'WOULD BLOCK', 'WOULD RECORD'],
    ...[...ADMISSION_RULES, ...CHANGE_RULES, ...VERIFICATION_RULES].map((rule) => {
      const tally = tallies.get(rule)!;
      return [rule, String(tally.evaluated), String(tally.wouldBlock), String(tally.wouldRecord)];
    }),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((cells) => cells[column]!.length)));
  lines.push('', ...rows.map((cells) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()), '');
  lines.push('Admission is judged on each recorded task (kind fix, repository, base ref); the change rules on each final patch; the verification rules on the recorded test counts where TEST ran.');
  lines.push('The patch is all the change rules see here: a file is read whole only where the patch shows all of it (a file it creates), so denied packages and licences are judged on manifests the patch creates, not on ones it only modifies.');
  if (truncated > 0) lines.push(`${truncated} patch${truncated === 1 ? ' was' : 'es were'} cut at the record's size bound: only the files they still show were judged.`);
  return lines;
}

/** Reads at most `max` bytes of a file. */
function readBounded(path: string, max: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(Math.min(max, statSync(path).size));
    const read = readSync(fd, buffer, 0, buffer.length, 0);
    return buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}
