import { createDatabase, startPostgresCluster, type PostgresCluster } from '@airlock/testing';
import { asBrowser, callApi, cookiePair, logIn, ShiftedClock, type BrowserSession, type Credentials } from '../../test-support/auth-client';
import { createApiToken, createTenantWithAdminToken } from '../../test-support/tenant.fixture';
import { testAppConfig } from '../../test-support/test-app-config';
import { startControlPlane, type RunningControlPlane } from '../control-plane';
import { ROLE_SCOPES } from './access';
import { LOGIN_ATTEMPTS_PER_WINDOW, LOGIN_WINDOW_MS } from './login-rate-limiter';

jest.setTimeout(120_000);

const MINUTE = 60_000;

let cluster: PostgresCluster;
let databaseUrl: string;
let controlPlane: RunningControlPlane;
const clock = new ShiftedClock();
/** Everything the control plane wrote to stdout and stderr while this file ran. */
let logOutput = '';
/** Every password, token, session secret and CSRF token these tests used: none may appear in a log. */
const secrets = new Set<string>();

const ADMIN = { email: 'first.admin@example.com', displayName: 'First Admin', password: 'correct horse battery staple' };

function remember<T extends string>(secret: T): T {
  secrets.add(secret);
  return secret;
}

function rememberSession(session: BrowserSession): BrowserSession {
  remember(session.cookie.split('=')[1] ?? '');
  remember(session.csrfToken);
  return session;
}

const api = <T = Record<string, unknown>>(credentials: Credentials, method: string, path: string, body?: unknown) =>
  callApi<T>(controlPlane.httpUrl, credentials, method, path, body);

async function login(email: string, password: string): Promise<BrowserSession> {
  return rememberSession(await logIn(controlPlane.httpUrl, email, password));
}

let bootstrapToken: string;
const asBootstrapToken = (): Credentials => ({ bearer: bootstrapToken });

/** A person of the default tenant, made with the bootstrap token (one argon2 hash). */
async function createPerson(email: string, role: 'ADMIN' | 'MANAGER' | 'VIEWER', password = remember(`pw-${email}-0123456789`)): Promise<{ id: string; email: string; password: string }> {
  const created = await api(asBootstrapToken(), 'POST', '/users', { email, displayName: email.split('@')[0], role, password });
  expect(created.status).toBe(201);
  return { id: String(created.body['id']), email, password };
}

async function auditActions(credentials: Credentials): Promise<Record<string, unknown>[]> {
  const answer = await api<Record<string, unknown>[]>(credentials, 'GET', '/audit-log?limit=500');
  expect(answer.status).toBe(200);
  return answer.body;
}

beforeAll(async () => {
  const capture = (chunk: string | Uint8Array): boolean => {
    logOutput += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  };
  jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  cluster = await startPostgresCluster();
  databaseUrl = await createDatabase(cluster.url, 'auth_it');
  controlPlane = await startControlPlane(
    testAppConfig(databaseUrl, { LOG_LEVEL: 'verbose', AIRLOCK_SESSION_TTL: '1h', AIRLOCK_SESSION_IDLE_TIMEOUT: '10m' }),
    { clock },
  );
  bootstrapToken = remember(controlPlane.bootstrapToken ?? '');
  expect(bootstrapToken).toMatch(/^alt_/);
});

afterAll(async () => {
  await controlPlane?.stop();
  await cluster?.stop();
  jest.restoreAllMocks();
});

// Every test starts with a fresh login budget for 127.0.0.1; sessions are opened per test.
beforeEach(() => clock.advance(LOGIN_WINDOW_MS));

describe('the first admin, from the bootstrap token', () => {
  it('is asked for while the default organisation has nobody', async () => {
    expect((await api(null, 'GET', '/auth/providers')).body).toEqual({ password: true, oidc: null, needsBootstrap: true });
  });

  it('needs a live API token holding people:write', async () => {
    const body = { bootstrapToken: `alt_${'A'.repeat(43)}`, ...ADMIN };
    const unknown = await api(null, 'POST', '/auth/bootstrap', body);
    expect(unknown).toMatchObject({ status: 401, body: { code: 'INVALID_BOOTSTRAP_TOKEN' } });
    const { tenantId } = await createTenantWithAdminToken(controlPlane.dataAccess, 'bootstrap-weak-token');
    const weak = remember(await createApiToken(controlPlane.dataAccess, tenantId, ['jobs:read', 'people:read'], 'weak'));
    expect((await api(null, 'POST', '/auth/bootstrap', { ...body, bootstrapToken: weak })).body['code']).toBe('INVALID_BOOTSTRAP_TOKEN');
    const malformed = await api(null, 'POST', '/auth/bootstrap', { ...body, bootstrapToken: 'hunter2', password: 'short' });
    expect(malformed.status).toBe(400);
    expect(malformed.body['message']).toEqual(expect.stringContaining('bootstrapToken: expected an API token'));
    expect(malformed.body['message']).toEqual(expect.stringContaining('password: expected 12..256 characters'));
  });

  it('creates an ADMIN, logs them in, audits user.created by the token, and works once', async () => {
    const created = await api(null, 'POST', '/auth/bootstrap', { bootstrapToken, ...ADMIN, email: '  First.Admin@Example.com ' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      user: { id: expect.any(String), email: ADMIN.email, displayName: ADMIN.displayName, role: 'ADMIN' },
      scopes: [...ROLE_SCOPES.ADMIN],
      csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      expiresAt: expect.any(String),
    });
    const setCookie = created.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^airlock_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=3600; HttpOnly; SameSite=Lax$/);
    const session = rememberSession({ cookie: cookiePair(setCookie), csrfToken: String(created.body['csrfToken']), setCookie, body: created.body });
    expect((await api(asBrowser(session), 'GET', '/auth/session')).body).toEqual(created.body);

    expect((await api(null, 'GET', '/auth/providers')).body).toEqual({ password: true, oidc: null, needsBootstrap: false });
    const again = await api(null, 'POST', '/auth/bootstrap', { bootstrapToken, ...ADMIN, email: 'second.admin@example.com' });
    expect(again).toMatchObject({ status: 409, body: { code: 'ALREADY_BOOTSTRAPPED' } });

    const entries = await auditActions(asBrowser(session));
    expect(entries).toContainEqual(
      expect.objectContaining({
        action: 'user.created',
        actorKind: 'API_TOKEN',
        actorName: 'bootstrap admin',
        target: `user:${(created.body['user'] as { id: string }).id}`,
        details: { email: ADMIN.email, role: 'ADMIN' },
      }),
    );
  });
});

describe('logging in', () => {
  it('opens a session for the right password, with the role\'s scopes, whatever the case of the email', async () => {
    const viewer = await createPerson('viewer.login@example.com', 'VIEWER');
    const session = await login('  VIEWER.Login@example.com', viewer.password);
    expect(session.body).toMatchObject({ user: { id: viewer.id, email: viewer.email, role: 'VIEWER' }, scopes: [...ROLE_SCOPES.VIEWER] });
    expect(Date.parse(String(session.body['expiresAt'])) - clock.now().getTime()).toBeGreaterThan(59 * MINUTE);
    expect((await api(asBrowser(session), 'GET', '/jobs')).status).toBe(200);
    expect((await api(asBrowser(session), 'GET', '/users')).body).toMatchObject({ code: 'FORBIDDEN' });
    const listed = await api<{ email: string; lastLoginAt: string | null }[]>(asBootstrapToken(), 'GET', '/users');
    expect(listed.body.find((user) => user.email === viewer.email)?.lastLoginAt).toEqual(expect.any(String));
  });

  it('answers an unknown email and a wrong password alike', async () => {
    await createPerson('alike@example.com', 'VIEWER');
    const unknown = await api(null, 'POST', '/auth/login', { email: 'nobody@example.com', password: 'whatever-password' });
    const wrong = await api(null, 'POST', '/auth/login', { email: 'alike@example.com', password: 'whatever-password' });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(unknown.body).toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect(unknown.headers.get('set-cookie')).toBeNull();
  });

  it('locks an account for 15 minutes at the fifth wrong password in a row, whatever the password meanwhile, then lets it in', async () => {
    const person = await createPerson('locked@example.com', 'VIEWER');
    const attempt = (password: string) => api(null, 'POST', '/auth/login', { email: person.email, password });
    for (let wrong = 1; wrong <= 4; wrong += 1) expect((await attempt(`wrong password ${wrong}`)).body['code']).toBe('INVALID_CREDENTIALS');
    const locking = await attempt('wrong password 5');
    expect(locking).toMatchObject({ status: 423, body: { code: 'ACCOUNT_LOCKED', message: expect.stringContaining('try again in 15 minutes') } });
    expect(Number(locking.headers.get('retry-after'))).toBeGreaterThan(14 * 60);
    const rightWhileLocked = await attempt(person.password);
    expect(rightWhileLocked).toMatchObject({ status: 423, body: { code: 'ACCOUNT_LOCKED' } });
    const listed = await api<{ email: string; locked: boolean }[]>(asBootstrapToken(), 'GET', '/users');
    expect(listed.body.find((user) => user.email === person.email)?.locked).toBe(true);

    clock.advance(10 * MINUTE);
    expect((await attempt(person.password)).body['message']).toEqual(expect.stringContaining('try again in 5 minutes'));
    clock.advance(5 * MINUTE + 1_000);
    expect((await attempt(person.password)).status).toBe(200);
    // The right password started the count again: four wrong ones do not lock.
    for (let wrong = 1; wrong <= 4; wrong += 1) expect((await attempt(`wrong again ${wrong}`)).status).toBe(401);
    expect((await attempt(person.password)).status).toBe(200);
  });

  it(`takes at most ${LOGIN_ATTEMPTS_PER_WINDOW} login or bootstrap attempts a minute from one address, then answers 429 with Retry-After`, async () => {
    for (let attempt = 1; attempt <= LOGIN_ATTEMPTS_PER_WINDOW; attempt += 1) {
      expect((await api(null, 'POST', '/auth/login', { email: `guess${attempt}@example.com`, password: 'guessing-password' })).status).toBe(401);
    }
    const limited = await api(null, 'POST', '/auth/login', { email: ADMIN.email, password: ADMIN.password });
    expect(limited).toMatchObject({ status: 429, body: { code: 'RATE_LIMITED' } });
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // The bootstrap route shares the budget, and even a malformed attempt is refused before it is read.
    expect((await api(null, 'POST', '/auth/bootstrap', {})).status).toBe(429);
    clock.advance(retryAfter * 1_000);
    expect((await api(null, 'POST', '/auth/login', { email: ADMIN.email, password: ADMIN.password })).status).toBe(200);
  });

  it('refuses a disabled person, ends their sessions, and lets them in again once enabled', async () => {
    const person = await createPerson('disabled@example.com', 'MANAGER');
    const session = await login(person.email, person.password);
    const disabled = await api(asBootstrapToken(), 'PATCH', `/users/${person.id}`, { disabled: true });
    expect(disabled.body).toMatchObject({ disabled: true });
    expect((await api(asBrowser(session), 'GET', '/auth/session')).status).toBe(401);
    expect((await api(null, 'POST', '/auth/login', { email: person.email, password: person.password })).body).toMatchObject({ code: 'ACCOUNT_DISABLED' });
    expect((await api(null, 'POST', '/auth/login', { email: person.email, password: 'not the password' })).body).toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect((await api(asBootstrapToken(), 'PATCH', `/users/${person.id}`, { disabled: false })).body).toMatchObject({ disabled: false });
    expect((await login(person.email, person.password)).body).toMatchObject({ user: { role: 'MANAGER' } });
  });

  it('refuses malformed logins naming the field', async () => {
    const answer = await api(null, 'POST', '/auth/login', { email: 'not-an-email', password: 'x'.repeat(257) });
    expect(answer.status).toBe(400);
    expect(answer.body['message']).toBe('email: expected an email address such as ada@example.com; password: expected 1..256 characters');
  });
});

describe('sessions', () => {
  let person: { id: string; email: string; password: string };

  beforeAll(async () => {
    person = await createPerson('sessions@example.com', 'VIEWER');
  });

  it('end at their absolute lifetime however active', async () => {
    const session = await login(person.email, person.password);
    for (let minutes = 9; minutes < 60; minutes += 9) {
      clock.advance(9 * MINUTE);
      expect((await api(asBrowser(session), 'GET', '/auth/session')).status).toBe(200);
    }
    clock.advance(9 * MINUTE);
    expect((await api(asBrowser(session), 'GET', '/auth/session')).body).toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('end when left idle', async () => {
    const session = await login(person.email, person.password);
    clock.advance(9 * MINUTE);
    expect((await api(asBrowser(session), 'GET', '/jobs')).status).toBe(200);
    clock.advance(9 * MINUTE);
    expect((await api(asBrowser(session), 'GET', '/jobs')).status).toBe(200);
    clock.advance(10 * MINUTE + 1_000);
    expect((await api(asBrowser(session), 'GET', '/jobs')).status).toBe(401);
  });

  it('end at logout, which clears the cookie', async () => {
    const session = await login(person.email, person.password);
    const other = await login(person.email, person.password);
    const logout = await api(asBrowser(session), 'POST', '/auth/logout');
    expect(logout.status).toBe(204);
    expect(logout.headers.get('set-cookie')).toBe('airlock_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax');
    expect((await api(asBrowser(session), 'GET', '/auth/session')).status).toBe(401);
    expect((await api(asBrowser(session), 'POST', '/auth/logout')).status).toBe(401);
    expect((await api(asBrowser(other), 'GET', '/auth/session')).status).toBe(200);
  });

  it('serve the same CSRF token after a reload, and refuse API tokens on self-service routes', async () => {
    const session = await login(person.email, person.password);
    expect((await api(asBrowser(session), 'GET', '/auth/session')).body['csrfToken']).toBe(session.csrfToken);
    expect((await api(asBootstrapToken(), 'GET', '/auth/session')).body).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringContaining('API token cannot use it') });
    expect((await api(null, 'GET', '/auth/session')).status).toBe(401);
    expect((await api({ cookie: 'airlock_session=' + 'x'.repeat(43) }, 'GET', '/auth/session')).status).toBe(401);
  });

  it('take a role change at once', async () => {
    const changing = await createPerson('promoted@example.com', 'VIEWER');
    const session = await login(changing.email, changing.password);
    expect((await api(asBrowser(session), 'POST', '/jobs', { kind: 'noop' })).status).toBe(403);
    await api(asBootstrapToken(), 'PATCH', `/users/${changing.id}`, { role: 'MANAGER' });
    expect((await api(asBrowser(session), 'POST', '/jobs', { kind: 'noop' })).status).toBe(201);
    expect((await api(asBrowser(session), 'GET', '/auth/session')).body['scopes']).toEqual([...ROLE_SCOPES.MANAGER]);
  });
});

describe('changing one\'s password', () => {
  it('needs the current password, keeps this session, ends the others, and is audited', async () => {
    const person = await createPerson('changer@example.com', 'VIEWER');
    const here = await login(person.email, person.password);
    const elsewhere = await login(person.email, person.password);
    const newPassword = remember('a much better passphrase, this one');

    const wrong = await api(asBrowser(here), 'POST', '/auth/password', { currentPassword: 'not my password', newPassword });
    expect(wrong).toMatchObject({ status: 400, body: { code: 'INVALID_CURRENT_PASSWORD' } });
    const tooShort = await api(asBrowser(here), 'POST', '/auth/password', { currentPassword: person.password, newPassword: 'short' });
    expect(tooShort.body).toMatchObject({ code: 'INVALID_REQUEST', message: 'newPassword: expected 12..256 characters' });

    expect((await api(asBrowser(here), 'POST', '/auth/password', { currentPassword: person.password, newPassword })).status).toBe(204);
    expect((await api(asBrowser(here), 'GET', '/auth/session')).status).toBe(200);
    expect((await api(asBrowser(elsewhere), 'GET', '/auth/session')).status).toBe(401);
    expect((await api(null, 'POST', '/auth/login', { email: person.email, password: person.password })).status).toBe(401);
    await login(person.email, newPassword);

    const entry = (await auditActions(asBootstrapToken())).find((candidate) => candidate['action'] === 'user.password-changed' && candidate['target'] === `user:${person.id}`);
    expect(entry).toMatchObject({ actorKind: 'USER', actorId: person.id, details: { revokedSessions: 1 } });
  });
});

describe('CSRF', () => {
  let admin: BrowserSession;

  beforeEach(async () => {
    admin = await login(ADMIN.email, ADMIN.password);
  });

  const newPerson = (n: number) => ({ email: `csrf${n}@example.com`, displayName: `CSRF ${n}`, role: 'VIEWER', password: remember(`csrf-password-${n}-long`) });

  it('refuses a cookie-authenticated write without the token, with a wrong one, or from another origin', async () => {
    const missing = await api({ cookie: admin.cookie }, 'POST', '/users', newPerson(1));
    expect(missing).toMatchObject({ status: 403, body: { code: 'CSRF_REJECTED' } });
    const wrong = await api({ cookie: admin.cookie, csrfToken: 'A'.repeat(43) }, 'POST', '/users', newPerson(1));
    expect(wrong).toMatchObject({ status: 403, body: { code: 'CSRF_REJECTED' } });
    const crossSite = await api({ ...asBrowser(admin), origin: 'https://evil.example' }, 'POST', '/users', newPerson(1));
    expect(crossSite).toMatchObject({ status: 403, body: { code: 'CSRF_REJECTED' } });
    expect((await api({ ...asBrowser(admin), origin: 'null' }, 'POST', '/auth/logout')).status).toBe(403);
    expect((await api({ cookie: admin.cookie }, 'POST', '/auth/logout')).status).toBe(403);
    // Nothing of the refused writes happened.
    expect((await api<{ email: string }[]>(asBootstrapToken(), 'GET', '/users')).body.map((user) => user.email)).not.toContain('csrf1@example.com');
  });

  it('lets through a write with the token from the dashboard\'s own origin, reads without it, and bearer requests without either', async () => {
    expect((await api({ ...asBrowser(admin), origin: controlPlane.httpUrl }, 'POST', '/users', newPerson(2))).status).toBe(201);
    expect((await api(asBrowser(admin), 'POST', '/users', newPerson(3))).status).toBe(201);
    expect((await api({ cookie: admin.cookie }, 'GET', '/users')).status).toBe(200);
    expect((await api(asBootstrapToken(), 'POST', '/users', newPerson(4))).status).toBe(201);
  });

  it('never falls back to the cookie when an Authorization header is there', async () => {
    const answer = await callApi(controlPlane.httpUrl, { cookie: admin.cookie }, 'GET', '/users');
    expect(answer.status).toBe(200);
    const withBadBearer = await fetch(`${controlPlane.httpUrl}/api/v1/users`, { headers: { cookie: admin.cookie, authorization: 'Bearer nonsense' } });
    expect(withBadBearer.status).toBe(401);
  });
});

describe('behind https', () => {
  it('names the cookie __Host-airlock_session, marks it Secure, and takes writes from the public origin only', async () => {
    const secure = await startControlPlane(testAppConfig(databaseUrl, { AIRLOCK_PUBLIC_URL: 'https://airlock.example.com' }), { clock });
    try {
      const answer = await callApi(secure.httpUrl, null, 'POST', '/auth/login', { email: ADMIN.email, password: ADMIN.password });
      const setCookie = answer.headers.get('set-cookie') ?? '';
      expect(setCookie).toMatch(/^__Host-airlock_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=43200; HttpOnly; SameSite=Lax; Secure$/);
      const session = rememberSession({ cookie: cookiePair(setCookie), csrfToken: String(answer.body['csrfToken']), setCookie, body: answer.body });
      // The plain name is not read: a cookie set by a sibling host cannot stand in for the __Host- one.
      expect((await callApi(secure.httpUrl, { cookie: `airlock_session=${session.cookie.split('=')[1]}` }, 'GET', '/auth/session')).status).toBe(401);
      expect((await callApi(secure.httpUrl, { ...asBrowser(session), origin: secure.httpUrl }, 'POST', '/auth/logout')).body).toMatchObject({ code: 'CSRF_REJECTED' });
      expect((await callApi(secure.httpUrl, { ...asBrowser(session), origin: 'https://airlock.example.com' }, 'POST', '/auth/logout')).status).toBe(204);
    } finally {
      await secure.stop();
    }
  });
});

describe('the log', () => {
  it('never holds a password, an API token, a session secret or a CSRF token', () => {
    // The events are there, so the capture worked; what they say is ids and reasons only.
    expect(logOutput).toContain('login_succeeded');
    expect(logOutput).toContain('account_locked');
    expect(logOutput).toContain('first_admin_created');
    const leaked = [...secrets].filter((secret) => secret.length > 0 && logOutput.includes(secret));
    expect(leaked).toEqual([]);
    expect(logOutput).not.toContain('nobody@example.com');
  });
});
