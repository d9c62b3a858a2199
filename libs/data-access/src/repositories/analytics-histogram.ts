/**
 * The fixed log-scale histograms analytics keeps durations in. Percentiles cannot be added
 * up across days, but bucket counts can: each rollup row holds counts per bucket, a request
 * sums the rows it covers and reads percentiles off the sum.
 *
 * Bucket 0 holds durations under 100 ms. Bucket k (1..100) holds durations from
 * 100 ms × 2^((k−1)/4) up to the next bound, each bound rounded up to a whole millisecond, so
 * a bucket is 19% wide and its geometric middle is within 2^(1/8) (±9.05%) of anything in it.
 * Bucket 101 holds everything from 100 ms × 2^25 (about 38.8 days). The SQL function
 * analytics_bucket (migration 20261218000000_analytics) uses the same bounds.
 */

/** How many buckets: 0 (under 100 ms), 1..100, and 101 (at least the last bound). */
export const HISTOGRAM_BUCKETS = 102;

/** The lower bound of bucket k + 1 at index k, in milliseconds: 100, 119, 142, … 3,355,443,200. */
export const HISTOGRAM_BUCKET_LOWER_BOUNDS_MS: readonly number[] = Array.from({ length: HISTOGRAM_BUCKETS - 1 }, (_, index) => Math.ceil(100 * 2 ** (index / 4)));

/** The largest factor between a duration and the estimate its bucket gives (2^(1/8)), from bucket 1 to 100. */
export const HISTOGRAM_MAX_ESTIMATE_FACTOR = 2 ** (1 / 8);

const FLOOR_MS = 100;
const LAST_BOUND_MS = HISTOGRAM_BUCKET_LOWER_BOUNDS_MS[HISTOGRAM_BUCKET_LOWER_BOUNDS_MS.length - 1] ?? 0;

/** The bucket of a duration (as analytics_bucket computes it). */
export function histogramBucket(durationMs: number): number {
  let low = 0;
  let high = HISTOGRAM_BUCKET_LOWER_BOUNDS_MS.length;
  // The number of lower bounds at or below the duration.
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((HISTOGRAM_BUCKET_LOWER_BOUNDS_MS[middle] ?? Infinity) <= durationMs) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * What a bucket stands for: the geometric middle of its bounds (not rounded: rounding to the
 * millisecond would break the 2^(1/8) bound for the shortest buckets); 50 ms for bucket 0
 * (under 100 ms); the last bound for bucket 101, which only says "at least that".
 */
export function histogramBucketEstimateMs(bucket: number): number {
  if (bucket <= 0) return FLOOR_MS / 2;
  if (bucket >= HISTOGRAM_BUCKETS - 1) return LAST_BOUND_MS;
  return FLOOR_MS * 2 ** ((bucket - 0.5) / 4);
}

/**
 * The nearest-rank percentile (the ceil(q·n)-th smallest duration, as percentile_disc
 * computes it) of the durations counted per bucket, as its bucket's estimate; null when
 * nothing was counted.
 */
export function histogramPercentileMs(countsByBucket: ReadonlyMap<number, number>, quantile: number): number | null {
  const buckets = [...countsByBucket.entries()].filter(([, count]) => count > 0).sort(([a], [b]) => a - b);
  const total = buckets.reduce((sum, [, count]) => sum + count, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(quantile * total));
  let seen = 0;
  for (const [bucket, count] of buckets) {
    seen += count;
    if (seen >= rank) return histogramBucketEstimateMs(bucket);
  }
  return null;
}


/** Splits stored histogram counts (`<metric>.<bucket>` → count) into one bucket map per metric. */
export function histogramsByMetric(counts: Readonly<Record<string, number>>): Map<string, Map<number, number>> {
  const byMetric = new Map<string, Map<number, number>>();
  for (const [key, count] of Object.entries(counts)) {
    const separator = key.lastIndexOf('.');
    const bucket = Number(key.slice(separator + 1));
    if (separator <= 0 || !Number.isInteger(bucket)) continue;
    const metric = key.slice(0, separator);
    const buckets = byMetric.get(metric) ?? new Map<number, number>();
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + count);
    byMetric.set(metric, buckets);
  }
  return byMetric;
}

/** The first duration bucket 101 holds, in milliseconds (about 38.8 days). */
export const HISTOGRAM_CEILING_MS = LAST_BOUND_MS;
/** Durations under this (bucket 0) are reported as 50 ms. */
export const HISTOGRAM_FLOOR_MS = FLOOR_MS;
