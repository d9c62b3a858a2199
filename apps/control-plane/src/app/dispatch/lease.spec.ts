import { leaseExpiresAt, nextReaperDelayMs } from './lease';

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
});
