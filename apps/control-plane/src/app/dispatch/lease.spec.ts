import { attemptNotBefore, leaseExpiresAt, nextReaperDelayMs } from './lease';

describe('lease arithmetic', () => {
  const now = new Date('2026-06-01T12:00:00.000Z');

  it('expires a lease one TTL after it was granted or renewed', () => {
    expect(leaseExpiresAt(now, 30_000).toISOString()).toBe('2026-06-01T12:00:30.000Z');
    expect(leaseExpiresAt(leaseExpiresAt(now, 1_500), 1_500).getTime() - now.getTime()).toBe(3_000);
  });

  it('sweeps four times per TTL with ±20 % jitter', () => {
    expect(nextReaperDelayMs(2_000, 0)).toBe(400);
    expect(nextReaperDelayMs(2_000, 0.5)).toBe(500);
    expect(nextReaperDelayMs(2_000, 0.999_999)).toBe(600);
  });

  it('bounds the sweep interval for very short and very long leases', () => {
    expect(nextReaperDelayMs(100, 0.5)).toBe(50);
    expect(nextReaperDelayMs(3_600_000, 0.5)).toBe(5_000);
  });

  it('backs a requeued job off, doubling per attempt used, capped, with ±20 % jitter', () => {
    const backoff = { baseMs: 2_000, maxMs: 10_000 };
    const waitMs = (attempt: number, random: number) => attemptNotBefore(attempt, now, backoff, random)!.getTime() - now.getTime();
    expect([1, 2, 3, 4, 10].map((attempt) => waitMs(attempt, 0.5))).toEqual([2_000, 4_000, 8_000, 10_000, 10_000]);
    expect([waitMs(1, 0), waitMs(1, 0.999_999)]).toEqual([1_600, 2_400]);
    expect(attemptNotBefore(3, now, { baseMs: 0, maxMs: 10_000 }, 0.5)).toBeNull();
  });
});
