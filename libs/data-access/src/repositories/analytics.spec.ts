import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MIGRATIONS_DIR } from '../migrations/migration-runner';
import {
  HISTOGRAM_BUCKETS,
  HISTOGRAM_BUCKET_LOWER_BOUNDS_MS,
  HISTOGRAM_MAX_ESTIMATE_FACTOR,
  histogramBucket,
  histogramBucketEstimateMs,
  histogramPercentileMs,
  histogramsByMetric,
} from './analytics-histogram';
import { cubeOf, splitAcrossUtcDays } from './analytics-rollup';
import { nextDay, periodsCovering } from './analytics.repository';

describe('analytics histograms', () => {
  it('use the bounds the SQL function analytics_bucket uses', () => {
    const migration = readFileSync(path.join(MIGRATIONS_DIR, '20261218000000_analytics', 'migration.sql'), 'utf8');
    const literal = /width_bucket\(duration_ms, '\{([\d,]+)\}'::BIGINT\[\]\)/.exec(migration)?.[1];
    expect(literal?.split(',').map(Number)).toEqual(HISTOGRAM_BUCKET_LOWER_BOUNDS_MS);
    expect(HISTOGRAM_BUCKET_LOWER_BOUNDS_MS).toHaveLength(HISTOGRAM_BUCKETS - 1);
  });

  it('bucket a duration by the number of lower bounds at or below it', () => {
    expect([0, 99, 100, 118, 119, 199, 200, 3_355_443_199, 3_355_443_200, 10 ** 12].map(histogramBucket)).toEqual([0, 0, 1, 1, 2, 4, 5, 100, 101, 101]);
  });

  it('estimate every duration from 100 ms up to the last bound within 2^(1/8)', () => {
    for (let ms = 100; ms < 3_355_443_200; ms = Math.ceil(ms * 1.01) + 1) {
      const factor = histogramBucketEstimateMs(histogramBucket(ms)) / ms;
      expect(factor).toBeLessThanOrEqual(HISTOGRAM_MAX_ESTIMATE_FACTOR + 1e-9);
      expect(factor).toBeGreaterThanOrEqual(1 / HISTOGRAM_MAX_ESTIMATE_FACTOR - 1e-9);
    }
    expect(histogramBucketEstimateMs(0)).toBe(50);
    expect(histogramBucketEstimateMs(101)).toBe(3_355_443_200);
  });

  it('read the nearest-rank percentile: the ceil(q·n)-th smallest duration', () => {
    const durations = [120, 450, 450, 3_000, 9_000, 60_000, 61_000, 400_000, 1_000_000, 7_200_000];
    const counts = new Map<number, number>();
    for (const ms of durations) counts.set(histogramBucket(ms), (counts.get(histogramBucket(ms)) ?? 0) + 1);
    expect(histogramPercentileMs(counts, 0.5)).toBe(histogramBucketEstimateMs(histogramBucket(9_000)));
    expect(histogramPercentileMs(counts, 0.9)).toBe(histogramBucketEstimateMs(histogramBucket(1_000_000)));
    expect(histogramPercentileMs(new Map([[7, 1]]), 0.9)).toBe(histogramBucketEstimateMs(7));
    expect(histogramPercentileMs(new Map(), 0.5)).toBeNull();
  });

  it('split stored keys into one histogram per metric, phase names included', () => {
    const byMetric = histogramsByMetric({ 'ttc.40': 2, 'qw.3': 1, 'PHASE_TEST.12': 4, 'PHASE_TEST.13': 1, broken: 9 });
    expect(Object.fromEntries([...byMetric].map(([metric, buckets]) => [metric, Object.fromEntries(buckets)]))).toEqual({
      ttc: { 40: 2 },
      qw: { 3: 1 },
      PHASE_TEST: { 12: 4, 13: 1 },
    });
  });
});

describe('analytics rollup keys', () => {
  it('cube a job over its dimensions with the bits GROUPING() gives them', () => {
    expect(cubeOf(['FIX', 'web', 'gpu'])).toEqual([
      { grain: 0, dimensions: ['FIX', 'web', 'gpu'] },
      { grain: 1, dimensions: ['FIX', 'web', '*'] },
      { grain: 2, dimensions: ['FIX', '*', 'gpu'] },
      { grain: 3, dimensions: ['FIX', '*', '*'] },
      { grain: 4, dimensions: ['*', 'web', 'gpu'] },
      { grain: 5, dimensions: ['*', 'web', '*'] },
      { grain: 6, dimensions: ['*', '*', 'gpu'] },
      { grain: 7, dimensions: ['*', '*', '*'] },
    ]);
  });

  it('split slot time across UTC days', () => {
    const at = (iso: string) => Date.parse(iso);
    expect(splitAcrossUtcDays(at('2026-12-01T22:00:00Z'), at('2026-12-03T01:30:00Z'))).toEqual([
      { day: '2026-12-01', ms: 2 * 3_600_000 },
      { day: '2026-12-02', ms: 24 * 3_600_000 },
      { day: '2026-12-03', ms: 1.5 * 3_600_000 },
    ]);
    expect(splitAcrossUtcDays(at('2026-12-01T00:00:00Z'), at('2026-12-02T00:00:00Z'))).toEqual([{ day: '2026-12-01', ms: 24 * 3_600_000 }]);
    expect(splitAcrossUtcDays(at('2026-12-01T10:00:00Z'), at('2026-12-01T10:00:00Z'))).toEqual([]);
  });

  it('read a range as whole months and the days around them', () => {
    expect(periodsCovering('2026-01-30', '2026-04-02')).toEqual({ months: ['2026-02-01', '2026-03-01'], days: ['2026-01-30', '2026-01-31', '2026-04-01', '2026-04-02'] });
    expect(periodsCovering('2026-02-01', '2026-02-28')).toEqual({ months: ['2026-02-01'], days: [] });
    expect(periodsCovering('2026-02-02', '2026-02-04')).toEqual({ months: [], days: ['2026-02-02', '2026-02-03', '2026-02-04'] });
    expect(nextDay('2028-02-28')).toBe('2028-02-29');
  });
});
