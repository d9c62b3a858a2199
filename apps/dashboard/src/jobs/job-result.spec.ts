import { readJobResult, reviewFigures } from './job-result';

const succeeded = {
  outcome: 'JOB_OUTCOME_SUCCEEDED',
  failureCode: null,
  failedPhase: null,
  phaseDurations: [{ phase: 'PHASE_WORKSPACE', durationMs: 120 }],
  tokens: { requests: 3, promptTokens: 1_200, completionTokens: 300 },
  change: { filesChanged: 1, linesAdded: 2, linesRemoved: 1, editsProposed: 1, editsApplied: 1 },
  verification: {
    testsRan: true,
    testExitCode: 0,
    baseTestsRan: true,
    baseTestExitCode: 1,
    baseReportRead: true,
    reportRead: true,
    testsBefore: 3,
    failingBefore: 1,
    testsAfter: 3,
    failingAfter: 0,
    testsFixed: 1,
    testsRegressed: 0,
    agentTestRuns: 1,
    reproductionAdded: false,
  },
  contextFiles: 2,
  changeMac: 'ab',
  deliveryMac: 'cd',
  policy: {
    revision: 4,
    shadowRevision: 0,
    decisions: [
      { rule: 'max-files-changed', level: 'MANDATORY', outcome: 'RECORDED' },
      { rule: 'protected-paths', level: 'ADVISORY', outcome: 'SHADOW_WOULD_BLOCK' },
      { rule: 'max-files-changed', level: 'MANDATORY', outcome: 'RECORDED' },
    ],
  },
  metadataLevel: 'METADATA_LEVEL_STANDARD',
  delivery: 'MERGE_REQUEST_OPENED',
  modelUsage: [{ endpointIndex: 0, endpoint: 'local-sim', model: 'airlock-sim-coder', requests: 3, promptTokens: 1_200, completionTokens: 300 }],
};

describe('readJobResult', () => {
  it('reads the counts of a full result and counts decisions by rule', () => {
    const view = readJobResult(succeeded);
    expect(view).toMatchObject({
      outcome: 'JOB_OUTCOME_SUCCEEDED',
      tokens: { requests: 3, promptTokens: 1_200, completionTokens: 300 },
      change: { filesChanged: 1, linesAdded: 2, linesRemoved: 1 },
      verification: { testsBefore: 3, failingBefore: 1, failingAfter: 0, testsFixed: 1, testsRan: true },
      contextFiles: 2,
      modelUsage: [{ endpoint: 'local-sim', model: 'airlock-sim-coder', requests: 3 }],
      delivery: 'MERGE_REQUEST_OPENED',
    });
    expect(view?.policy).toEqual({
      revision: 4,
      shadowRevision: 0,
      rules: [
        { rule: 'max-files-changed', level: 'MANDATORY', outcome: 'RECORDED', count: 2 },
        { rule: 'protected-paths', level: 'ADVISORY', outcome: 'SHADOW_WOULD_BLOCK', count: 1 },
      ],
    });
  });

  it('shows what an older or thinner result lacks as missing, not as zero', () => {
    const { policy: _policy, modelUsage: _usage, metadataLevel: _level, delivery: _delivery, ...older } = succeeded;
    const view = readJobResult({ ...older, change: { filesChanged: 1 } });
    expect(view).toMatchObject({ policy: null, modelUsage: [], metadataLevel: null, change: null, delivery: null, review: null });
    expect(readJobResult(null)).toBeNull();
    expect(readJobResult('text')).toBeNull();
  });
});

describe('a review result', () => {
  const review = { critical: 1, major: 2, minor: 8, info: 0, dropped: 3 };

  it('reads the comments by severity, and lists them most severe first, then those not posted', () => {
    const view = readJobResult({ ...succeeded, delivery: null, review });
    expect(view?.review).toEqual(review);
    expect(reviewFigures(review)).toEqual([
      { label: 'Critical', value: 1, posted: true },
      { label: 'Major', value: 2, posted: true },
      { label: 'Minor', value: 8, posted: true },
      { label: 'Info', value: 0, posted: true },
      { label: 'Not posted', value: 3, posted: false },
    ]);
  });

  it('has no counts at the minimal level, nor when a count is missing or not a number', () => {
    expect(readJobResult({ ...succeeded, review: null, metadataLevel: 'METADATA_LEVEL_MINIMAL' })?.review).toBeNull();
    const { dropped: _dropped, ...partial } = review;
    expect(readJobResult({ ...succeeded, review: partial })?.review).toBeNull();
    expect(readJobResult({ ...succeeded, review: { ...review, major: '2' } })?.review).toBeNull();
  });
});
