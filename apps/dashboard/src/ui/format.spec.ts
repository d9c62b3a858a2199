import { formatDuration, formatTime, humanize } from './format';

describe('formatDuration', () => {
  it('picks the unit an operator would', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(1_234)).toBe('1.23 s');
    expect(formatDuration(12_345)).toBe('12.3 s');
    expect(formatDuration(245_000)).toBe('4 min 05 s');
    expect(formatDuration(7_620_000)).toBe('2 h 07 min');
    expect(formatDuration(-1)).toBe('—');
  });
});

describe('formatTime', () => {
  it('shows a dash for a missing or unreadable time', () => {
    expect(formatTime(null)).toBe('—');
    expect(formatTime('not a time')).toBe('—');
    expect(formatTime('2026-12-01T09:30:12Z')).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:12$/);
  });
});

describe('humanize', () => {
  it('turns enum names into words', () => {
    expect(humanize('PHASE_INFERENCE', 'PHASE_')).toBe('Inference');
    expect(humanize('TESTS_FAILED')).toBe('Tests failed');
  });
});
