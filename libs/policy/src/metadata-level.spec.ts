import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { validateWorkerFrame, type JobResult__Output } from '@airlock/protocol';
import { applyMetadataLevel, bucketCount, roundDurationMs } from './metadata-level';

const result = (): JobResult__Output => ({
  attempt: { jobId: randomUUID(), attempt: 2 },
  outcome: 'JOB_OUTCOME_SUCCEEDED',
  failureCode: 'FAILURE_CODE_UNSPECIFIED',
  failedPhase: 'PHASE_UNSPECIFIED',
  phaseDurations: [
    { phase: 'PHASE_INFERENCE', durationMs: 12_345 },
    { phase: 'PHASE_TEST', durationMs: 49 },
  ],
  tokens: { requests: 7, promptTokens: 48_213, completionTokens: 1_024 },
  change: { filesChanged: 3, linesAdded: 41, linesRemoved: 9, editsProposed: 6, editsApplied: 5 },
  verification: {
    testsRan: true, testExitCode: 0, baseTestsRan: true, baseTestExitCode: 2, baseReportRead: true, reportRead: true,
    testsBefore: 130, failingBefore: 3, testsAfter: 131, failingAfter: 1, testsFixed: 3, testsRegressed: 1, agentTestRuns: 4, reproductionAdded: true,
  },
  contextFiles: 17,
  changeMac: randomBytes(32),
  deliveryMac: randomBytes(32),
  policy: { revision: 4, shadowRevision: 0, decisions: [{ rule: 'RULE_MAX_LINES_CHANGED', level: 'RULE_LEVEL_ADVISORY', outcome: 'RULE_OUTCOME_RECORDED' }] },
  metadataLevel: 'METADATA_LEVEL_STANDARD',
  // The primary failed three tries of one request, then answered three more; a fallback answered four.
  review: null,
  ticketRefMac: Buffer.alloc(32, 0x5c),
  delivery: 'DELIVERY_MERGE_REQUEST_OPENED',
  modelUsage: [
    { endpointIndex: 0, endpoint: 'local-vllm', model: 'Qwen/Qwen2.5-Coder-32B-Instruct', requests: 3, promptTokens: 40_000, completionTokens: 800 },
    { endpointIndex: 2, endpoint: 'spare.ollama', model: 'qwen2.5-coder:7b', requests: 4, promptTokens: 8_213, completionTokens: 224 },
  ],
});

describe('bucketCount', () => {
  it.each([
    [0, 0], [1, 1], [2, 2], [3, 2], [4, 4], [7, 4], [8, 8], [130, 128], [1_023, 512], [1_024, 1_024], [2 ** 32 - 1, 2 ** 31],
  ])('%d → %d', (count, bucket) => {
    expect(bucketCount(count)).toBe(bucket);
  });

  it('never rises above the count and keeps ordered counts ordered', () => {
    for (let i = 0; i < 2_000; i += 1) {
      const a = randomInt(0, 1_000_000);
      const b = a + randomInt(0, 1_000_000);
      expect(bucketCount(a)).toBeLessThanOrEqual(a);
      expect(bucketCount(a)).toBeLessThanOrEqual(bucketCount(b));
    }
  });
});

describe('roundDurationMs', () => {
  it.each([
    [0, 0], [49, 0], [50, 100], [149, 100], [12_345, 12_300], [12_350, 12_400], [2 ** 32 - 1, 4_294_967_200],
  ])('%d ms → %d ms', (ms, rounded) => {
    expect(roundDurationMs(ms)).toBe(rounded);
  });
});

describe('applyMetadataLevel', () => {
  it('minimal keeps the outcome, rounded durations and the policy report, and empties the rest', () => {
    const full = result();
    expect(applyMetadataLevel(full, { report: 'minimal', buckets: false })).toEqual({
      attempt: full.attempt,
      outcome: 'JOB_OUTCOME_SUCCEEDED',
      failureCode: 'FAILURE_CODE_UNSPECIFIED',
      failedPhase: 'PHASE_UNSPECIFIED',
      phaseDurations: [
        { phase: 'PHASE_INFERENCE', durationMs: 12_300 },
        { phase: 'PHASE_TEST', durationMs: 0 },
      ],
      tokens: null,
      change: null,
      verification: null,
      contextFiles: 0,
      changeMac: Buffer.alloc(0),
      deliveryMac: Buffer.alloc(0),
      policy: full.policy,
      metadataLevel: 'METADATA_LEVEL_MINIMAL',
      modelUsage: [],
      delivery: 'DELIVERY_UNSPECIFIED',
      ticketRefMac: Buffer.alloc(0),
      review: null,
    });
    // Buckets change nothing once the figures are gone.
    expect(applyMetadataLevel(full, { report: 'minimal', buckets: true })).toEqual(applyMetadataLevel(full, { report: 'minimal', buckets: false }));
  });

  it('standard without buckets leaves every figure exact', () => {
    const full = result();
    expect(applyMetadataLevel({ ...full, metadataLevel: 'METADATA_LEVEL_UNSPECIFIED' }, { report: 'standard', buckets: false })).toEqual(full);
  });

  it('standard with buckets floors counts and tokens to powers of two, exit codes to 0 or 1, durations to 100 ms', () => {
    const full = result();
    const bucketed = applyMetadataLevel(full, { report: 'standard', buckets: true });
    expect(bucketed).toEqual({
      ...full,
      phaseDurations: [
        { phase: 'PHASE_INFERENCE', durationMs: 12_300 },
        { phase: 'PHASE_TEST', durationMs: 0 },
      ],
      tokens: { requests: 4, promptTokens: 32_768, completionTokens: 1_024 },
      change: { filesChanged: 2, linesAdded: 32, linesRemoved: 8, editsProposed: 4, editsApplied: 4 },
      verification: {
        testsRan: true, testExitCode: 0, baseTestsRan: true, baseTestExitCode: 1, baseReportRead: true, reportRead: true,
        testsBefore: 128, failingBefore: 2, testsAfter: 128, failingAfter: 1, testsFixed: 2, testsRegressed: 1, agentTestRuns: 4, reproductionAdded: true,
      },
      contextFiles: 16,
      metadataLevel: 'METADATA_LEVEL_STANDARD_BUCKETED',
      // Each endpoint's figures are floored on their own, like the totals; names and indexes stay.
      modelUsage: [
        { endpointIndex: 0, endpoint: 'local-vllm', model: 'Qwen/Qwen2.5-Coder-32B-Instruct', requests: 2, promptTokens: 32_768, completionTokens: 512 },
        { endpointIndex: 2, endpoint: 'spare.ollama', model: 'qwen2.5-coder:7b', requests: 4, promptTokens: 8_192, completionTokens: 128 },
      ],
    });
    expect(bucketed.changeMac).toEqual(full.changeMac);
  });

  it('keeps a failed result without statistics as it is, nulls included', () => {
    const failed: JobResult__Output = { ...result(), outcome: 'JOB_OUTCOME_FAILED', failureCode: 'POLICY_VIOLATION', failedPhase: 'PHASE_APPLY', tokens: null, change: null, verification: null };
    expect(applyMetadataLevel(failed, { report: 'standard', buckets: true })).toMatchObject({ tokens: null, change: null, verification: null, failureCode: 'POLICY_VIOLATION' });
  });

  it("keeps the protocol's consistency checks true at every level, for any consistent counts", () => {
    for (let i = 0; i < 500; i += 1) {
      const testsBefore = randomInt(0, 5_000);
      const failingBefore = randomInt(0, testsBefore + 1);
      const testsAfter = randomInt(0, 5_000);
      const failingAfter = randomInt(0, testsAfter + 1);
      const editsProposed = randomInt(0, 100);
      const modelUsage = randomModelUsage();
      const full: JobResult__Output = {
        ...result(),
        modelUsage,
        tokens: {
          requests: modelUsage.reduce((sum, entry) => sum + entry.requests, 0),
          promptTokens: modelUsage.reduce((sum, entry) => sum + entry.promptTokens, 0),
          completionTokens: modelUsage.reduce((sum, entry) => sum + entry.completionTokens, 0),
        },
        change: { filesChanged: randomInt(0, 50), linesAdded: randomInt(0, 3_000), linesRemoved: randomInt(0, 3_000), editsProposed, editsApplied: randomInt(0, editsProposed + 1) },
        verification: {
          ...result().verification!,
          testExitCode: randomInt(0, 256),
          baseTestExitCode: randomInt(0, 256),
          testsBefore,
          failingBefore,
          testsAfter,
          failingAfter,
          testsFixed: randomInt(0, failingBefore + 1),
          testsRegressed: randomInt(0, failingAfter + 1),
        },
      };
      for (const metadata of [{ report: 'minimal', buckets: false }, { report: 'standard', buckets: false }, { report: 'standard', buckets: true }] as const) {
        const applied = applyMetadataLevel(full, metadata);
        expect(() => validateWorkerFrame({ frame: 'result', result: applied })).not.toThrow();
        const v = applied.verification;
        if (v === null) continue;
        expect([v.failingBefore <= v.testsBefore, v.failingAfter <= v.testsAfter, v.testsFixed <= v.failingBefore, v.testsRegressed <= v.failingAfter]).toEqual([true, true, true, true]);
        expect(applied.change!.editsApplied).toBeLessThanOrEqual(applied.change!.editsProposed);
      }
    }
  });
});

/** Up to four of sixteen endpoints, in configured order, with any figures (a failed endpoint has requests and no tokens). */
function randomModelUsage(): JobResult__Output['modelUsage'] {
  const indexes = [...new Set(Array.from({ length: randomInt(0, 5) }, () => randomInt(0, 16)))].sort((a, b) => a - b);
  return indexes.map((endpointIndex) => {
    const answered = randomInt(0, 2) === 1;
    return {
      endpointIndex,
      endpoint: `endpoint-${endpointIndex}`,
      model: 'org/model:tag',
      requests: randomInt(1, 40),
      promptTokens: answered ? randomInt(0, 400_000) : 0,
      completionTokens: answered ? randomInt(0, 20_000) : 0,
    };
  });
}
