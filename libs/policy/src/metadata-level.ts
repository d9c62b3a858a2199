import { Delivery, MetadataLevel, type JobResult__Output } from '@airlock/protocol';
import type { EffectivePolicy } from './effective-policy';

const UINT32_MAX = 0xffff_ffff;

/**
 * A count rounded down to 0 or a power of two (0, 1, 2, 4, 8 …). Monotonic, so counts that
 * are ordered stay ordered (failing ≤ run, applied ≤ proposed), which the protocol checks.
 */
export function bucketCount(count: number): number {
  if (!(count >= 1)) return 0;
  let bucket = 1;
  while (bucket * 2 <= count) bucket *= 2;
  return bucket;
}

/** A duration rounded to the nearest 100 ms, never past what a uint32 holds. */
export function roundDurationMs(ms: number): number {
  if (!(ms > 0)) return 0;
  const rounded = Math.round(ms / 100) * 100;
  return rounded > UINT32_MAX ? Math.floor(UINT32_MAX / 100) * 100 : rounded;
}

/**
 * The result as the effective metadata level lets it leave the worker.
 *
 * - minimal: the attempt, outcome, failure code, failed phase, phase durations rounded to
 *   100 ms and the policy report; token, change and verification figures, the context
 *   file count, both MACs, the tokens per endpoint and model, the delivery kind, the ticket
 *   digest and the review counts are left empty.
 * - standard: every field, exact.
 * - standard with buckets: every field, but each count and token figure rounded down to 0
 *   or a power of two (those per endpoint each on its own, like the totals), exit codes to
 *   0 or 1, durations to 100 ms; booleans, MACs and endpoint and model names as they are.
 */
export function applyMetadataLevel(result: JobResult__Output, metadata: EffectivePolicy['metadata']): JobResult__Output {
  if (metadata.report === 'minimal') {
    return {
      attempt: result.attempt,
      outcome: result.outcome,
      failureCode: result.failureCode,
      failedPhase: result.failedPhase,
      phaseDurations: roundedDurations(result),
      tokens: null,
      change: null,
      verification: null,
      contextFiles: 0,
      changeMac: Buffer.alloc(0),
      deliveryMac: Buffer.alloc(0),
      policy: result.policy,
      metadataLevel: MetadataLevel.METADATA_LEVEL_MINIMAL,
      modelUsage: [],
      delivery: Delivery.DELIVERY_UNSPECIFIED,
      ticketRefMac: Buffer.alloc(0),
      review: null,
    };
  }
  if (!metadata.buckets) return { ...result, metadataLevel: MetadataLevel.METADATA_LEVEL_STANDARD };
  const { tokens, change, verification } = result;
  return {
    ...result,
    phaseDurations: roundedDurations(result),
    tokens: tokens && { requests: bucketCount(tokens.requests), promptTokens: bucketCount(tokens.promptTokens), completionTokens: bucketCount(tokens.completionTokens) },
    change: change && {
      filesChanged: bucketCount(change.filesChanged),
      linesAdded: bucketCount(change.linesAdded),
      linesRemoved: bucketCount(change.linesRemoved),
      editsProposed: bucketCount(change.editsProposed),
      editsApplied: bucketCount(change.editsApplied),
    },
    verification: verification && {
      testsRan: verification.testsRan,
      testExitCode: bucketExitCode(verification.testExitCode),
      baseTestsRan: verification.baseTestsRan,
      baseTestExitCode: bucketExitCode(verification.baseTestExitCode),
      baseReportRead: verification.baseReportRead,
      testsBefore: bucketCount(verification.testsBefore),
      failingBefore: bucketCount(verification.failingBefore),
      testsAfter: bucketCount(verification.testsAfter),
      failingAfter: bucketCount(verification.failingAfter),
      testsFixed: bucketCount(verification.testsFixed),
      testsRegressed: bucketCount(verification.testsRegressed),
      agentTestRuns: bucketCount(verification.agentTestRuns),
      reproductionAdded: verification.reproductionAdded,
      reportRead: verification.reportRead,
    },
    contextFiles: bucketCount(result.contextFiles),
    review: result.review && {
      critical: bucketCount(result.review.critical),
      major: bucketCount(result.review.major),
      minor: bucketCount(result.review.minor),
      info: bucketCount(result.review.info),
      dropped: bucketCount(result.review.dropped),
    },
    metadataLevel: MetadataLevel.METADATA_LEVEL_STANDARD_BUCKETED,
    modelUsage: result.modelUsage.map((entry) => ({
      endpointIndex: entry.endpointIndex,
      endpoint: entry.endpoint,
      model: entry.model,
      requests: bucketCount(entry.requests),
      promptTokens: bucketCount(entry.promptTokens),
      completionTokens: bucketCount(entry.completionTokens),
    })),
  };
}

function roundedDurations(result: JobResult__Output): JobResult__Output['phaseDurations'] {
  return result.phaseDurations.map((entry) => ({ phase: entry.phase, durationMs: roundDurationMs(entry.durationMs) }));
}

function bucketExitCode(code: number): number {
  return code === 0 ? 0 : 1;
}
