import {
  AUDIT_ACTION_FAMILIES,
  auditExportHref,
  auditListQuery,
  describeDetails,
  describeVerification,
  isListedAction,
  NO_AUDIT_FILTERS,
  readAuditSearch,
  targetPath,
  writeAuditSearch,
} from './audit-query';

const WORKER_ID = '0b7c2d1e-aaaa-4bbb-8ccc-123456789abc';

describe('the audit log filters in the URL', () => {
  it('round-trips the filters and the page, leaving out what is unset', () => {
    const filters = { ...NO_AUDIT_FILTERS, action: 'worker.', from: '2026-12-01T00:00:00.000Z' };
    const search = writeAuditSearch(filters, 120);
    expect(search.toString()).toBe('action=worker.&from=2026-12-01T00%3A00%3A00.000Z&before=120');
    expect(readAuditSearch(search)).toEqual({ filters, beforeSeq: 120 });
  });

  it('ignores a page that is not a positive whole number', () => {
    expect(readAuditSearch(new URLSearchParams('before=abc')).beforeSeq).toBeNull();
    expect(readAuditSearch(new URLSearchParams('before=0')).beforeSeq).toBeNull();
  });

  it('asks the API for the newest first, before the page', () => {
    expect(auditListQuery({ ...NO_AUDIT_FILTERS, actorId: WORKER_ID }, null, 51)).toEqual({ order: 'desc', limit: 51, actorId: WORKER_ID });
    expect(auditListQuery(NO_AUDIT_FILTERS, 40, 51)).toEqual({ order: 'desc', limit: 51, beforeSeq: 40 });
  });

  it('exports with the same filters and no paging', () => {
    expect(auditExportHref({ ...NO_AUDIT_FILTERS, action: 'policy.published' }, 'csv')).toBe('/api/v1/audit-log/export?format=csv&action=policy.published');
    expect(auditExportHref(NO_AUDIT_FILTERS, 'jsonl')).toBe('/api/v1/audit-log/export?format=jsonl');
  });
});

describe('the action filter', () => {
  it('lists each family as a prefix of its actions', () => {
    for (const family of AUDIT_ACTION_FAMILIES) {
      expect(family.family.endsWith('.')).toBe(true);
      for (const action of family.actions) expect(action.startsWith(family.family)).toBe(true);
    }
    expect(isListedAction('worker.')).toBe(true);
    expect(isListedAction('worker.revoked')).toBe(true);
    expect(isListedAction('something.else')).toBe(false);
  });
});

describe('an entry', () => {
  it('links the targets that have a page', () => {
    expect(targetPath(`worker:${WORKER_ID}`)).toBe(`/fleet/workers/${WORKER_ID}`);
    expect(targetPath(`policy:${WORKER_ID}`)).toBe(`/policies/${WORKER_ID}`);
    expect(targetPath(`user:${WORKER_ID}`)).toBeNull();
    expect(targetPath('analytics-settings')).toBeNull();
  });

  it('shows details as name and value, nested values as JSON', () => {
    expect(describeDetails({ liveAttempts: 0, pool: 'gpu', scopes: ['jobs:read'], expiry: null, key: '' })).toEqual([
      ['liveAttempts', '0'],
      ['pool', 'gpu'],
      ['scopes', '["jobs:read"]'],
      ['expiry', 'null'],
      ['key', '(empty)'],
    ]);
    expect(describeDetails(null)).toEqual([]);
  });

  it('states the chain check plainly', () => {
    expect(describeVerification({ ok: true, entries: 12 })).toBe('The chain is intact: all 12 entries link to the one before and hash to their stored hash.');
    expect(describeVerification({ ok: false, entries: 12, firstBrokenSeq: 7 })).toBe('The chain is broken at entry #7: from there on, the log is not what was written. 12 entries checked.');
  });
});
