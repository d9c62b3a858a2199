import type { JobResultMetadata } from '@airlock/data-access';
import { LIMIT_CEILINGS } from '@airlock/policy';
import { DURATION_SLACK_MS, judgeResult, MAX_PLAUSIBLE_JOB_TOKENS, maxPlausibleTokens, type JobLimits } from './result-plausibility';

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

const judged = (overrides: Partial<JobResultMetadata>) => judgeResult(result(overrides), receivedAt)({ dispatchedAt, repoAlias: 'web' });

/** Judged under central limits, as the lookup gives them for the job's repository. */
const judgedUnder = (limits: JobLimits, overrides: Partial<JobResultMetadata>, repoAlias: string | null = 'web') =>
  judgeResult(result(overrides), receivedAt, () => limits)({ dispatchedAt, repoAlias });

const centralLimits: JobLimits = { filesChanged: 3, linesChanged: 100, jobTokens: 50_000 };
const change = (filesChanged: number, linesAdded: number, linesRemoved = 0) => ({ filesChanged, linesAdded, linesRemoved, editsProposed: filesChanged, editsApplied: filesChanged });
const tokens = (total: number) => ({ requests: 4, promptTokens: total - 1_000, completionTokens: 1_000 });

describe('judgeResult', () => {
  it('finds nothing wrong with a result its attempt could have measured', () => {
    expect(judged({})).toEqual([]);
  });

  it('finds nothing wrong with a review or index result for running no tests and changing nothing', () => {
    const noTests = { ...result().verification, testsRan: false, baseTestsRan: false, testsBefore: 0, failingBefore: 0, testsAfter: 0, failingAfter: 0, testsFixed: 0, agentTestRuns: 0 };
    const readOnly = { change: change(0, 0), verification: noTests, phaseDurations: [{ phase: 'PHASE_INFERENCE', durationMs: 30_000 }] };
    expect(judged({ ...readOnly, review: { critical: 1, major: 2, minor: 3, info: 4, dropped: 5 } })).toEqual([]);
    expect(judged({ ...readOnly, tokens: { requests: 0, promptTokens: 0, completionTokens: 0 }, phaseDurations: [{ phase: 'PHASE_CONTEXT', durationMs: 50_000 }] })).toEqual([]);
    // Its durations and tokens are held to its attempt like any other's.
    expect(judged({ ...readOnly, phaseDurations: [{ phase: 'PHASE_INFERENCE', durationMs: 3_600_000 }] })).toEqual(['durations-exceed-wall-time']);
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

  it("refuses a delivered change larger than the central policy's limits allow, and not one at them or a refused one", () => {
    expect(judgedUnder(centralLimits, { change: change(3, 60, 40) })).toEqual([]);
    expect(judgedUnder(centralLimits, { change: change(4, 1) })).toEqual(['change-exceeds-job-limits']);
    expect(judgedUnder(centralLimits, { change: change(1, 60, 41) })).toEqual(['change-exceeds-job-limits']);
    const refused = { outcome: 'JOB_OUTCOME_FAILED', failureCode: 'CHANGE_TOO_LARGE', failedPhase: 'PHASE_APPLY' } as const;
    expect(judgedUnder(centralLimits, { ...refused, change: change(5, 500) })).toEqual([]);
  });

  it("refuses more tokens than the central budget lets a job spend (past it by one request), whatever the outcome", () => {
    const bound = maxPlausibleTokens(centralLimits.jobTokens);
    expect(bound).toBe(2 * 50_000 + LIMIT_CEILINGS.answerTokens);
    expect(judgedUnder(centralLimits, { tokens: tokens(bound) })).toEqual([]);
    expect(judgedUnder(centralLimits, { tokens: tokens(bound + 1) })).toEqual(['tokens-exceed-job-budget']);
    expect(judgedUnder(centralLimits, { tokens: tokens(bound + 1), outcome: 'JOB_OUTCOME_FAILED', failureCode: 'TOKEN_BUDGET_EXHAUSTED', failedPhase: 'PHASE_INFERENCE' })).toEqual([
      'tokens-exceed-job-budget',
    ]);
  });

  it("names a figure past every limit by the ceiling's reason alone", () => {
    const huge = change(LIMIT_CEILINGS.filesChanged + 1, 1);
    expect(judgedUnder(centralLimits, { change: huge, tokens: tokens(MAX_PLAUSIBLE_JOB_TOKENS + 1) })).toEqual(['tokens-exceed-every-budget', 'change-exceeds-every-limit']);
  });

  it('judges by the limits of the job\'s own repository, a task without one by those without a repository layer', () => {
    const byRepository = (repoAlias: string | null): JobLimits => (repoAlias === 'strict' ? { ...centralLimits, filesChanged: 1 } : centralLimits);
    const judge = judgeResult(result({ change: change(2, 10) }), receivedAt, byRepository);
    expect(judge({ dispatchedAt, repoAlias: 'strict' })).toEqual(['change-exceeds-job-limits']);
    expect(judge({ dispatchedAt, repoAlias: 'web' })).toEqual([]);
    expect(judge({ dispatchedAt, repoAlias: null })).toEqual([]);
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
