import { TokenBucket } from './token.bucket';

describe('TokenBucket', () => {
  it('allows a burst of its capacity, then refills at its rate', () => {
    let nowMs = 0;
    const bucket = new TokenBucket(3, 0.5, () => nowMs);
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, true, false]);
    nowMs += 1_999;
    expect(bucket.tryTake()).toBe(false);
    nowMs += 1;
    expect(bucket.tryTake()).toBe(true);
    nowMs += 60_000; // never more than the capacity, however long it rested
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, true, false]);
  });

  it('refuses a bucket that could never give a token', () => {
    expect(() => new TokenBucket(0, 1)).toThrow(RangeError);
    expect(() => new TokenBucket(1, 0)).toThrow(RangeError);
  });
});
