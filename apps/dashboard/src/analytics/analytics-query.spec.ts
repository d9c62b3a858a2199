import { addDays, analyticsExportHref, analyticsQuery, DEFAULT_ANALYTICS_FILTERS, describeRangeChoice, readAnalyticsSearch, utcDayOf, writeAnalyticsSearch } from './analytics-query';

describe('the analytics screen URL', () => {
  it('keeps a preset relative and a custom range by its days, with the other filters', () => {
    const preset = { range: { kind: 'preset' as const, days: 90 as const }, repoAlias: 'billing', pool: 'build', kind: 'fix' as const };
    expect(writeAnalyticsSearch(preset).toString()).toBe('days=90&repoAlias=billing&pool=build&kind=fix');
    expect(readAnalyticsSearch(writeAnalyticsSearch(preset))).toEqual(preset);

    const custom = { ...DEFAULT_ANALYTICS_FILTERS, range: { kind: 'custom' as const, from: '2026-11-01', to: '2026-11-30' } };
    expect(writeAnalyticsSearch(custom).toString()).toBe('from=2026-11-01&to=2026-11-30');
    expect(readAnalyticsSearch(writeAnalyticsSearch(custom))).toEqual(custom);
  });

  it('gives the default page a plain address, and reads a plain address as the default', () => {
    expect(writeAnalyticsSearch(DEFAULT_ANALYTICS_FILTERS).toString()).toBe('');
    expect(readAnalyticsSearch(new URLSearchParams())).toEqual(DEFAULT_ANALYTICS_FILTERS);
  });

  it('drops what the API would only refuse: unknown presets and kinds, days not shaped YYYY-MM-DD', () => {
    expect(readAnalyticsSearch(new URLSearchParams('days=14&kind=deploy&from=yesterday'))).toEqual(DEFAULT_ANALYTICS_FILTERS);
    // A well-shaped impossible day goes through: the API's 400 names it at its field.
    expect(readAnalyticsSearch(new URLSearchParams('from=2026-02-30')).range).toEqual({ kind: 'custom', from: '2026-02-30', to: '' });
  });

  it('asks the API for the last N days, today included, and for set filters only', () => {
    expect(analyticsQuery(DEFAULT_ANALYTICS_FILTERS, '2026-12-15')).toEqual({ from: '2026-11-16', to: '2026-12-15' });
    expect(analyticsQuery({ ...DEFAULT_ANALYTICS_FILTERS, range: { kind: 'preset', days: 7 }, pool: 'gpu' }, '2026-03-02')).toEqual({ from: '2026-02-24', to: '2026-03-02', pool: 'gpu' });
    expect(analyticsQuery({ ...DEFAULT_ANALYTICS_FILTERS, range: { kind: 'custom', from: '2026-01-01', to: '' } }, '2026-03-02')).toEqual({ from: '2026-01-01' });
  });

  it('exports the same query as CSV', () => {
    expect(analyticsExportHref({ ...DEFAULT_ANALYTICS_FILTERS, range: { kind: 'preset', days: 7 }, kind: 'noop' }, '2026-12-15')).toBe(
      '/api/v1/analytics/export.csv?from=2026-12-09&to=2026-12-15&kind=noop',
    );
  });

  it('describes the range chosen', () => {
    expect(describeRangeChoice({ kind: 'preset', days: 365 })).toBe('Last 365 days');
    expect(describeRangeChoice({ kind: 'custom', from: '2026-11-01', to: '2026-11-30' })).toBe('2026-11-01 to 2026-11-30');
    expect(describeRangeChoice({ kind: 'custom', from: '', to: '2026-11-30' })).toBe('30 days up to 2026-11-30');
  });
});

describe('UTC days', () => {
  it('are counted in UTC, across months and leap days', () => {
    expect(utcDayOf(new Date('2026-12-31T23:59:59.999Z'))).toBe('2026-12-31');
    expect(addDays('2028-03-01', -1)).toBe('2028-02-29');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
  });
});
