import type { JobResultMetadata, ModelUsageMetadata, PolicyReportMetadata, ReviewMetadata, VerificationMetadata } from '@airlock/data-access';
import { ruleIdOfWire } from '@airlock/policy';
import { Delivery, FailureCode, Phase, type JobResult__Output, type ModelUsage__Output, type PolicyReport__Output, type ReviewStats__Output, type VerificationStats__Output } from '@airlock/protocol';

const hexOrNull = (mac: Buffer): string | null => (mac.length > 0 ? mac.toString('hex') : null);

/** Copies the validated, closed JobResult into the stored metadata shape, field by field. */
export function toJobResultMetadata(result: JobResult__Output): JobResultMetadata {
  return {
    outcome: result.outcome,
    failureCode: result.failureCode === FailureCode.FAILURE_CODE_UNSPECIFIED ? null : result.failureCode,
    failedPhase: result.failedPhase === Phase.PHASE_UNSPECIFIED ? null : result.failedPhase,
    phaseDurations: result.phaseDurations.map((entry) => ({ phase: entry.phase, durationMs: entry.durationMs })),
    tokens: {
      requests: result.tokens?.requests ?? 0,
      promptTokens: result.tokens?.promptTokens ?? 0,
      completionTokens: result.tokens?.completionTokens ?? 0,
    },
    change: {
      filesChanged: result.change?.filesChanged ?? 0,
      linesAdded: result.change?.linesAdded ?? 0,
      linesRemoved: result.change?.linesRemoved ?? 0,
      editsProposed: result.change?.editsProposed ?? 0,
      editsApplied: result.change?.editsApplied ?? 0,
    },
    verification: toVerificationMetadata(result.verification),
    contextFiles: result.contextFiles,
    changeMac: hexOrNull(result.changeMac),
    deliveryMac: hexOrNull(result.deliveryMac),
    ticketRefMac: hexOrNull(result.ticketRefMac),
    policy: toPolicyReportMetadata(result.policy),
    metadataLevel: result.metadataLevel,
    modelUsage: result.modelUsage.map(toModelUsageMetadata),
    delivery: result.delivery === Delivery.DELIVERY_UNSPECIFIED ? null : result.delivery.replace(/^DELIVERY_/, ''),
    review: toReviewMetadata(result.review),
  };
}

/**
 * A review's comment counts, or null: for other tasks, at the MINIMAL level, and from a worker
 * older than the field. validateWorkerFrame held each count to WIRE_LIMITS.maxReviewComments.
 */
function toReviewMetadata(stats: ReviewStats__Output | null): ReviewMetadata | null {
  if (stats === null) return null;
  return { critical: stats.critical, major: stats.major, minor: stats.minor, info: stats.info, dropped: stats.dropped };
}

/**
 * One endpoint's figures. validateWorkerFrame held the names to the worker config's shapes,
 * the entries to configured order and the figures to the result's totals.
 */
function toModelUsageMetadata(entry: ModelUsage__Output): ModelUsageMetadata {
  return {
    endpointIndex: entry.endpointIndex,
    endpoint: entry.endpoint,
    model: entry.model,
    requests: entry.requests,
    promptTokens: entry.promptTokens,
    completionTokens: entry.completionTokens,
  };
}

/**
 * The rules that fired, by rule id: `RULE_LEVEL_MANDATORY` becomes MANDATORY and
 * `RULE_OUTCOME_BLOCKED` BLOCKED. validateWorkerFrame admitted known values only.
 */
function toPolicyReportMetadata(report: PolicyReport__Output | null): PolicyReportMetadata {
  return {
    revision: report?.revision ?? 0,
    shadowRevision: report?.shadowRevision ?? 0,
    decisions: (report?.decisions ?? []).flatMap((decision) => {
      const rule = ruleIdOfWire(decision.rule);
      return rule ? [{ rule, level: decision.level.replace(/^RULE_LEVEL_/, ''), outcome: decision.outcome.replace(/^RULE_OUTCOME_/, '') }] : [];
    }),
  };
}

function toVerificationMetadata(stats: VerificationStats__Output | null): VerificationMetadata {
  return {
    testsRan: stats?.testsRan ?? false,
    testExitCode: stats?.testExitCode ?? 0,
    baseTestsRan: stats?.baseTestsRan ?? false,
    baseTestExitCode: stats?.baseTestExitCode ?? 0,
    baseReportRead: stats?.baseReportRead ?? false,
    reportRead: stats?.reportRead ?? false,
    testsBefore: stats?.testsBefore ?? 0,
    failingBefore: stats?.failingBefore ?? 0,
    testsAfter: stats?.testsAfter ?? 0,
    failingAfter: stats?.failingAfter ?? 0,
    testsFixed: stats?.testsFixed ?? 0,
    testsRegressed: stats?.testsRegressed ?? 0,
    agentTestRuns: stats?.agentTestRuns ?? 0,
    reproductionAdded: stats?.reproductionAdded ?? false,
  };
}
