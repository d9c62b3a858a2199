import { parseIsoTimestamp } from './iso-timestamp';

describe('parseIsoTimestamp', () => {
  it('reads a timestamp with Z or an offset, to the millisecond', () => {
    expect(parseIsoTimestamp('2026-12-01T09:30:00Z')?.toISOString()).toBe('2026-12-01T09:30:00.000Z');
    expect(parseIsoTimestamp('2026-12-01T10:30:00.250+01:00')?.toISOString()).toBe('2026-12-01T09:30:00.250Z');
    expect(parseIsoTimestamp('2026-12-01T10:30-02:00')?.toISOString()).toBe('2026-12-01T12:30:00.000Z');
    // Microseconds, as some clients write them: dropped past the millisecond the database keeps.
    expect(parseIsoTimestamp('2026-12-01T09:30:00.123456Z')?.toISOString()).toBe('2026-12-01T09:30:00.123Z');
  });

  it('refuses what Date.parse would misread or roll over', () => {
    for (const text of [
      '2026-02-30T00:00:00Z', // no such day: Date.parse gives 2 March
      '2026-12-01T24:00:00Z',
      '2026-12-01T10:00:00', // no zone: Date.parse reads local time
      '2026-12-01',
      '1969-12-31T23:59:59Z',
      '2026-12-01t10:00:00z',
      ' 2026-12-01T10:00:00Z',
      '2026-12-01T10:00:00+25:00',
      'tomorrow',
    ]) {
      expect(parseIsoTimestamp(text)).toBeNull();
    }
  });
});
