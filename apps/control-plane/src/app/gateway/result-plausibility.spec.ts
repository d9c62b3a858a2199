import type { JobResultMetadata } from '@airlock/data-access';
import { LIMIT_CEILINGS } from '@airlock/policy';
import { DURATION_SLACK_MS, judgeResult, MAX_PLAUSIBLE_JOB_TOKENS } from './result-plausibility';

const dispatchedAt = new Date('2026-11-30T10:00:00.000Z');
const receivedAt = new Date(dispatchedAt.getTime() + 60_000);

function result(overrides: Partial<JobResultMetadata> = {}): JobResultMetadata {
  return {
    outcome: 'JOB_OUTCOME_SUCCEEDED',
    failureCode: null,
    failedPhase: null,
    phaseDurations: [
      { phase: 'PHASE_INFERENCE', durationMs: 30_000 },
      { phase: 'PHASE_TEST', durationMs: 20_000 },
    ],
    tokens: { requests: 3, promptTokens: 12_000, completionTokens: 900 },
    change: { filesChanged: 2, linesAdded: 10, linesRemoved: 4, editsProposed: 2, editsApplied: 2 },
    verification: {
      testsRan: true, testExitCode: 0, baseTestsRan: true, baseTestExitCode: 1, baseReportRead: true, reportRead: true,
      testsBefore: 10, failingBefore: 1, testsAfter: 10, failingAfter: 0, testsFixed: 1, testsRegressed: 0, agentTestRuns: 1, reproductionAdded: false,
    },
    contextFiles: 4,
    changeMac: null,
    deliveryMac: null,
    policy: { revision: 0, shadowRevision: 0, decisions: [] },
    metadataLevel: 'METADATA_LEVEL_STANDARD',
    ...overrides,
  };
}

const judged = (overrides: Partial<JobResultMetadata>) => judgeResult(result(overrides), receivedAt)({ dispatchedAt });

describe('judgeResult', () => {
  it('finds nothing wrong with a result its attempt could have measured', () => {
    expect(judged({})).toEqual([]);
  });

  it('refuses phases that took longer than the attempt has existed, beyond the rounding slack', () => {
    expect(judged({ phaseDurations: [{ phase: 'PHASE_TEST', durationMs: 60_000 + DURATION_SLACK_MS }] })).toEqual([]);
    expect(judged({ phaseDurations: [{ phase: 'PHASE_TEST', durationMs: 40_000 }, { phase: 'PHASE_INFERENCE', durationMs: 22_000 }] })).toEqual(['durations-exceed-wall-time']);
    expect(judged({ phaseDurations: [{ phase: 'PHASE_TEST', durationMs: 2 ** 32 - 1 }] })).toEqual(['durations-exceed-wall-time']);
  });

  it('refuses more tokens than any budget lets a job spend', () => {
    expect(judged({ tokens: { requests: 1, promptTokens: MAX_PLAUSIBLE_JOB_TOKENS - 1, completionTokens: 1 } })).toEqual([]);
    expect(judged({ tokens: { requests: 1, promptTokens: 2 ** 32 - 1, completionTokens: 2 ** 32 - 1 } })).toEqual(['tokens-exceed-every-budget']);
  });

  it('refuses a delivered change larger than any limit allows, and not a refused one', () => {
    const huge = { filesChanged: LIMIT_CEILINGS.filesChanged + 1, linesAdded: 1, linesRemoved: 0, editsProposed: 1, editsApplied: 1 };
    expect(judged({ change: huge })).toEqual(['change-exceeds-every-limit']);
    expect(judged({ change: { ...huge, filesChanged: 1, linesAdded: LIMIT_CEILINGS.linesChanged + 1 } })).toEqual(['change-exceeds-every-limit']);
    expect(judged({ change: huge, outcome: 'JOB_OUTCOME_FAILED', failureCode: 'CHANGE_TOO_LARGE', failedPhase: 'PHASE_APPLY' })).toEqual([]);
  });

  it('names every reason that holds', () => {
    expect(
      judged({
        phaseDurations: [{ phase: 'PHASE_TEST', durationMs: 2 ** 32 - 1 }],
        tokens: { requests: 1, promptTokens: 2 ** 32 - 1, completionTokens: 0 },
        change: { filesChanged: 2 ** 32 - 1, linesAdded: 0, linesRemoved: 0, editsProposed: 1, editsApplied: 1 },
      }),
    ).toEqual(['durations-exceed-wall-time', 'tokens-exceed-every-budget', 'change-exceeds-every-limit']);
  });
});
