import { DEFAULT_ANALYTICS_SETTINGS, type AnalyticsAggregates } from '@airlock/data-access';
import { InvalidRequestError } from '../common/invalid-request.error';
import { renderAnalyticsCsv } from './analytics-csv';
import { buildAnalyticsReport, mergeSmallSlices, spendWindow } from './analytics-report';
import { resolveRange } from './analytics.service';

const slice = (key: string, jobs: number) => ({ key, jobs });
const merge = (members: readonly { key: string; jobs: number }[]) => ({ key: '(other)', jobs: members.reduce((sum, member) => sum + member.jobs, 0) });

describe('mergeSmallSlices', () => {
  it('keeps slices of at least the minimum, largest first, and merges the rest last', () => {
    expect(mergeSmallSlices([slice('b', 1), slice('a', 9), slice('c', 2), slice('d', 5)], 5, merge)).toEqual([
      { key: 'a', jobs: 9, other: false, mergedSlices: 1 },
      { key: 'd', jobs: 5, other: false, mergedSlices: 1 },
      { key: '(other)', jobs: 3, other: true, mergedSlices: 2 },
    ]);
  });

  it('never lets one slice stand alone as "(other)": the smallest kept slice joins it', () => {
    expect(mergeSmallSlices([slice('a', 9), slice('b', 6), slice('c', 1)], 5, merge)).toEqual([
      { key: 'a', jobs: 9, other: false, mergedSlices: 1 },
      { key: '(other)', jobs: 7, other: true, mergedSlices: 2 },
    ]);
    expect(mergeSmallSlices([slice('a', 9)], 5, merge)).toEqual([{ key: 'a', jobs: 9, other: false, mergedSlices: 1 }]);
    expect(mergeSmallSlices([], 5, merge)).toEqual([]);
  });
});

describe('resolveRange', () => {
  const now = new Date('2026-12-15T08:00:00Z');

  it('defaults to the last 30 days, today included', () => {
    expect(resolveRange({}, now)).toEqual({ from: '2026-11-16', to: '2026-12-15' });
    expect(resolveRange({ to: '2026-01-31' }, now)).toEqual({ from: '2026-01-02', to: '2026-01-31' });
    expect(resolveRange({ from: '2025-11-10', to: '2026-12-15' }, now)).toEqual({ from: '2025-11-10', to: '2026-12-15' });
  });

  it('refuses a range backwards or longer than 400 days, naming the field given', () => {
    const problem = (query: { from?: string; to?: string }) => {
      try {
        resolveRange(query, now);
      } catch (error) {
        return error instanceof InvalidRequestError ? error.problems : error;
      }
      return null;
    };
    expect(problem({ from: '2026-12-16' })).toEqual(['from: expected a date on or before to (2026-12-15)']);
    expect(problem({ from: '2026-12-10', to: '2026-12-09' })).toEqual(['to: expected a date on or after from (2026-12-10)']);
    expect(problem({ from: '2025-11-09', to: '2026-12-15' })).toEqual(['to: expected at most 400 days after from (2025-11-09)']);
  });
});

describe('spendWindow', () => {
  it('covers this month and the 7 whole days before today', () => {
    expect(spendWindow(new Date('2026-12-20T10:00:00Z'))).toEqual({ spendFrom: '2026-12-01', spendTo: '2026-12-20' });
    expect(spendWindow(new Date('2026-12-03T10:00:00Z'))).toEqual({ spendFrom: '2026-11-26', spendTo: '2026-12-03' });
  });
});

describe('the CSV export', () => {
  it('quotes cells as RFC 4180 asks and writes formulas as text', () => {
    const aggregates: AnalyticsAggregates = {
      cohortByDay: [],
      cohortByRepository: [],
      cohortByPool: [],
      cohortByModel: [],
      outcome: { finished: 0, succeeded: 0, failed: 0, cancelled: 0, delivered: 0, testsPassed: 0, implausible: 0, jobsWithModelUsage: 0, jobsWithFallback: 0, linesAdded: 0, linesRemoved: 0, filesChanged: 0 },
      histogram: {},
      deliveredByKind: [],
      deliveredByDay: [],
      tokens: [{ day: '2026-12-01', endpoint: '=cmd', model: 'a,"b"', jobs: 1, requests: 1, promptTokens: 1_000, completionTokens: 0 }],
      spendTokens: [],
      policy: [],
      fleet: [],
      mergeRequests: {
        reported: 0,
        open: 0,
        merged: 0,
        closedUnmerged: 0,
        reverted: 0,
        withFigures: 0,
        reworkedByPeople: 0,
        reviewed: 0,
        firstReviewP50S: null,
        firstReviewP90S: null,
        mergedWithFigures: 0,
        mergeP50S: null,
        mergeP90S: null,
      },
      reviews: { finished: 3, succeeded: 2, withCounts: 2, critical: 1, major: 4, minor: 8, info: 2, dropped: 1 },
    };
    const report = buildAnalyticsReport({
      range: { from: '2026-12-01', to: '2026-12-01' },
      filters: {},
      aggregates,
      settings: { ...DEFAULT_ANALYTICS_SETTINGS, minimumGroupSize: 1 },
      now: new Date('2026-12-01T12:00:00Z'),
    });
    const csv = renderAnalyticsCsv(report);
    expect(csv).toContain('model usage\r\nendpoint,model,other,mergedSlices,jobs,requests,promptTokens,completionTokens,cost\r\n\'=cmd,"a,""b""",false,1,1,1,1000,0,0\r\n');
    expect(csv).toContain('reviews\r\nattribution,finished,succeeded,withCounts,critical,major,minor,info,dropped\r\nfinish-day,3,2,2,1,4,8,2,1\r\n');
    expect(report.reviews).toEqual({ attribution: 'finish-day', finished: 3, succeeded: 2, withCounts: 2, commentsPosted: { critical: 1, major: 4, minor: 8, info: 2 }, commentsDropped: 1 });
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(csv.split('\r\n\r\n')).toHaveLength(16);
  });
});
