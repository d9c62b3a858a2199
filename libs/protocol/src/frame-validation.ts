import { ID_PATTERNS, WIRE_LIMITS } from './limits';
import type { AttemptRef__Output } from './generated/airlock/v1/AttemptRef';
import type { ControlFrame__Output } from './generated/airlock/v1/ControlFrame';
import type { FrameSignature__Output } from './generated/airlock/v1/FrameSignature';
import type { InstructionPayload__Output } from './generated/airlock/v1/InstructionPayload';
import type { JobResult__Output } from './generated/airlock/v1/JobResult';
import type { ModelUsage__Output } from './generated/airlock/v1/ModelUsage';
import type { PolicyAck__Output } from './generated/airlock/v1/PolicyAck';
import type { PolicyBundlePayload__Output } from './generated/airlock/v1/PolicyBundlePayload';
import type { PolicyReport__Output } from './generated/airlock/v1/PolicyReport';
import type { WorkerFrame__Output } from './generated/airlock/v1/WorkerFrame';
import { Delivery } from './generated/airlock/v1/Delivery';
import type { DeliveryOutcome__Output } from './generated/airlock/v1/DeliveryOutcome';
import { MergeRequestState } from './generated/airlock/v1/MergeRequestState';
import { FailureCode } from './generated/airlock/v1/FailureCode';
import { JobOutcome } from './generated/airlock/v1/JobOutcome';
import { MetadataLevel } from './generated/airlock/v1/MetadataLevel';
import { Phase } from './generated/airlock/v1/Phase';
import { PhaseState } from './generated/airlock/v1/PhaseState';
import { PolicyAckStatus } from './generated/airlock/v1/PolicyAckStatus';
import { PolicyRule } from './generated/airlock/v1/PolicyRule';
import { ResultDisposition } from './generated/airlock/v1/ResultDisposition';
import { RuleLevel } from './generated/airlock/v1/RuleLevel';
import { RuleOutcome } from './generated/airlock/v1/RuleOutcome';
import { VersionStatus } from './generated/airlock/v1/VersionStatus';
import type { VersionNotice__Output } from './generated/airlock/v1/VersionNotice';

/** Why a frame was refused: the field's path and what it should have been. Never its value. */
export interface FrameViolation {
  readonly field: string;
  readonly expected: string;
}

/** Raised when a frame or payload breaks the wire contract. */
export class FrameValidationError extends Error {
  override readonly name = 'FrameValidationError';
  constructor(readonly violation: FrameViolation) {
    super(`${violation.field}: expected ${violation.expected}`);
  }
}

/** The failure codes a worker may give when it refuses an instruction. */
export const REJECTION_FAILURE_CODES: ReadonlySet<string> = new Set([
  FailureCode.INSTRUCTION_MALFORMED,
  FailureCode.INSTRUCTION_UNKNOWN_KEY,
  FailureCode.INSTRUCTION_BAD_SIGNATURE,
  FailureCode.INSTRUCTION_WRONG_AUDIENCE,
  FailureCode.INSTRUCTION_WRONG_TENANT,
  FailureCode.INSTRUCTION_NOT_YET_VALID,
  FailureCode.INSTRUCTION_EXPIRED,
  FailureCode.INSTRUCTION_REPLAYED,
  FailureCode.REPO_ALIAS_UNKNOWN,
  FailureCode.TASK_FORBIDDEN_BY_POLICY,
  FailureCode.WORKER_AT_CAPACITY,
  FailureCode.ATTEMPT_ALREADY_SEEN,
]);

/** The failure codes a worker may give when it refuses a policy bundle (PolicyAck REFUSED). */
export const POLICY_BUNDLE_FAILURE_CODES: ReadonlySet<string> = new Set([
  FailureCode.POLICY_BUNDLE_MALFORMED,
  FailureCode.POLICY_BUNDLE_UNKNOWN_KEY,
  FailureCode.POLICY_BUNDLE_BAD_SIGNATURE,
  FailureCode.POLICY_BUNDLE_WRONG_AUDIENCE,
  FailureCode.POLICY_BUNDLE_WRONG_TENANT,
  FailureCode.POLICY_BUNDLE_NOT_YET_VALID,
  FailureCode.POLICY_BUNDLE_EXPIRED,
  FailureCode.POLICY_BUNDLE_STALE,
  FailureCode.POLICY_BUNDLE_INVALID,
]);

const knownValues = (e: Record<string, string>, unspecified: string): ReadonlySet<unknown> =>
  new Set(Object.values(e).filter((v) => v !== unspecified));

const FAILURE_CODES = knownValues(FailureCode, FailureCode.FAILURE_CODE_UNSPECIFIED);
const OUTCOMES = knownValues(JobOutcome, JobOutcome.JOB_OUTCOME_UNSPECIFIED);
const PHASES = knownValues(Phase, Phase.PHASE_UNSPECIFIED);
const PHASE_STATES = knownValues(PhaseState, PhaseState.PHASE_STATE_UNSPECIFIED);
const DISPOSITIONS = knownValues(ResultDisposition, ResultDisposition.RESULT_DISPOSITION_UNSPECIFIED);
const POLICY_RULES = knownValues(PolicyRule, PolicyRule.POLICY_RULE_UNSPECIFIED);
const RULE_LEVELS = knownValues(RuleLevel, RuleLevel.RULE_LEVEL_UNSPECIFIED);
const RULE_OUTCOMES = knownValues(RuleOutcome, RuleOutcome.RULE_OUTCOME_UNSPECIFIED);
const DELIVERIES = new Set<unknown>(Object.values(Delivery));
const MERGE_REQUEST_STATES = knownValues(MergeRequestState, MergeRequestState.MERGE_REQUEST_STATE_UNSPECIFIED);
const METADATA_LEVELS = knownValues(MetadataLevel, MetadataLevel.METADATA_LEVEL_UNSPECIFIED);
const ACK_STATUSES = knownValues(PolicyAckStatus, PolicyAckStatus.POLICY_ACK_STATUS_UNSPECIFIED);

const UINT32_MAX = 0xffff_ffff;

function fail(field: string, expected: string): never {
  throw new FrameValidationError({ field, expected });
}

function check(condition: boolean, field: string, expected: string): void {
  if (!condition) fail(field, expected);
}

function matches(value: unknown, pattern: RegExp, field: string, expected: string): void {
  check(typeof value === 'string' && pattern.test(value), field, expected);
}

function uintInRange(value: unknown, min: number, max: number, field: string): void {
  check(Number.isInteger(value) && (value as number) >= min && (value as number) <= max, field, `an integer in ${min}..${max}`);
}

function bytesOfLength(value: unknown, lengths: readonly number[], field: string): void {
  check(Buffer.isBuffer(value) && lengths.includes(value.length), field, `${lengths.join(' or ')} bytes`);
}

/**
 * A control frame's signature, when it has one: its shape only. Whether it verifies, and what
 * a frame without one means, is the worker's to decide (ControlFrameVerifier in @airlock/envelope).
 */
function frameSignature(signature: FrameSignature__Output | null | undefined, field: string): void {
  if (signature == null) return;
  matches(signature.keyId, ID_PATTERNS.signingKeyId, `${field}.keyId`, 'a signing key id (sk_ + 16 hex)');
  bytesOfLength(signature.signature, [WIRE_LIMITS.ed25519SignatureBytes], `${field}.signature`);
}

/** An egress log head: line count and the last line's chain hash, both absent for an empty log. */
function ledgerHead(seq: unknown, head: unknown): void {
  check(Number.isSafeInteger(seq) && (seq as number) >= 0, 'heartbeat.ledgerSeq', 'a non-negative safe integer');
  bytesOfLength(head, [seq === 0 ? 0 : WIRE_LIMITS.sha256Bytes], 'heartbeat.ledgerHead');
}

function oneOf(value: unknown, allowed: ReadonlySet<unknown>, field: string, what: string): void {
  check(allowed.has(value), field, `a known ${what}`);
}

function boundedBytes(value: unknown, max: number, field: string): void {
  check(Buffer.isBuffer(value) && value.length > 0 && value.length <= max, field, `1..${max} bytes`);
}

function policyRevision(value: unknown, min: 0 | 1, field: string): void {
  uintInRange(value, min, WIRE_LIMITS.maxPolicyRevision, field);
}

/** Issue and expiry of a signed payload: positive Unix milliseconds, expiry after issue. */
function validityWindow(issuedAtMs: unknown, expiresAtMs: unknown, prefix: string): void {
  check(Number.isSafeInteger(issuedAtMs) && (issuedAtMs as number) > 0, `${prefix}.issuedAtMs`, 'positive Unix milliseconds');
  check(Number.isSafeInteger(expiresAtMs) && (expiresAtMs as number) > (issuedAtMs as number), `${prefix}.expiresAtMs`, 'Unix milliseconds after issuedAtMs');
}

/** A list of distinct, known policy rules. */
function ruleList(rules: readonly unknown[], max: number, field: string): void {
  check(rules.length <= max, field, `at most ${max} entries`);
  rules.forEach((rule, index) => oneOf(rule, POLICY_RULES, `${field}[${index}]`, 'PolicyRule'));
  check(new Set(rules).size === rules.length, field, 'no rule twice');
}

function attemptRef(ref: AttemptRef__Output | null | undefined, field: string): void {
  check(ref != null, field, 'an attempt reference');
  matches(ref?.jobId, ID_PATTERNS.uuid, `${field}.jobId`, 'a UUID');
  uintInRange(ref?.attempt, 1, 1_000_000, `${field}.attempt`);
}

function attemptList(refs: AttemptRef__Output[], field: string): void {
  check(refs.length <= WIRE_LIMITS.maxRunningAttempts, field, `at most ${WIRE_LIMITS.maxRunningAttempts} entries`);
  refs.forEach((ref, index) => attemptRef(ref, `${field}[${index}]`));
}

function jobResult(result: JobResult__Output): void {
  attemptRef(result.attempt, 'result.attempt');
  // Every number in a JobResult is a uint32 on the wire: protobuf would send a larger or
  // negative one modulo 2^32, so the control plane would read a figure the worker never reported.
  everyNumberIsUint32(result, 'result');
  oneOf(result.outcome, OUTCOMES, 'result.outcome', 'JobOutcome');
  if (result.outcome === JobOutcome.JOB_OUTCOME_SUCCEEDED) {
    check(result.failureCode === FailureCode.FAILURE_CODE_UNSPECIFIED, 'result.failureCode', 'FAILURE_CODE_UNSPECIFIED when the outcome is SUCCEEDED');
  } else {
    oneOf(result.failureCode, FAILURE_CODES, 'result.failureCode', 'FailureCode for a job that did not succeed');
  }
  check(result.failedPhase === Phase.PHASE_UNSPECIFIED || PHASES.has(result.failedPhase), 'result.failedPhase', 'a known Phase');
  check(result.phaseDurations.length <= WIRE_LIMITS.maxPhaseDurations, 'result.phaseDurations', `at most ${WIRE_LIMITS.maxPhaseDurations} entries`);
  result.phaseDurations.forEach((entry, index) => {
    oneOf(entry.phase, PHASES, `result.phaseDurations[${index}].phase`, 'Phase');
  });
  check(result.change?.editsApplied === undefined || result.change.editsApplied <= result.change.editsProposed, 'result.change.editsApplied', 'no more than editsProposed');
  verificationStats(result.verification);
  bytesOfLength(result.changeMac, [0, WIRE_LIMITS.macBytes], 'result.changeMac');
  bytesOfLength(result.deliveryMac, [0, WIRE_LIMITS.macBytes], 'result.deliveryMac');
  bytesOfLength(result.ticketRefMac, [0, WIRE_LIMITS.macBytes], 'result.ticketRefMac');
  if (result.review != null) {
    for (const [name, count] of Object.entries(result.review)) uintInRange(count, 0, WIRE_LIMITS.maxReviewComments, `result.review.${name}`);
  }
  if (result.policy != null) policyReport(result.policy);
  oneOf(result.metadataLevel, METADATA_LEVELS, 'result.metadataLevel', 'MetadataLevel');
  modelUsageEntries(result.modelUsage);
  oneOf(result.delivery, DELIVERIES, 'result.delivery', 'Delivery');
  compliesWithMetadataLevel(result);
  modelUsageAddsUpToTokens(result);
}

/** Walks a message's fields (nested messages and lists included) and checks each number is a uint32. */
function everyNumberIsUint32(value: unknown, field: string): void {
  if (typeof value === 'number') {
    uintInRange(value, 0, UINT32_MAX, field);
  } else if (Array.isArray(value)) {
    value.forEach((entry, index) => everyNumberIsUint32(entry, `${field}[${index}]`));
  } else if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    for (const [name, entry] of Object.entries(value)) everyNumberIsUint32(entry, `${field}.${name}`);
  }
}

/**
 * The per-endpoint figures: the names are operator-written config, so they are held to the
 * config's own shapes; entries come in configured order, an endpoint at most once, and only
 * for endpoints that were sent a request.
 */
function modelUsageEntries(entries: readonly ModelUsage__Output[] | undefined): void {
  const max = WIRE_LIMITS.maxInferenceEndpoints;
  check(Array.isArray(entries) && entries.length <= max, 'result.modelUsage', `a list of at most ${max} entries`);
  let previousIndex = -1;
  entries!.forEach((entry, index) => {
    const field = `result.modelUsage[${index}]`;
    uintInRange(entry.endpointIndex, 0, max - 1, `${field}.endpointIndex`);
    check(entry.endpointIndex > previousIndex, `${field}.endpointIndex`, 'above the entry before it (configured order, each endpoint at most once)');
    previousIndex = entry.endpointIndex;
    matches(entry.endpoint, ID_PATTERNS.inferenceEndpointName, `${field}.endpoint`, 'an endpoint name ([A-Za-z0-9._-]{1,64})');
    matches(entry.model, ID_PATTERNS.modelName, `${field}.model`, 'a model name of 1..200 characters from A-Z a-z 0-9 . _ : / @ + -');
    uintInRange(entry.requests, 1, UINT32_MAX, `${field}.requests`);
    uintInRange(entry.promptTokens, 0, UINT32_MAX, `${field}.promptTokens`);
    uintInRange(entry.completionTokens, 0, UINT32_MAX, `${field}.completionTokens`);
  });
}

const MODEL_USAGE_FIGURES = ['requests', 'promptTokens', 'completionTokens'] as const;

/**
 * The per-endpoint figures add up to the totals: exactly at STANDARD; at STANDARD_BUCKETED
 * each figure and each total was rounded down to 0 or a power of two on its own, so the
 * rounded figures must be ones that exact figures adding up to an exact total round to.
 * An empty list says nothing (MINIMAL, or a worker older than the field).
 */
function modelUsageAddsUpToTokens(result: JobResult__Output): void {
  if (result.modelUsage.length === 0) return;
  const tokens = result.tokens;
  check(tokens != null, 'result.tokens', 'token totals when modelUsage has entries');
  const bucketed = result.metadataLevel === MetadataLevel.METADATA_LEVEL_STANDARD_BUCKETED;
  for (const figure of MODEL_USAGE_FIGURES) {
    const parts = result.modelUsage.map((entry) => entry[figure]);
    const total = tokens![figure];
    if (bucketed) {
      check(bucketedPartsFitTotal(parts, total), `result.tokens.${figure}`, `a figure the sum of result.modelUsage[*].${figure} rounds to at ${result.metadataLevel}`);
    } else {
      check(parts.reduce((sum, part) => sum + part, 0) === total, `result.tokens.${figure}`, `the sum of result.modelUsage[*].${figure}`);
    }
  }
}

/**
 * Whether exact parts that round down (to 0 or a power of two) to `parts` can add up to an
 * exact total that rounds down to `total`: a rounded b > 0 stands for b..2b-1, and 0 for 0.
 */
function bucketedPartsFitTotal(parts: readonly number[], total: number): boolean {
  const highest = (bucket: number) => (bucket > 0 ? 2 * bucket - 1 : 0);
  const lowestSum = parts.reduce((sum, part) => sum + part, 0);
  const highestSum = parts.reduce((sum, part) => sum + highest(part), 0);
  return lowestSum <= highest(total) && highestSum >= total;
}

function policyReport(report: PolicyReport__Output): void {
  policyRevision(report.revision, 0, 'result.policy.revision');
  policyRevision(report.shadowRevision, 0, 'result.policy.shadowRevision');
  check(report.decisions.length <= WIRE_LIMITS.maxPolicyDecisions, 'result.policy.decisions', `at most ${WIRE_LIMITS.maxPolicyDecisions} entries`);
  report.decisions.forEach((decision, index) => {
    const field = `result.policy.decisions[${index}]`;
    oneOf(decision.rule, POLICY_RULES, `${field}.rule`, 'PolicyRule');
    oneOf(decision.level, RULE_LEVELS, `${field}.level`, 'RuleLevel');
    oneOf(decision.outcome, RULE_OUTCOMES, `${field}.outcome`, 'RuleOutcome');
  });
}

const isPowerOfTwoOrZero = (n: number): boolean => n === 0 || (Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0);

/**
 * The result says no more than its metadata level promises, so the control plane can check
 * that a worker kept its promise and the worker's own outbound gate refuses a result that
 * would not. STANDARD is exact, with nothing to check.
 */
function compliesWithMetadataLevel(result: JobResult__Output): void {
  const level = result.metadataLevel;
  if (level === MetadataLevel.METADATA_LEVEL_STANDARD) return;
  result.phaseDurations.forEach((entry, index) => {
    check(entry.durationMs % 100 === 0, `result.phaseDurations[${index}].durationMs`, `a multiple of 100 at ${level}`);
  });
  const figures = resultFigures(result);
  if (level === MetadataLevel.METADATA_LEVEL_MINIMAL) {
    check(result.modelUsage.length === 0, 'result.modelUsage', `empty at ${level}`);
    for (const [field, value] of figures) check(!value, field, `0 or false at ${level}`);
    check(result.changeMac.length === 0, 'result.changeMac', `empty at ${level}`);
    check(result.deliveryMac.length === 0, 'result.deliveryMac', `empty at ${level}`);
    check(result.delivery === Delivery.DELIVERY_UNSPECIFIED, 'result.delivery', `DELIVERY_UNSPECIFIED at ${level}`);
    check(result.ticketRefMac.length === 0, 'result.ticketRefMac', `empty at ${level}`);
    check(result.review == null, 'result.review', `null at ${level}`);
    return;
  }
  for (const [field, value] of figures) {
    if (typeof value !== 'number') continue;
    if (/ExitCode$/.test(field)) check(value <= 1, field, `0 or 1 at ${level}`);
    else check(isPowerOfTwoOrZero(value), field, `0 or a power of two at ${level}`);
  }
}

/** Every count, token figure, exit code and flag of a result, by field path. */
function resultFigures(result: JobResult__Output): Array<[string, number | boolean]> {
  const figures: Array<[string, number | boolean]> = [['result.contextFiles', result.contextFiles]];
  const groups = { tokens: result.tokens, change: result.change, verification: result.verification, review: result.review };
  for (const [group, stats] of Object.entries(groups)) {
    if (stats == null) continue;
    for (const [name, value] of Object.entries(stats)) figures.push([`result.${group}.${name}`, value as number | boolean]);
  }
  // The endpoint's index and names are no measure: only its counts are rounded.
  result.modelUsage.forEach((entry, index) => {
    for (const figure of MODEL_USAGE_FIGURES) figures.push([`result.modelUsage[${index}].${figure}`, entry[figure]]);
  });
  return figures;
}

/** Exit codes are bytes, and the counts must agree with each other: a fixed test was failing before. */
function verificationStats(stats: JobResult__Output['verification']): void {
  if (stats == null) return;
  const field = 'result.verification';
  uintInRange(stats.testExitCode, 0, 255, `${field}.testExitCode`);
  uintInRange(stats.baseTestExitCode, 0, 255, `${field}.baseTestExitCode`);
  check(stats.failingBefore <= stats.testsBefore, `${field}.failingBefore`, 'no more than testsBefore');
  check(stats.failingAfter <= stats.testsAfter, `${field}.failingAfter`, 'no more than testsAfter');
  check(stats.testsFixed <= stats.failingBefore, `${field}.testsFixed`, 'no more than failingBefore');
  check(stats.testsRegressed <= stats.failingAfter, `${field}.testsRegressed`, 'no more than failingAfter');
}

function policyAck(ack: PolicyAck__Output): void {
  oneOf(ack.status, ACK_STATUSES, 'policyAck.status', 'PolicyAckStatus');
  if (ack.status === PolicyAckStatus.POLICY_ACK_STATUS_REFUSED) {
    // A bundle whose payload could not be read is refused under revision 0.
    policyRevision(ack.revision, 0, 'policyAck.revision');
    oneOf(ack.failureCode, POLICY_BUNDLE_FAILURE_CODES, 'policyAck.failureCode', 'policy bundle refusal code');
    check(ack.narrowed.length === 0, 'policyAck.narrowed', 'no rules when the bundle was refused');
    return;
  }
  policyRevision(ack.revision, 1, 'policyAck.revision');
  check(ack.failureCode === FailureCode.FAILURE_CODE_UNSPECIFIED, 'policyAck.failureCode', 'FAILURE_CODE_UNSPECIFIED when the bundle was applied');
  ruleList(ack.narrowed, WIRE_LIMITS.maxNarrowedRules, 'policyAck.narrowed');
}

function workerLabels(labels: readonly string[]): void {
  check(labels.length <= WIRE_LIMITS.maxWorkerLabels, 'hello.labels', `at most ${WIRE_LIMITS.maxWorkerLabels} entries`);
  labels.forEach((label, index) => matches(label, ID_PATTERNS.workerLabel, `hello.labels[${index}]`, 'a pool label ([a-z0-9][a-z0-9._-]{0,62})'));
  check(new Set(labels).size === labels.length, 'hello.labels', 'no label twice');
}

const WORKER_FRAME_MEMBERS = ['hello', 'credit', 'ack', 'rejected', 'progress', 'heartbeat', 'result', 'policyAck', 'deliveryOutcome'] as const;
const CONTROL_FRAME_MEMBERS = ['challenge', 'welcome', 'instruction', 'cancel', 'resultAck', 'drain', 'leaseRenewal', 'policyBundle'] as const;

/**
 * A frame object may hold a member besides the one `frame` names; protobuf would still
 * serialise it. Only the named member is ever checked, so any other one is refused.
 */
function onlyNamedMember(frame: Record<string, unknown>, members: readonly string[]): void {
  for (const member of members) {
    if (member !== frame['frame'] && frame[member] != null) fail(member, `absent: the frame is a ${String(frame['frame'])}`);
  }
}

/**
 * Checks a worker → control plane frame against the closed schema. The worker runs it in
 * its outbound gate before sending; the control plane runs it again on receipt.
 */
export function validateWorkerFrame(frame: WorkerFrame__Output): void {
  onlyNamedMember(frame as unknown as Record<string, unknown>, WORKER_FRAME_MEMBERS);
  switch (frame.frame) {
    case 'hello': {
      const hello = frame.hello!;
      matches(hello.workerId, ID_PATTERNS.uuid, 'hello.workerId', 'a UUID');
      bytesOfLength(hello.challengeSignature, [WIRE_LIMITS.ed25519SignatureBytes], 'hello.challengeSignature');
      matches(hello.workerVersion, ID_PATTERNS.semver, 'hello.workerVersion', 'a semantic version');
      uintInRange(hello.capacity, 1, WIRE_LIMITS.maxCapacity, 'hello.capacity');
      attemptList(hello.running, 'hello.running');
      bytesOfLength(hello.localPolicyDigest, [WIRE_LIMITS.sha256Bytes], 'hello.localPolicyDigest');
      workerLabels(hello.labels);
      policyRevision(hello.policyRevision, 0, 'hello.policyRevision');
      return;
    }
    case 'credit':
      uintInRange(frame.credit!.credits, 1, WIRE_LIMITS.maxCredits, 'credit.credits');
      return;
    case 'ack':
      attemptRef(frame.ack!.attempt, 'ack.attempt');
      return;
    case 'rejected': {
      const rejected = frame.rejected!;
      if (rejected.attempt) attemptRef(rejected.attempt, 'rejected.attempt');
      oneOf(rejected.failureCode, REJECTION_FAILURE_CODES, 'rejected.failureCode', 'instruction rejection code');
      check(
        rejected.rules.length === 0 || rejected.failureCode === FailureCode.TASK_FORBIDDEN_BY_POLICY,
        'rejected.rules',
        'no rules unless the failure code is TASK_FORBIDDEN_BY_POLICY',
      );
      ruleList(rejected.rules, WIRE_LIMITS.maxRejectionRules, 'rejected.rules');
      return;
    }
    case 'progress':
      attemptRef(frame.progress!.attempt, 'progress.attempt');
      oneOf(frame.progress!.phase, PHASES, 'progress.phase', 'Phase');
      oneOf(frame.progress!.state, PHASE_STATES, 'progress.state', 'PhaseState');
      return;
    case 'heartbeat':
      attemptList(frame.heartbeat!.running, 'heartbeat.running');
      uintInRange(frame.heartbeat!.freeSlots, 0, WIRE_LIMITS.maxCapacity, 'heartbeat.freeSlots');
      uintInRange(frame.heartbeat!.seq, 1, WIRE_LIMITS.maxHeartbeatSeq, 'heartbeat.seq');
      ledgerHead(frame.heartbeat!.ledgerSeq, frame.heartbeat!.ledgerHead);
      return;
    case 'result':
      jobResult(frame.result!);
      return;
    case 'policyAck':
      policyAck(frame.policyAck!);
      return;
    case 'deliveryOutcome':
      deliveryOutcome(frame.deliveryOutcome!);
      return;
    default:
      fail('frame', 'one of hello, credit, ack, rejected, progress, heartbeat, result, policyAck, deliveryOutcome');
  }
}

const SECONDS_PER_HOUR = 3600;

/**
 * What became of a delivered change: states, counts and durations that agree with each other
 * and with the level they were reported at.
 */
function deliveryOutcome(outcome: DeliveryOutcome__Output): void {
  matches(outcome.deliveryJobId, ID_PATTERNS.uuid, 'deliveryOutcome.deliveryJobId', 'a UUID');
  oneOf(outcome.state, MERGE_REQUEST_STATES, 'deliveryOutcome.state', 'MergeRequestState');
  oneOf(outcome.metadataLevel, METADATA_LEVELS, 'deliveryOutcome.metadataLevel', 'MetadataLevel');
  const merged = outcome.state === MergeRequestState.MERGE_REQUEST_STATE_MERGED;
  check(merged || !outcome.reverted, 'deliveryOutcome.reverted', 'false unless the state is MERGED');
  check(merged || outcome.mergedAfterS === 0, 'deliveryOutcome.mergedAfterS', '0 unless the state is MERGED');
  const counts = [
    ['deliveryOutcome.humanCommits', outcome.humanCommits],
    ['deliveryOutcome.reviewRounds', outcome.reviewRounds],
  ] as const;
  const durations = [
    ['deliveryOutcome.firstReviewAfterS', outcome.firstReviewAfterS],
    ['deliveryOutcome.mergedAfterS', outcome.mergedAfterS],
  ] as const;
  for (const [field, value] of [...counts, ...durations]) uintInRange(value, 0, UINT32_MAX, field);
  if (outcome.metadataLevel === MetadataLevel.METADATA_LEVEL_MINIMAL) {
    for (const [field, value] of [...counts, ...durations]) check(value === 0, field, `0 at ${outcome.metadataLevel}`);
  } else if (outcome.metadataLevel === MetadataLevel.METADATA_LEVEL_STANDARD_BUCKETED) {
    for (const [field, value] of counts) check(value === 0 || (value & (value - 1)) === 0, field, `0 or a power of two at ${outcome.metadataLevel}`);
    for (const [field, value] of durations) check(value % SECONDS_PER_HOUR === 0, field, `whole hours at ${outcome.metadataLevel}`);
  }
}

/** The latest instant a JavaScript Date holds, in Unix seconds. */
const MAX_UNIX_SECONDS = 8_640_000_000_000;

/**
 * What a Welcome says of the worker's version. A status this worker does not know (one a
 * newer control plane added) is let through, to be ignored: refusing the Welcome for it
 * would keep the worker from ever connecting. The fields are held to their shapes anyway,
 * and a DEPRECATED notice must say what to upgrade to and when support ends.
 */
function versionNotice(notice: VersionNotice__Output): void {
  const deprecated = notice.status === VersionStatus.VERSION_STATUS_DEPRECATED;
  check(
    (notice.recommendedVersion === '' && !deprecated) || ID_PATTERNS.semver.test(notice.recommendedVersion),
    'welcome.versionNotice.recommendedVersion',
    deprecated ? 'a semantic version' : 'empty or a semantic version',
  );
  const endOfSupport = notice.endOfSupportAtS;
  check(
    Number.isSafeInteger(endOfSupport) && endOfSupport >= (deprecated ? 1 : 0) && endOfSupport <= MAX_UNIX_SECONDS,
    'welcome.versionNotice.endOfSupportAtS',
    deprecated ? `Unix seconds in 1..${MAX_UNIX_SECONDS}` : `0 or Unix seconds up to ${MAX_UNIX_SECONDS}`,
  );
}

/** Checks a control plane → worker frame before the worker acts on it. */
export function validateControlFrame(frame: ControlFrame__Output): void {
  onlyNamedMember(frame as unknown as Record<string, unknown>, CONTROL_FRAME_MEMBERS);
  switch (frame.frame) {
    case 'challenge':
      bytesOfLength(frame.challenge!.nonce, [WIRE_LIMITS.challengeNonceBytes], 'challenge.nonce');
      return;
    case 'welcome':
      uintInRange(frame.welcome!.heartbeatIntervalMs, 100, 600_000, 'welcome.heartbeatIntervalMs');
      uintInRange(frame.welcome!.leaseTtlMs, 200, 3_600_000, 'welcome.leaseTtlMs');
      if (frame.welcome!.versionNotice) versionNotice(frame.welcome!.versionNotice);
      return;
    case 'instruction': {
      const instruction = frame.instruction!;
      boundedBytes(instruction.payload, WIRE_LIMITS.maxInstructionPayloadBytes, 'instruction.payload');
      bytesOfLength(instruction.signature, [WIRE_LIMITS.ed25519SignatureBytes], 'instruction.signature');
      matches(instruction.keyId, ID_PATTERNS.signingKeyId, 'instruction.keyId', 'a signing key id (sk_ + 16 hex)');
      return;
    }
    case 'policyBundle': {
      const bundle = frame.policyBundle!;
      boundedBytes(bundle.payload, WIRE_LIMITS.maxPolicyBundlePayloadBytes, 'policyBundle.payload');
      bytesOfLength(bundle.signature, [WIRE_LIMITS.ed25519SignatureBytes], 'policyBundle.signature');
      matches(bundle.keyId, ID_PATTERNS.signingKeyId, 'policyBundle.keyId', 'a signing key id (sk_ + 16 hex)');
      return;
    }
    case 'cancel':
      attemptRef(frame.cancel!.attempt, 'cancel.attempt');
      frameSignature(frame.cancel!.signature, 'cancel.signature');
      return;
    case 'resultAck':
      attemptRef(frame.resultAck!.attempt, 'resultAck.attempt');
      oneOf(frame.resultAck!.disposition, DISPOSITIONS, 'resultAck.disposition', 'ResultDisposition');
      frameSignature(frame.resultAck!.signature, 'resultAck.signature');
      return;
    case 'drain':
      frameSignature(frame.drain!.signature, 'drain.signature');
      return;
    case 'leaseRenewal':
      uintInRange(frame.leaseRenewal!.heartbeatSeq, 0, WIRE_LIMITS.maxHeartbeatSeq, 'leaseRenewal.heartbeatSeq');
      attemptList(frame.leaseRenewal!.renewed, 'leaseRenewal.renewed');
      frameSignature(frame.leaseRenewal!.signature, 'leaseRenewal.signature');
      return;
    default:
      fail('frame', 'one of challenge, welcome, instruction, cancel, resultAck, drain, leaseRenewal, policyBundle');
  }
}

/**
 * Checks the fields of a decoded, signature-verified instruction payload. Identity and
 * time checks (audience, tenant, validity window, nonce) belong to the envelope verifier;
 * this checks shapes and bounds only.
 */
export function validateInstructionPayload(payload: InstructionPayload__Output): void {
  matches(payload.jobId, ID_PATTERNS.uuid, 'payload.jobId', 'a UUID');
  uintInRange(payload.attempt, 1, 1_000_000, 'payload.attempt');
  matches(payload.tenantId, ID_PATTERNS.uuid, 'payload.tenantId', 'a UUID');
  matches(payload.audience, ID_PATTERNS.uuid, 'payload.audience', 'a UUID');
  validityWindow(payload.issuedAtMs, payload.expiresAtMs, 'payload');
  bytesOfLength(payload.nonce, [WIRE_LIMITS.instructionNonceBytes], 'payload.nonce');
  check(payload.policyRef === '' || ID_PATTERNS.uuid.test(payload.policyRef), 'payload.policyRef', 'empty or a UUID');
  switch (payload.task) {
    case 'fix': {
      const fix = payload.fix!;
      matches(fix.repoAlias, ID_PATTERNS.repoAlias, 'payload.fix.repoAlias', 'a repository alias ([a-z0-9][a-z0-9._-]{0,62})');
      matches(fix.baseRef, ID_PATTERNS.gitRef, 'payload.fix.baseRef', 'a git ref name of at most 200 characters');
      const title = fix.ticket?.title ?? '';
      if (fix.ticketRef !== '') {
        // By reference: the worker reads the ticket itself, so no text may come with it.
        matches(fix.ticketRef, ID_PATTERNS.ticketRef, 'payload.fix.ticketRef', 'a ticket reference <tracker>:<key>, such as jira:PROJ-123');
        check(title === '' && (fix.ticket?.description ?? '') === '', 'payload.fix.ticket', 'no title or description with a ticket reference');
      } else {
        check(title.trim().length > 0 && title.length <= WIRE_LIMITS.maxTicketTitleChars && !/[\r\n]/.test(title), 'payload.fix.ticket.title', `one line of 1..${WIRE_LIMITS.maxTicketTitleChars} characters`);
      }
      check(Buffer.byteLength(fix.ticket?.description ?? '', 'utf8') <= WIRE_LIMITS.maxTicketDescriptionBytes, 'payload.fix.ticket.description', `at most ${WIRE_LIMITS.maxTicketDescriptionBytes} bytes`);
      if (fix.deliveryJobId !== '') matches(fix.deliveryJobId, ID_PATTERNS.uuid, 'payload.fix.deliveryJobId', 'a UUID, or empty');
      uintInRange(fix.deliveryGeneration, 0, WIRE_LIMITS.maxDeliveryGeneration, 'payload.fix.deliveryGeneration');
      return;
    }
    case 'noop':
      return;
    case 'review': {
      const review = payload.review!;
      matches(review.repoAlias, ID_PATTERNS.repoAlias, 'payload.review.repoAlias', 'a repository alias ([a-z0-9][a-z0-9._-]{0,62})');
      if (review.target === 'mergeRequest') uintInRange(review.mergeRequest, 1, WIRE_LIMITS.maxMergeRequestNumber, 'payload.review.mergeRequest');
      else if (review.target === 'branch') matches(review.branch, ID_PATTERNS.gitRef, 'payload.review.branch', 'a git ref name of at most 200 characters');
      else fail('payload.review.target', 'one of mergeRequest, branch');
      return;
    }
    case 'index':
      matches(payload.index!.repoAlias, ID_PATTERNS.repoAlias, 'payload.index.repoAlias', 'a repository alias ([a-z0-9][a-z0-9._-]{0,62})');
      matches(payload.index!.ref, ID_PATTERNS.gitRef, 'payload.index.ref', 'a git ref name of at most 200 characters');
      return;
    default:
      fail('payload.task', 'one of fix, noop, review, index');
  }
}

/**
 * Checks the fields of a decoded policy bundle payload: shapes and bounds only. The
 * envelope verifier checks audience, tenant, validity window and revision order; the
 * layers' JSON is parsed against libs/policy's schema once the signature checks out.
 */
export function validatePolicyBundlePayload(payload: PolicyBundlePayload__Output): void {
  matches(payload.tenantId, ID_PATTERNS.uuid, 'bundle.tenantId', 'a UUID');
  matches(payload.audience, ID_PATTERNS.uuid, 'bundle.audience', 'a UUID');
  policyRevision(payload.revision, 1, 'bundle.revision');
  validityWindow(payload.issuedAtMs, payload.expiresAtMs, 'bundle');
  check(
    typeof payload.layersJson === 'string' && Buffer.byteLength(payload.layersJson, 'utf8') <= WIRE_LIMITS.maxPolicyLayersJsonBytes,
    'bundle.layersJson',
    `at most ${WIRE_LIMITS.maxPolicyLayersJsonBytes} bytes of UTF-8`,
  );
}
