import {
  countOf,
  describeBudget,
  describeFunnel,
  describeGrouping,
  describeLeftOut,
  describeMergeRequests,
  describeReviews,
  describeSuccessSlices,
  formatHours,
  formatMoney,
  formatRate,
  funnelStages,
  hoursSavedAssumption,
  peakOf,
  refreshDelayMs,
  sliceLabel,
  usageLabel,
  type AnalyticsReport,
} from './analytics-figures';

const funnel: AnalyticsReport['funnel'] = { attribution: 'creation-day', created: 10, ran: 8, testsPassed: 6, delivered: 5, deliveredWithoutTestsPassed: 0, notYetDispatched: 1 };

const budget = (overrides: Partial<AnalyticsReport['budget']>): AnalyticsReport['budget'] => ({
  currency: 'EUR',
  monthlyBudget: 100,
  month: '2026-12',
  spentThisMonth: 25,
  remaining: 75,
  trailing7DayDailySpend: 5,
  daysLeft: 15,
  ...overrides,
});

describe('analytics figures in words', () => {
  it('formats money in the tenant currency, keeping fractions of a cent under 1', () => {
    expect(formatMoney(1234.5, 'EUR')).toBe('€1,234.50');
    expect(formatMoney(0.0123, 'USD')).toBe('$0.0123');
    expect(formatMoney(0, 'USD')).toBe('$0.00');
    expect(formatMoney(2, 'XYZ1')).toBe('2.00 XYZ1');
  });

  it('formats rates and hours', () => {
    expect(formatRate(0.8333)).toBe('83.3%');
    expect(formatRate(1)).toBe('100%');
    expect(formatRate(null)).toBe('—');
    expect(formatHours(2)).toBe('2.0 h');
    expect(formatHours(2.25)).toBe('2.25 h');
    expect(formatHours(1234.5)).toBe('1,234.5 h');
    expect(countOf(1, 'job')).toBe('1 job');
    expect(countOf(1200, 'job')).toBe('1,200 jobs');
  });

  it('gives each funnel stage its share of the stage before and of all created', () => {
    expect(funnelStages(funnel)).toEqual([
      { stage: 'Created', count: 10, ofPrevious: null, ofCreated: 1 },
      { stage: 'Ran', count: 8, ofPrevious: 0.8, ofCreated: 0.8 },
      { stage: 'Tests passed', count: 6, ofPrevious: 0.75, ofCreated: 0.6 },
      { stage: 'Delivered', count: 5, ofPrevious: 5 / 6, ofCreated: 0.5 },
    ]);
    expect(describeFunnel(funnel)).toBe('Of 10 jobs created, 8 ran, 6 passed their tests and 5 delivered a change (50% of those created).');
    expect(funnelStages({ ...funnel, created: 0, ran: 0, testsPassed: 0, delivered: 0 }).map((stage) => stage.ofPrevious)).toEqual([null, null, null, null]);
    expect(describeFunnel({ ...funnel, created: 0 })).toBe('No job was created in this range.');
  });

  it('names merged and special slices in words', () => {
    expect(sliceLabel('repository', '(other)', true, 3)).toBe('Other (3 slices merged)');
    expect(sliceLabel('pool', '(not dispatched)')).toBe('Not taken by a worker yet');
    // "(none)" is a job without a repository in one breakdown, a worker without a pool in the other.
    expect(sliceLabel('repository', '(none)')).toBe('No repository (noop jobs)');
    expect(sliceLabel('pool', '(none)')).toBe('Worker without a pool');
    expect(sliceLabel('repository', 'billing')).toBe('billing');
    const usage = { endpoint: 'primary', model: 'qwen', other: false, mergedSlices: 1, jobs: 1, requests: 1, promptTokens: 1, completionTokens: 1, cost: 0 };
    expect(usageLabel(usage)).toBe('primary · qwen');
    expect(usageLabel({ ...usage, endpoint: '(unreported)', model: '(unreported)' })).toBe('Model not reported');
    expect(usageLabel({ ...usage, endpoint: '(other)', model: '(other)', other: true, mergedSlices: 2 })).toBe('Other (2 slices merged)');
  });

  it('sums up success by slice: the highest and the lowest rate', () => {
    const slice = (key: string, ran: number, delivered: number) => ({ key, other: false, mergedSlices: 1, jobs: ran, ran, delivered, successRate: ran > 0 ? delivered / ran : null });
    expect(describeSuccessSlices([slice('web', 4, 3), slice('api', 5, 5), slice('idle', 0, 0)], 'repository')).toBe('Highest: api, 100% of 5 that ran. Lowest: web, 75% of 4.');
    expect(describeSuccessSlices([slice('web', 4, 3)], 'repository')).toBe('web: 75% of the 4 jobs that ran delivered a change.');
    expect(describeSuccessSlices([slice('idle', 0, 0)], 'pool')).toBe('None of these jobs ran yet, so there is no success rate by pool.');
  });

  it('states the hours-saved assumption next to the figure, and says when none is set', () => {
    expect(
      hoursSavedAssumption([
        { kind: 'fix', deliveredChanges: 4, hoursPerDeliveredChange: 2, hours: 8 },
        { kind: 'noop', deliveredChanges: 0, hoursPerDeliveredChange: 0, hours: 0 },
      ]),
    ).toBe('2.0 h per delivered fix, set by your manager.');
    expect(hoursSavedAssumption([{ kind: 'fix', deliveredChanges: 4, hoursPerDeliveredChange: 0, hours: 0 }])).toBe(
      'No hours per delivered change are set yet: a manager sets them in the analytics settings.',
    );
  });

  it('describes the budget burn and the days left at the recent pace', () => {
    expect(describeBudget(budget({}))).toEqual({
      burn: '25% of €100.00',
      burnNote: '€25.00 spent in 2026-12. The budget covers the whole organisation: no filter applies to it.',
      daysLeft: '15 days',
      daysLeftNote: 'At €5.00 a day, the pace of the last 7 days, €75.00 lasts about this long.',
    });
    expect(describeBudget(budget({ spentThisMonth: 120, remaining: -20, daysLeft: 0 }))).toMatchObject({
      burn: '120% of €100.00',
      burnNote: expect.stringContaining('€120.00 spent in 2026-12, €20.00 over.'),
      daysLeft: 'None',
    });
    expect(describeBudget(budget({ daysLeft: null, trailing7DayDailySpend: 0 })).daysLeftNote).toBe('Nothing was spent in the last 7 days, so there is no pace to project from.');
    expect(describeBudget(budget({ monthlyBudget: null, remaining: null, daysLeft: null }))).toMatchObject({ burn: 'No budget set', daysLeft: null });
  });

  it('counts the implausible results left out, and says so when there are none', () => {
    expect(describeLeftOut({ implausibleCreated: 0, implausibleFinished: 0 })).toBe('No implausible result was left out of these figures.');
    expect(describeLeftOut({ implausibleCreated: 1, implausibleFinished: 2 })).toContain('1 job created and 2 jobs finished');
  });

  it('states the minimum group size and whether a slice was merged', () => {
    const report = {
      minimumGroupSize: 5,
      successRate: { byRepository: [{ key: '(other)', other: true }], byPool: [], byModel: [] },
      models: { usage: [] },
      policy: { rules: [] },
    } as unknown as AnalyticsReport;
    expect(describeGrouping(report)).toContain('fewer than 5 jobs into “Other”');
    expect(describeGrouping(report)).toContain('Some slices below were merged.');
  });

  it('finds the peak of a series, none when all are zero', () => {
    expect(peakOf([{ v: 0 }, { v: 3 }, { v: 2 }], (point) => point.v)).toEqual({ point: { v: 3 }, value: 3 });
    expect(peakOf([{ v: 0 }], (point) => point.v)).toBeNull();
  });
});

describe('refreshing after jobs end', () => {
  it('reads at once when the last read is old enough, else waits out the gap', () => {
    expect(refreshDelayMs(null, 10_000, 5_000)).toBe(0);
    expect(refreshDelayMs(1_000, 10_000, 5_000)).toBe(0);
    expect(refreshDelayMs(8_000, 10_000, 5_000)).toBe(3_000);
  });
});

describe('describeMergeRequests', () => {
  const mergeRequests: AnalyticsReport['mergeRequests'] = {
    attribution: 'creation-day',
    reported: 8,
    open: 2,
    merged: 5,
    closedUnmerged: 1,
    reverted: 1,
    withFigures: 6,
    reworkedByPeople: 3,
    timeToFirstReview: { count: 4, p50S: 19_800, p90S: 86_400 },
    timeToMerge: { count: 4, p50S: 172_800, p90S: 259_200 },
  };

  it('puts the median wait for a first review up front, with what it is taken over', () => {
    const words = describeMergeRequests(mergeRequests);
    expect(words.firstReviewWait).toBe('5 h 30 min');
    expect(words.firstReviewNote).toBe(
      "Median from opening to a person's first review, over 4 reviewed requests; 90th percentile 24 h 00 min. 2 requests reported at the minimal level, without times or counts.",
    );
    expect(words.outcomes).toEqual([
      { label: 'Reported', value: '8' },
      { label: 'Still open', value: '2 (25%)' },
      { label: 'Merged', value: '5 (62.5%)' },
      { label: 'Closed unmerged', value: '1 (12.5%)' },
      { label: 'Reverted after merging', value: '1 (12.5%)' },
      { label: 'Reworked by people', value: '3 of 6 with counts' },
    ]);
    expect(words.mergeNote).toBe('Median time to merge 48 h 00 min, over 4 merged requests.');
  });

  it('says when nothing was reported or reviewed rather than showing zero waits', () => {
    const none = describeMergeRequests({ ...mergeRequests, reported: 0, open: 0, merged: 0, closedUnmerged: 0, reverted: 0, withFigures: 0, reworkedByPeople: 0, timeToFirstReview: { count: 0, p50S: null, p90S: null }, timeToMerge: { count: 0, p50S: null, p90S: null } });
    expect(none).toMatchObject({ firstReviewWait: '—', firstReviewNote: 'No worker reported on a merge request of the jobs created in this range.', mergeNote: 'No merge with a reported time in this range.' });
    expect(none.outcomes[1]).toEqual({ label: 'Still open', value: '0 (—)' });
    const unreviewed = describeMergeRequests({ ...mergeRequests, reported: 6, timeToFirstReview: { count: 0, p50S: null, p90S: null } });
    expect(unreviewed.firstReviewNote).toBe('None of the 6 requests reported with times was reviewed by a person yet.');
  });
});

describe('describeReviews', () => {
  const reviews: AnalyticsReport['reviews'] = {
    attribution: 'finish-day',
    finished: 4,
    succeeded: 3,
    withCounts: 3,
    commentsPosted: { critical: 1, major: 4, minor: 1_200, info: 0 },
    commentsDropped: 2,
  };

  it('says how many reviews ran and what their comments said, by severity, then those not posted', () => {
    const words = describeReviews(reviews);
    expect(words.summary).toBe('4 reviews finished, 3 of them posting 1,205 comments on merge requests.');
    expect(words.figures).toEqual([
      { label: 'Critical', value: '1' },
      { label: 'Major', value: '4' },
      { label: 'Minor', value: '1,200' },
      { label: 'Info', value: '0' },
      { label: 'Not posted', value: '2' },
    ]);
    expect(words.note).toBe('1 review reported no counts (the minimal metadata level, or a review that failed): the comments are of the other 3.');
  });

  it('says so when no review finished', () => {
    const none = describeReviews({ ...reviews, finished: 0, succeeded: 0, withCounts: 0, commentsPosted: { critical: 0, major: 0, minor: 0, info: 0 }, commentsDropped: 0 });
    expect(none.summary).toBe('No review job finished in this range.');
    expect(none.note).toBeNull();
  });
});
