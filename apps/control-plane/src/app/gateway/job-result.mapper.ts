import type { JobResultMetadata } from '@airlock/data-access';
import { FailureCode, Phase, type JobResult__Output } from '@airlock/protocol';

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
    verification: { testsRan: result.verification?.testsRan ?? false, testExitCode: result.verification?.testExitCode ?? 0 },
    contextFiles: result.contextFiles,
    changeMac: hexOrNull(result.changeMac),
    deliveryMac: hexOrNull(result.deliveryMac),
  };
}
