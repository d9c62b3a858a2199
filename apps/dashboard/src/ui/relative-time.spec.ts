import { formatRelative } from './format';

describe('formatRelative', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');
  const ago = (ms: number) => new Date(now - ms).toISOString();

  it('says how long ago, rounded down to the unit a person glances at', () => {
    expect(formatRelative(ago(2_000), now)).toBe('just now');
    expect(formatRelative(ago(45_000), now)).toBe('45 s ago');
    expect(formatRelative(ago(12 * 60_000 + 59_000), now)).toBe('12 min ago');
    expect(formatRelative(ago(3 * 3_600_000), now)).toBe('3 h ago');
    expect(formatRelative(ago(47 * 3_600_000), now)).toBe('47 h ago');
    expect(formatRelative(ago(4 * 86_400_000), now)).toBe('4 days ago');
  });

  it('says how far ahead a future instant is, and a dash for nothing', () => {
    expect(formatRelative(new Date(now + 15 * 60_000).toISOString(), now)).toBe('in 15 min');
    expect(formatRelative(null, now)).toBe('—');
    expect(formatRelative('not a time', now)).toBe('—');
  });
});
