import { apiTokenState, curlExample, parseExpiryDays, withoutSecret, type CreatedApiToken } from './api-token-view';

describe('apiTokenState', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');

  it('says revoked before expired, and active for a live or never-expiring token', () => {
    expect(apiTokenState({ revokedAt: '2026-11-01T00:00:00Z', expiresAt: '2026-11-02T00:00:00Z' }, now)).toBe('revoked');
    expect(apiTokenState({ revokedAt: null, expiresAt: '2026-12-01T12:00:00Z' }, now)).toBe('expired');
    expect(apiTokenState({ revokedAt: null, expiresAt: '2026-12-01T12:00:01Z' }, now)).toBe('active');
    expect(apiTokenState({ revokedAt: null, expiresAt: null }, now)).toBe('active');
  });
});

describe('parseExpiryDays', () => {
  it('takes a whole number of days in 1..365 and nothing else', () => {
    expect(parseExpiryDays('1')).toBe(1);
    expect(parseExpiryDays(' 365 ')).toBe(365);
    for (const refused of ['', '0', '366', '7.5', '-3', '1e2', 'ten']) expect(parseExpiryDays(refused)).toBeNull();
  });
});

describe('the created token', () => {
  const created: CreatedApiToken = {
    id: '6f1c2d4e-0000-4000-8000-000000000001',
    name: 'nightly triage',
    scopes: ['jobs:read'],
    createdAt: '2026-12-01T12:00:00Z',
    expiresAt: '2026-12-31T12:00:00Z',
    revokedAt: null,
    lastUsedAt: null,
    createdByName: 'Ada Lovelace',
    token: 'alt_secret',
  };

  it('is tried with a curl of the jobs list from this origin', () => {
    expect(curlExample('https://airlock.example.com', created.token)).toBe('curl -H "Authorization: Bearer alt_secret" https://airlock.example.com/api/v1/jobs');
  });

  it('goes into the list without its secret', () => {
    const listed = withoutSecret(created);
    expect(listed).not.toHaveProperty('token');
    expect(JSON.stringify(listed)).not.toContain('alt_secret');
    expect(listed.name).toBe('nightly triage');
  });
});
