import { createDatabase, startPostgresCluster, type PostgresCluster } from '@airlock/testing';
import { asBrowser, callApi, cookiePair, ShiftedClock, type BrowserSession, type Credentials } from '../../test-support/auth-client';
import { createApiToken, createTenantWithAdminToken } from '../../test-support/tenant.fixture';
import { testAppConfig } from '../../test-support/test-app-config';
import { startControlPlane, type RunningControlPlane } from '../control-plane';

jest.setTimeout(120_000);

const DAY = 86_400_000;

let cluster: PostgresCluster;
let controlPlane: RunningControlPlane;
const clock = new ShiftedClock();

/** An organisation with its first admin logged in, and the API token that made them. */
interface Organisation {
  readonly tenantId: string;
  readonly token: string;
  readonly admin: BrowserSession;
  readonly adminId: string;
}

const api = <T = Record<string, unknown>>(credentials: Credentials, method: string, path: string, body?: unknown) =>
  callApi<T>(controlPlane.httpUrl, credentials, method, path, body);

async function organisation(name: string): Promise<Organisation> {
  const { tenantId, token } = await createTenantWithAdminToken(controlPlane.dataAccess, name);
  const created = await api(null, 'POST', '/auth/bootstrap', { bootstrapToken: token, email: `admin@${name}.example`, displayName: `${name} admin`, password: 'the admin password!' });
  expect(created.status).toBe(201);
  const setCookie = created.headers.get('set-cookie') ?? '';
  const admin = { cookie: cookiePair(setCookie), csrfToken: String(created.body['csrfToken']), setCookie, body: created.body };
  return { tenantId, token, admin, adminId: (created.body['user'] as { id: string }).id };
}

async function auditEntries(org: Organisation): Promise<Record<string, unknown>[]> {
  return (await api<Record<string, unknown>[]>({ bearer: org.token }, 'GET', '/audit-log?limit=500')).body;
}

let a: Organisation;
let b: Organisation;

beforeAll(async () => {
  cluster = await startPostgresCluster();
  controlPlane = await startControlPlane(testAppConfig(await createDatabase(cluster.url, 'people_it')), { clock });
  a = await organisation('org-a');
  b = await organisation('org-b');
});

afterAll(async () => {
  await controlPlane?.stop();
  await cluster?.stop();
});

describe('people', () => {
  it('refuses a malformed person naming each field and what it expects', async () => {
    const answer = await api(asBrowser(a.admin), 'POST', '/users', {
      email: 'not an email',
      displayName: 'two\nlines',
      role: 'OWNER',
      password: 'too short',
      isAdmin: true,
    });
    expect(answer.status).toBe(400);
    expect(String(answer.body['message']).split('; ').sort()).toEqual(
      [
        'displayName: expected one line without control characters',
        'email: expected an email address such as ada@example.com',
        'isAdmin: unknown property',
        'password: expected 12..256 characters',
        'role: expected one of ADMIN, MANAGER, VIEWER',
      ].sort(),
    );
    const tooLong = await api(asBrowser(a.admin), 'POST', '/users', { email: `${'x'.repeat(250)}@example.com`, displayName: 'Long', role: 'VIEWER', password: 'long enough password' });
    expect(tooLong.body['message']).toBe('email: expected at most 254 characters');
  });

  it('adds a person, with an email unique across every organisation', async () => {
    const created = await api(asBrowser(a.admin), 'POST', '/users', { email: ' Grace@Example.com', displayName: ' Grace Hopper ', role: 'MANAGER', password: 'a first password to change' });
    expect(created).toMatchObject({
      status: 201,
      body: { id: expect.any(String), email: 'grace@example.com', displayName: 'Grace Hopper', role: 'MANAGER', createdAt: expect.any(String), lastLoginAt: null, locked: false, disabled: false, passwordLogin: true },
    });
    expect(Object.keys(created.body).sort()).toEqual(['createdAt', 'disabled', 'displayName', 'email', 'id', 'lastLoginAt', 'locked', 'passwordLogin', 'role']);
    const again = await api(asBrowser(a.admin), 'POST', '/users', { email: 'GRACE@example.com', displayName: 'Other', role: 'VIEWER', password: 'another long password' });
    expect(again).toMatchObject({ status: 409, body: { code: 'EMAIL_TAKEN' } });
    const elsewhere = await api(asBrowser(b.admin), 'POST', '/users', { email: 'grace@example.com', displayName: 'Other', role: 'VIEWER', password: 'another long password' });
    expect(elsewhere).toMatchObject({ status: 409, body: { code: 'EMAIL_TAKEN' } });

    const listed = await api<{ email: string }[]>(asBrowser(a.admin), 'GET', '/users');
    expect(listed.body.map((user) => user.email)).toEqual(['admin@org-a.example', 'grace@example.com']);
    expect((await api<{ email: string }[]>(asBrowser(b.admin), 'GET', '/users')).body.map((user) => user.email)).toEqual(['admin@org-b.example']);

    const entry = (await auditEntries(a)).find((candidate) => candidate['action'] === 'user.created' && candidate['target'] === `user:${String(created.body['id'])}`);
    expect(entry).toMatchObject({ actorKind: 'USER', actorId: a.adminId, actorName: 'org-a admin', details: { email: 'grace@example.com', role: 'MANAGER' } });
    expect(JSON.stringify(await auditEntries(a))).not.toContain('a first password to change');
  });

  it('renames, re-roles, disables and enables a person, auditing what changed', async () => {
    const created = await api(asBrowser(a.admin), 'POST', '/users', { email: 'edsger@example.com', displayName: 'Edsger', role: 'VIEWER', password: 'goto considered harmful' });
    const id = String(created.body['id']);
    const renamed = await api(asBrowser(a.admin), 'PATCH', `/users/${id}`, { displayName: 'Edsger W. Dijkstra', role: 'MANAGER' });
    expect(renamed).toMatchObject({ status: 200, body: { displayName: 'Edsger W. Dijkstra', role: 'MANAGER', disabled: false } });
    const disabled = await api(asBrowser(a.admin), 'PATCH', `/users/${id}`, { disabled: true });
    expect(disabled.body).toMatchObject({ disabled: true });
    const unchanged = await api(asBrowser(a.admin), 'PATCH', `/users/${id}`, { disabled: true, role: 'MANAGER' });
    expect(unchanged).toMatchObject({ status: 200, body: { disabled: true } });

    const updates = (await auditEntries(a)).filter((entry) => entry['action'] === 'user.updated' && entry['target'] === `user:${id}`);
    expect(updates.map((entry) => entry['details'])).toEqual([
      { changed: 'displayName,role', role: 'MANAGER', disabled: false },
      { changed: 'disabled', role: 'MANAGER', disabled: true },
    ]);
  });

  it('refuses changes that are empty, malformed, or name another organisation\'s person', async () => {
    const bPerson = (await api<{ id: string }[]>(asBrowser(b.admin), 'GET', '/users')).body[0]?.id ?? '';
    expect((await api(asBrowser(a.admin), 'PATCH', `/users/${bPerson}`, { displayName: 'Taken over' })).body).toMatchObject({ code: 'USER_NOT_FOUND' });
    expect((await api(asBrowser(a.admin), 'PATCH', '/users/00000000-0000-4000-8000-000000000000', { displayName: 'Nobody' })).status).toBe(404);
    expect((await api(asBrowser(a.admin), 'PATCH', '/users/not-a-uuid', { displayName: 'Nobody' })).body).toMatchObject({ code: 'INVALID_REQUEST', message: 'id: expected a UUID' });
    expect((await api(asBrowser(a.admin), 'PATCH', `/users/${a.adminId}`, {})).body).toMatchObject({ code: 'INVALID_REQUEST', message: 'body: expected at least one of displayName, role, disabled' });
    expect((await api(asBrowser(a.admin), 'PATCH', `/users/${a.adminId}`, { displayName: null, disabled: 'yes' })).body['message']).toBe(
      'displayName: expected a string; disabled: expected true or false',
    );
    expect((await api<{ displayName: string }[]>(asBrowser(b.admin), 'GET', '/users')).body[0]?.displayName).toBe('org-b admin');
  });

  it('never leaves an organisation without an enabled ADMIN', async () => {
    expect((await api(asBrowser(a.admin), 'PATCH', `/users/${a.adminId}`, { role: 'VIEWER' })).body).toMatchObject({ code: 'LAST_ADMIN' });
    expect((await api(asBrowser(a.admin), 'PATCH', `/users/${a.adminId}`, { disabled: true })).body).toMatchObject({ code: 'LAST_ADMIN' });
    expect((await api({ bearer: a.token }, 'PATCH', `/users/${a.adminId}`, { disabled: true })).status).toBe(409);
    // A disabled ADMIN does not count: promoting the disabled Edsger changes nothing.
    const edsger = (await api<{ id: string; email: string }[]>(asBrowser(a.admin), 'GET', '/users')).body.find((user) => user.email === 'edsger@example.com');
    await api(asBrowser(a.admin), 'PATCH', `/users/${edsger?.id}`, { role: 'ADMIN' });
    expect((await api(asBrowser(a.admin), 'PATCH', `/users/${a.adminId}`, { role: 'MANAGER' })).status).toBe(409);

    const second = await api(asBrowser(a.admin), 'POST', '/users', { email: 'second.admin@org-a.example', displayName: 'Second', role: 'ADMIN', password: 'second admin password' });
    expect((await api(asBrowser(a.admin), 'PATCH', `/users/${a.adminId}`, { role: 'MANAGER' })).body).toMatchObject({ role: 'MANAGER' });
    // The session holds the role it has now: no more people:write.
    expect((await api(asBrowser(a.admin), 'GET', '/users')).body).toMatchObject({ code: 'FORBIDDEN' });
    expect((await api({ bearer: a.token }, 'PATCH', `/users/${a.adminId}`, { role: 'ADMIN' })).status).toBe(200);
    expect((await api({ bearer: a.token }, 'PATCH', `/users/${String(second.body['id'])}`, { disabled: true })).status).toBe(200);
  });
});

describe('API tokens', () => {
  it('are created with scopes and an expiry, shown once, listed without the token, audited', async () => {
    const created = await api(asBrowser(a.admin), 'POST', '/api-tokens', { name: 'nightly triage', scopes: ['jobs:read', 'analytics:read'], expiresInDays: 30 });
    expect(created.status).toBe(201);
    const token = String(created.body['token']);
    expect(token).toMatch(/^alt_[A-Za-z0-9_-]{43}$/);
    expect(created.body).toMatchObject({ name: 'nightly triage', scopes: ['jobs:read', 'analytics:read'], revokedAt: null, lastUsedAt: null, createdByName: 'org-a admin' });
    expect(Date.parse(String(created.body['expiresAt'])) - Date.parse(String(created.body['createdAt']))).toBe(30 * DAY);

    const listed = await api<Record<string, unknown>[]>(asBrowser(a.admin), 'GET', '/api-tokens');
    const entry = listed.body.find((candidate) => candidate['id'] === created.body['id']);
    expect(Object.keys(entry ?? {}).sort()).toEqual(['createdAt', 'createdByName', 'expiresAt', 'id', 'lastUsedAt', 'name', 'revokedAt', 'scopes']);
    expect(listed.body.map((candidate) => candidate['name'])).toContain('integration test');
    expect((await api<unknown[]>(asBrowser(b.admin), 'GET', '/api-tokens')).body.map((candidate) => (candidate as { id: string }).id)).not.toContain(created.body['id']);

    const audit = (await auditEntries(a)).find((candidate) => candidate['action'] === 'api-token.created' && candidate['target'] === `api-token:${String(created.body['id'])}`);
    expect(audit).toMatchObject({ actorKind: 'USER', details: { name: 'nightly triage', scopes: 'jobs:read,analytics:read', expiresAt: created.body['expiresAt'] } });
    expect(JSON.stringify(await auditEntries(a))).not.toContain(token);
  });

  it('grant no scope their creator does not hold', async () => {
    const creator = await createApiToken(controlPlane.dataAccess, a.tenantId, ['people:write', 'jobs:read'], 'token maker');
    const wider = await api({ bearer: creator }, 'POST', '/api-tokens', { name: 'wider', scopes: ['jobs:read', 'fleet:write', 'audit:read'], expiresInDays: 7 });
    expect(wider).toMatchObject({ status: 403, body: { code: 'SCOPE_NOT_HELD', message: 'scopes: expected only scopes you hold yourself; you do not hold fleet:write, audit:read' } });
    const narrower = await api({ bearer: creator }, 'POST', '/api-tokens', { name: 'narrower', scopes: ['jobs:read'], expiresInDays: 7 });
    expect(narrower).toMatchObject({ status: 201, body: { createdByName: 'token maker' } });
    const audit = (await auditEntries(a)).find((entry) => entry['target'] === `api-token:${String(narrower.body['id'])}`);
    expect(audit).toMatchObject({ actorKind: 'API_TOKEN', actorName: 'token maker' });
  });

  it('refuse malformed requests naming each field', async () => {
    const bad = async (body: Record<string, unknown>) => String((await api(asBrowser(a.admin), 'POST', '/api-tokens', { name: 'x', scopes: ['jobs:read'], expiresInDays: 1, ...body })).body['message']);
    expect(await bad({ scopes: [] })).toBe('scopes: expected at least one scope');
    expect(await bad({ scopes: ['jobs:read', 'root'] })).toMatch(/^scopes: expected each scope to be one of jobs:read, jobs:write/);
    expect(await bad({ scopes: ['jobs:read', 'jobs:read'] })).toBe('scopes: expected each scope once');
    expect(await bad({ scopes: 'jobs:read' })).toBe('scopes: expected an array of scopes');
    expect(await bad({ expiresInDays: 0 })).toBe('expiresInDays: expected an integer number of days in 1..365');
    expect(await bad({ expiresInDays: 366 })).toBe('expiresInDays: expected an integer number of days in 1..365');
    expect(await bad({ expiresInDays: 1.5 })).toBe('expiresInDays: expected an integer number of days in 1..365');
    expect(await bad({ expiresInDays: undefined })).toBe('expiresInDays: expected an integer number of days in 1..365');
    expect(await bad({ name: '   ' })).toBe('name: expected one non-blank line without control characters');
    expect(await bad({ name: 'n'.repeat(101) })).toBe('name: expected 1..100 characters');
  });

  it('are revoked at once, once, and only within the organisation', async () => {
    const created = await api(asBrowser(a.admin), 'POST', '/api-tokens', { name: 'to revoke', scopes: ['jobs:read'], expiresInDays: 7 });
    const id = String(created.body['id']);
    const token = String(created.body['token']);
    expect((await api({ bearer: token }, 'GET', '/jobs')).status).toBe(200);

    expect((await api(asBrowser(b.admin), 'POST', `/api-tokens/${id}/revoke`)).body).toMatchObject({ code: 'API_TOKEN_NOT_FOUND' });
    expect((await api({ bearer: token }, 'GET', '/jobs')).status).toBe(200);
    expect((await api(asBrowser(a.admin), 'POST', '/api-tokens/00000000-0000-4000-8000-000000000000/revoke')).status).toBe(404);

    const revoked = await api(asBrowser(a.admin), 'POST', `/api-tokens/${id}/revoke`);
    expect(revoked).toMatchObject({ status: 200, body: { id, revokedAt: expect.any(String) } });
    expect((await api({ bearer: token }, 'GET', '/jobs')).status).toBe(401);
    expect((await api(asBrowser(a.admin), 'POST', `/api-tokens/${id}/revoke`)).body).toMatchObject({ revokedAt: revoked.body['revokedAt'] });

    const entries = (await auditEntries(a)).filter((entry) => entry['target'] === `api-token:${id}` && entry['action'] === 'api-token.revoked');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actorKind: 'USER', details: { name: 'to revoke', scopes: 'jobs:read', expiresAt: created.body['expiresAt'] } });
  });

  // Last: it moves the clock past every session of this file.
  it('grant their scopes only, record their last use, and expire', async () => {
    const created = await api(asBrowser(a.admin), 'POST', '/api-tokens', { name: 'one day', scopes: ['jobs:read'], expiresInDays: 1 });
    const token = String(created.body['token']);
    expect((await api({ bearer: token }, 'GET', '/jobs')).status).toBe(200);
    expect((await api({ bearer: token }, 'GET', '/users')).body).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('people:read') });
    const used = (await api<Record<string, unknown>[]>(asBrowser(a.admin), 'GET', '/api-tokens')).body.find((candidate) => candidate['id'] === created.body['id']);
    expect(used?.['lastUsedAt']).toEqual(expect.any(String));
    clock.advance(DAY + 1_000);
    expect((await api({ bearer: token }, 'GET', '/jobs')).status).toBe(401);
  });
});

describe('the audit chain', () => {
  it('still verifies after every people and token change', async () => {
    expect((await api({ bearer: a.token }, 'GET', '/audit-log/verify')).body).toMatchObject({ ok: true });
    expect((await api({ bearer: b.token }, 'GET', '/audit-log/verify')).body).toMatchObject({ ok: true });
  });
});
