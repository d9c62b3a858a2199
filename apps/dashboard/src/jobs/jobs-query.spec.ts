import { fromLocalInput, jobListQuery, NO_FILTERS, readJobsSearch, toLocalInput, writeJobsSearch } from './jobs-query';

describe('the jobs screen URL', () => {
  it('round-trips filters and the page cursor', () => {
    const filters = { status: 'FAILED' as const, kind: 'fix' as const, repoAlias: 'demo-billing', createdFrom: '2026-12-01T00:00:00.000Z', createdTo: '' };
    const search = writeJobsSearch(filters, 'abc123');
    expect(search.toString()).toBe('status=FAILED&kind=fix&repoAlias=demo-billing&createdFrom=2026-12-01T00%3A00%3A00.000Z&before=abc123');
    expect(readJobsSearch(search)).toEqual({ filters, before: 'abc123' });
  });

  it('keeps the review and index kinds', () => {
    expect(readJobsSearch(new URLSearchParams('kind=review')).filters.kind).toBe('review');
    expect(jobListQuery({ ...NO_FILTERS, kind: 'index' }, null, 50)).toEqual({ limit: 50, kind: 'index' });
  });

  it('ignores a status or kind the API does not have, rather than asking for a 400', () => {
    expect(readJobsSearch(new URLSearchParams('status=DONE&kind=deploy')).filters).toEqual(NO_FILTERS);
  });

  it('asks the API for set filters only', () => {
    expect(jobListQuery({ ...NO_FILTERS, status: 'RUNNING' }, null, 50)).toEqual({ limit: 50, status: 'RUNNING' });
    expect(jobListQuery(NO_FILTERS, 'cursor', 25)).toEqual({ limit: 25, before: 'cursor' });
  });
});

describe('datetime-local values', () => {
  it('convert to and from instants in the local zone', () => {
    const iso = fromLocalInput('2026-12-01T09:30');
    expect(iso).toMatch(/^2026-1[12]-\d{2}T\d{2}:30:00\.000Z$/);
    expect(toLocalInput(iso)).toBe('2026-12-01T09:30');
    expect(fromLocalInput('')).toBe('');
    expect(toLocalInput('garbage')).toBe('');
  });
});
