import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createDatabase,
  findFreePort,
  signInAtIdentityProvider,
  startPostgresCluster,
  startTestIdentityProvider,
  type PostgresCluster,
  type TestIdentityProvider,
  type TestOidcAccount,
} from '@airlock/testing';
import { callApi, cookiePair, ShiftedClock, type Credentials } from '../../../test-support/auth-client';
import { testAppConfig } from '../../../test-support/test-app-config';
import { startControlPlane, type RunningControlPlane } from '../../control-plane';
import { ROLE_SCOPES } from '../access';
import { LOGIN_ATTEMPTS_PER_WINDOW, LOGIN_WINDOW_MS } from '../login-rate-limiter';
import { DISCOVERY_RETRY_DELAY_MS } from './oidc-client';
import { OIDC_ATTEMPT_LIFETIME_MS } from './oidc-attempt-cookie';

jest.setTimeout(120_000);

/**
 * Single sign-on end to end: real PostgreSQL, control planes started in this process, and a
 * real OpenID Connect provider (oidc-provider) in its own process, whose login and consent
 * pages are driven like a browser would. Two replicas (A, and B which creates unknown people
 * as VIEWER) share the database, the public URL and the client; a third (C) starts while its
 * identity provider is down.
 */

const CLIENT_ID = 'airlock-control-plane';
const CLIENT_SECRET = `client-secret-${randomBytes(16).toString('hex')}`;
const CALLBACK_PATH = '/api/v1/auth/oidc/callback';

/** The identity provider's people, by login name, which is also their subject there. */
const ACCOUNTS: Readonly<Record<string, TestOidcAccount>> = {
  ada: { claims: { email: ' Ada@Example.com ', email_verified: true, name: 'Ada Lovelace' } },
  // Another provider account claiming Ada's (verified) address.
  'ada-impostor': { claims: { email: 'ada@example.com', email_verified: true, name: 'Not Ada' } },
  grace: { claims: { email: 'grace@example.com', email_verified: true, name: 'Grace Hopper' } },
  stranger: { claims: { email: 'stranger@example.com', email_verified: true, name: 'Stranger' } },
  'bob-unverified': { claims: { email: 'bob@example.com', email_verified: false, name: 'Bob' } },
  dora: { claims: { email: 'dora@example.com', email_verified: true, name: 'Dora' } },
  carol: { claims: { email: 'carol@example.com', email_verified: true, name: 'Carol' } },
  replay: { claims: { email: 'replay@example.com', email_verified: true, name: 'Replay' } },
};

let cluster: PostgresCluster;
let databaseUrl: string;
let scratchDir: string;
let identityProvider: TestIdentityProvider;
/** Started late, on a port fixed up front: control plane C comes up while it is down. */
let lateIdentityProvider: TestIdentityProvider | undefined;
let replicaA: RunningControlPlane;
let replicaB: RunningControlPlane;
let replicaC: RunningControlPlane;
/** The origin every replica is reached at by browsers, and the redirect URI registered at the providers. */
let publicUrl: string;
/** The client every provider knows this control plane as. */
let oidcClient: { client_id: string; client_secret: string; redirect_uris: string[] };
const clock = new ShiftedClock();
let logOutput = '';
/** Every secret the tests saw or made: none may appear in a log. */
const secrets = new Set<string>([CLIENT_SECRET]);
let bootstrapToken: string;

function remember(secret: string | null | undefined): void {
  if (secret) secrets.add(secret);
}

const api = <T = Record<string, unknown>>(replica: RunningControlPlane, credentials: Credentials, method: string, path: string, body?: unknown) =>
  callApi<T>(replica.httpUrl, credentials, method, path, body);
const asAdmin = (): Credentials => ({ bearer: bootstrapToken });

/** A person an admin adds (with a password, so they could also log in that way). */
async function addPerson(email: string, role: 'ADMIN' | 'MANAGER' | 'VIEWER' = 'MANAGER'): Promise<string> {
  const created = await api(replicaA, asAdmin(), 'POST', '/users', { email, displayName: email.split('@')[0], role, password: `pw-${email}-0123456789` });
  expect(created.status).toBe(201);
  return String(created.body['id']);
}

async function auditEntries(): Promise<Record<string, unknown>[]> {
  const answer = await api<Record<string, unknown>[]>(replicaA, asAdmin(), 'GET', '/audit-log?limit=500');
  expect(answer.status).toBe(200);
  return answer.body;
}

async function person(email: string): Promise<Record<string, unknown> | undefined> {
  const answer = await api<Record<string, unknown>[]>(replicaA, asAdmin(), 'GET', '/users');
  return answer.body.find((candidate) => candidate['email'] === email);
}

/** A GET as a browser's navigation, not following redirects. */
async function navigate(url: string, cookie?: string): Promise<Response> {
  return fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
}

/** The `name=value` pairs a response sets, by name. */
function setCookies(response: Response): Map<string, string> {
  return new Map(response.headers.getSetCookie().map((header) => [header.split('=')[0] ?? '', header]));
}

/** Where a 302 points, as a URL relative to the replica when it is a path. */
function locationOf(response: Response, base: string): URL {
  expect(response.status).toBe(302);
  return new URL(response.headers.get('location') ?? '', base);
}

/** The step that leaves for the identity provider: its authorization URL and the attempt cookie. */
async function beginSignIn(replica: RunningControlPlane, next?: string): Promise<{ authorizationUrl: URL; attemptCookie: string; response: Response }> {
  const response = await navigate(`${replica.httpUrl}/api/v1/auth/oidc/login${next === undefined ? '' : `?next=${encodeURIComponent(next)}`}`);
  const authorizationUrl = locationOf(response, replica.httpUrl);
  const attempt = setCookies(response).get('airlock_oidc_attempt') ?? '';
  const attemptCookie = cookiePair(attempt);
  remember(attemptCookie.split('=')[1]);
  remember(authorizationUrl.searchParams.get('state'));
  remember(authorizationUrl.searchParams.get('nonce'));
  return { authorizationUrl, attemptCookie, response };
}

/** The provider's redirect back, sent to `replica` (any replica serves the public URL's callback). */
async function returnFromProvider(replica: RunningControlPlane, callbackUrl: URL, attemptCookie: string | undefined): Promise<Response> {
  remember(callbackUrl.searchParams.get('code'));
  return navigate(`${replica.httpUrl}${callbackUrl.pathname}${callbackUrl.search}`, attemptCookie);
}

/** A whole sign-in as `login`, begun on `begin` and completed on `complete`. */
async function signIn(login: string, options: { begin?: RunningControlPlane; complete?: RunningControlPlane; next?: string } = {}): Promise<{ response: Response; callbackUrl: URL; attemptCookie: string }> {
  const begin = options.begin ?? replicaA;
  const { authorizationUrl, attemptCookie } = await beginSignIn(begin, options.next);
  const callbackUrl = await signInAtIdentityProvider(authorizationUrl.href, login);
  const response = await returnFromProvider(options.complete ?? begin, callbackUrl, attemptCookie);
  return { response, callbackUrl, attemptCookie };
}

/** The session cookie a successful sign-in set, checked to be the password login's very cookie. */
function sessionCookieOf(response: Response): string {
  const header = setCookies(response).get('airlock_session') ?? '';
  expect(header).toMatch(/^airlock_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax$/);
  const cookie = cookiePair(header);
  remember(cookie.split('=')[1]);
  return cookie;
}

/** The error code a refused sign-in sends the browser to the login page with. */
function loginErrorOf(response: Response): string | null {
  const location = locationOf(response, replicaA.httpUrl);
  expect(location.pathname).toBe('/login');
  return location.searchParams.get('error');
}

async function startReplica(vars: Record<string, string>): Promise<RunningControlPlane> {
  const port = await findFreePort();
  const secretFile = join(scratchDir, 'client-secret');
  return startControlPlane(
    testAppConfig(databaseUrl, {
      LOG_LEVEL: 'verbose',
      AIRLOCK_HTTP_PORT: String(port),
      AIRLOCK_PUBLIC_URL: publicUrl,
      AIRLOCK_OIDC_CLIENT_ID: CLIENT_ID,
      AIRLOCK_OIDC_CLIENT_SECRET_FILE: secretFile,
      AIRLOCK_OIDC_DISPLAY_NAME: 'Test IdP',
      ...vars,
    }),
    { clock },
  );
}

beforeAll(async () => {
  const capture = (chunk: string | Uint8Array): boolean => {
    logOutput += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  };
  jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  scratchDir = mkdtempSync(join(tmpdir(), 'airlock-oidc-it-'));
  // A trailing newline, as editors and `echo` leave one: it is not part of the secret.
  writeFileSync(join(scratchDir, 'client-secret'), `${CLIENT_SECRET}\n`, { mode: 0o600 });
  cluster = await startPostgresCluster();
  databaseUrl = await createDatabase(cluster.url, 'oidc_it');
  // Replica A's port is the public URL's: the redirect URI must be registered before the provider starts.
  const portA = await findFreePort();
  publicUrl = `http://127.0.0.1:${portA}`;
  oidcClient = { client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [`${publicUrl}${CALLBACK_PATH}`] };
  identityProvider = await startTestIdentityProvider({ clients: [oidcClient], accounts: ACCOUNTS });
  replicaA = await startControlPlane(
    testAppConfig(databaseUrl, {
      LOG_LEVEL: 'verbose',
      AIRLOCK_HTTP_PORT: String(portA),
      AIRLOCK_PUBLIC_URL: publicUrl,
      AIRLOCK_OIDC_ISSUER: identityProvider.issuer,
      AIRLOCK_OIDC_CLIENT_ID: CLIENT_ID,
      AIRLOCK_OIDC_CLIENT_SECRET_FILE: join(scratchDir, 'client-secret'),
      AIRLOCK_OIDC_DISPLAY_NAME: 'Test IdP',
    }),
    { clock },
  );
  bootstrapToken = replicaA.bootstrapToken ?? '';
  remember(bootstrapToken);
  replicaB = await startReplica({ AIRLOCK_OIDC_ISSUER: identityProvider.issuer, AIRLOCK_OIDC_NEW_USER_ROLE: 'VIEWER' });
});

afterAll(async () => {
  await replicaC?.stop();
  await replicaB?.stop();
  await replicaA?.stop();
  await lateIdentityProvider?.stop();
  await identityProvider?.stop();
  await cluster?.stop();
  if (scratchDir) rmSync(scratchDir, { recursive: true, force: true });
  jest.restoreAllMocks();
});

// Each test starts with a fresh login budget for 127.0.0.1.
beforeEach(() => clock.advance(LOGIN_WINDOW_MS));

describe('single sign-on: starting', () => {
  it('is offered by the login page with its display name', async () => {
    const providers = await api(replicaA, null, 'GET', '/auth/providers');
    expect(providers.body).toMatchObject({ password: true, oidc: { displayName: 'Test IdP', loginUrl: '/api/v1/auth/oidc/login' } });
  });

  it('sends the browser to the provider with state, nonce and an S256 PKCE challenge, remembering them in a sealed cookie', async () => {
    const { authorizationUrl, response } = await beginSignIn(replicaA, '/jobs?status=FAILED');
    expect(authorizationUrl.origin).toBe(identityProvider.issuer);
    const parameters = Object.fromEntries(authorizationUrl.searchParams);
    expect(parameters).toMatchObject({
      client_id: CLIENT_ID,
      response_type: 'code',
      scope: 'openid email profile',
      redirect_uri: `${publicUrl}${CALLBACK_PATH}`,
      code_challenge_method: 'S256',
      state: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      nonce: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    const attempt = setCookies(response).get('airlock_oidc_attempt') ?? '';
    expect(attempt).toMatch(/^airlock_oidc_attempt=[A-Za-z0-9_-]+; Path=\/api\/v1\/auth\/oidc; Max-Age=600; HttpOnly; SameSite=Lax$/);
    // Sealed: neither the state nor the next path can be read from it.
    const sealed = Buffer.from(cookiePair(attempt).split('=')[1] ?? '', 'base64url').toString('latin1');
    expect(sealed).not.toContain(parameters['state']);
    expect(sealed).not.toContain('/jobs');
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('takes only a path of this site to return to', async () => {
    for (const next of ['//attacker.example/x', '/\\attacker.example', 'https://attacker.example/', 'jobs', '/a b']) {
      const answer = await api(replicaA, null, 'GET', `/auth/oidc/login?next=${encodeURIComponent(next)}`);
      expect(answer).toMatchObject({ status: 400, body: { code: 'INVALID_REQUEST', message: expect.stringContaining('next: expected a path of this site') } });
    }
    const tooLong = await api(replicaA, null, 'GET', `/auth/oidc/login?next=/${'a'.repeat(600)}`);
    expect(tooLong).toMatchObject({ status: 400, body: { message: 'next: expected at most 512 characters' } });
  });

  it('counts against the login budget of the address', async () => {
    for (let attempt = 0; attempt < LOGIN_ATTEMPTS_PER_WINDOW; attempt += 1) {
      expect(new URL((await navigate(`${replicaA.httpUrl}/api/v1/auth/oidc/login`)).headers.get('location') ?? '').origin).toBe(identityProvider.issuer);
    }
    expect(loginErrorOf(await navigate(`${replicaA.httpUrl}/api/v1/auth/oidc/login`))).toBe('RATE_LIMITED');
  });
});

describe('single sign-on: who comes in', () => {
  let adaId: string;

  beforeAll(async () => {
    adaId = await addPerson('ada@example.com');
  });

  it('links a person an admin added by their verified email, opens a session like a password login, and audits the link', async () => {
    const { response } = await signIn('ada', { next: '/jobs' });
    expect(locationOf(response, replicaA.httpUrl).href).toBe(`${replicaA.httpUrl}/jobs`);
    const cookies = setCookies(response);
    expect(cookies.get('airlock_oidc_attempt')).toBe('airlock_oidc_attempt=; Path=/api/v1/auth/oidc; Max-Age=0; HttpOnly; SameSite=Lax');
    const cookie = sessionCookieOf(response);

    const session = await api(replicaA, { cookie }, 'GET', '/auth/session');
    expect(session.body).toMatchObject({ user: { id: adaId, email: 'ada@example.com', role: 'MANAGER' }, scopes: [...ROLE_SCOPES.MANAGER] });
    const csrfToken = String(session.body['csrfToken']);
    remember(csrfToken);
    // The same CSRF scheme as a password session: a write without the token is refused, with it allowed.
    expect((await api(replicaA, { cookie }, 'POST', '/auth/logout')).body['code']).toBe('CSRF_REJECTED');

    const link = (await auditEntries()).filter((entry) => entry['action'] === 'user.oidc-linked');
    expect(link).toEqual([
      expect.objectContaining({ actorKind: 'USER', actorId: adaId, actorName: 'ada', target: `user:${adaId}`, details: { issuer: identityProvider.issuer, subject: 'ada' } }),
    ]);
    expect(await person('ada@example.com')).toMatchObject({ lastLoginAt: expect.any(String) });
    expect((await api(replicaA, { cookie, csrfToken }, 'POST', '/auth/logout')).status).toBe(204);
  });

  it('finds a linked person by their subject afterwards, whatever email the provider now says', async () => {
    // The provider again, at the same issuer, after Ada's address changed there.
    const port = Number(new URL(identityProvider.issuer).port);
    await identityProvider.stop();
    const renamed = { ...ACCOUNTS, ada: { claims: { email: 'ada.lovelace@new.example', email_verified: true, name: 'Ada Lovelace' } } };
    identityProvider = await startTestIdentityProvider({ clients: [oidcClient], accounts: renamed, port });
    const { response } = await signIn('ada');
    expect(locationOf(response, replicaA.httpUrl).pathname).toBe('/');
    const session = await api(replicaA, { cookie: sessionCookieOf(response) }, 'GET', '/auth/session');
    expect(session.body).toMatchObject({ user: { id: adaId, email: 'ada@example.com' } });
    expect((await auditEntries()).filter((entry) => entry['action'] === 'user.oidc-linked')).toHaveLength(1);
  });

  it('refuses another provider account claiming the email of a person linked already', async () => {
    expect(loginErrorOf((await signIn('ada-impostor')).response)).toBe('OIDC_ACCOUNT_LINKED_ELSEWHERE');
  });

  it('refuses someone nobody added while no role for newcomers is set', async () => {
    const { response } = await signIn('stranger');
    expect(loginErrorOf(response)).toBe('OIDC_UNKNOWN_USER');
    expect(setCookies(response).get('airlock_oidc_attempt')).toMatch(/Max-Age=0/);
    expect(setCookies(response).has('airlock_session')).toBe(false);
    expect(await person('stranger@example.com')).toBeUndefined();
  });

  it('creates a newcomer with AIRLOCK_OIDC_NEW_USER_ROLE, audited with them as actor; an attempt begun on one replica completes on another', async () => {
    const { response } = await signIn('grace', { begin: replicaA, complete: replicaB });
    const session = await api(replicaB, { cookie: sessionCookieOf(response) }, 'GET', '/auth/session');
    expect(session.body).toMatchObject({ user: { email: 'grace@example.com', displayName: 'Grace Hopper', role: 'VIEWER' }, scopes: [...ROLE_SCOPES.VIEWER] });
    const graceId = String((session.body['user'] as Record<string, unknown>)['id']);
    expect(await person('grace@example.com')).toMatchObject({ id: graceId, role: 'VIEWER', passwordLogin: false });
    const created = (await auditEntries()).find((entry) => entry['action'] === 'user.created' && entry['target'] === `user:${graceId}`);
    expect(created).toMatchObject({ actorKind: 'USER', actorId: graceId, details: { email: 'grace@example.com', role: 'VIEWER', method: 'oidc' } });

    // Known by subject from now on, so replica A (no newcomers) lets her in too.
    expect(locationOf((await signIn('grace')).response, replicaA.httpUrl).pathname).toBe('/');
  });

  it('never links or creates by an email the provider did not verify', async () => {
    await addPerson('bob@example.com');
    expect(loginErrorOf((await signIn('bob-unverified', { complete: replicaB })).response)).toBe('OIDC_NO_VERIFIED_EMAIL');
    expect((await auditEntries()).filter((entry) => entry['action'] === 'user.oidc-linked')).toHaveLength(1);
  });

  it('refuses a disabled person, linked or not', async () => {
    const doraId = await addPerson('dora@example.com');
    expect((await api(replicaA, asAdmin(), 'PATCH', `/users/${doraId}`, { disabled: true })).status).toBe(200);
    const { response } = await signIn('dora');
    expect(loginErrorOf(response)).toBe('ACCOUNT_DISABLED');
    expect(setCookies(response).has('airlock_session')).toBe(false);
    expect((await auditEntries()).some((entry) => entry['action'] === 'user.oidc-linked' && entry['target'] === `user:${doraId}`)).toBe(false);
  });
});

describe('single sign-on: answers that do not hold', () => {
  it('refuses a callback whose state was changed, without an attempt cookie, or with a forged one', async () => {
    const { authorizationUrl, attemptCookie } = await beginSignIn(replicaA);
    const callbackUrl = await signInAtIdentityProvider(authorizationUrl.href, 'ada');
    const tampered = new URL(callbackUrl);
    tampered.searchParams.set('state', `${callbackUrl.searchParams.get('state') ?? ''}x`);
    expect(loginErrorOf(await returnFromProvider(replicaA, tampered, attemptCookie))).toBe('OIDC_STATE_MISMATCH');
    expect(loginErrorOf(await returnFromProvider(replicaA, callbackUrl, undefined))).toBe('OIDC_STATE_MISMATCH');
    const [name, value = ''] = attemptCookie.split('=');
    const flipped = `${value.slice(0, 20)}${value[20] === 'A' ? 'B' : 'A'}${value.slice(21)}`;
    expect(loginErrorOf(await returnFromProvider(replicaA, callbackUrl, `${name}=${flipped}`))).toBe('OIDC_STATE_MISMATCH');
    // The untouched answer still works: none of the above reached the provider.
    expect(locationOf(await returnFromProvider(replicaA, callbackUrl, attemptCookie), replicaA.httpUrl).pathname).toBe('/');
  });

  it('refuses an attempt older than 10 minutes', async () => {
    const { authorizationUrl, attemptCookie } = await beginSignIn(replicaA);
    const callbackUrl = await signInAtIdentityProvider(authorizationUrl.href, 'ada');
    clock.advance(OIDC_ATTEMPT_LIFETIME_MS);
    expect(loginErrorOf(await returnFromProvider(replicaA, callbackUrl, attemptCookie))).toBe('OIDC_STATE_MISMATCH');
  });

  it('refuses a replayed callback: the provider redeems a code once', async () => {
    await addPerson('replay@example.com');
    const { response, callbackUrl, attemptCookie } = await signIn('replay');
    sessionCookieOf(response);
    const replayed = await returnFromProvider(replicaA, callbackUrl, attemptCookie);
    expect(loginErrorOf(replayed)).toBe('OIDC_FAILED');
    expect(setCookies(replayed).has('airlock_session')).toBe(false);
  });

  it('refuses an error the provider sent back (the person denied consent)', async () => {
    const { authorizationUrl, attemptCookie } = await beginSignIn(replicaA);
    const denied = new URL(`${publicUrl}${CALLBACK_PATH}`);
    denied.searchParams.set('error', 'access_denied');
    denied.searchParams.set('state', authorizationUrl.searchParams.get('state') ?? '');
    expect(loginErrorOf(await returnFromProvider(replicaA, denied, attemptCookie))).toBe('OIDC_FAILED');
  });
});

describe('single sign-on: an identity provider that is down at start', () => {
  let latePort: number;

  beforeAll(async () => {
    latePort = await findFreePort();
    replicaC = await startReplica({ AIRLOCK_OIDC_ISSUER: `http://127.0.0.1:${latePort}` });
  });

  it('does not stop the control plane, stays listed, and sends the login back to the login page', async () => {
    expect((await api(replicaC, null, 'GET', '/auth/providers')).body['oidc']).toEqual({ displayName: 'Test IdP', loginUrl: '/api/v1/auth/oidc/login' });
    const refused = await navigate(`${replicaC.httpUrl}/api/v1/auth/oidc/login`);
    expect(loginErrorOf(refused)).toBe('OIDC_UNAVAILABLE');
    // Asked again only after a pause: a click meanwhile answers at once.
    expect(loginErrorOf(await navigate(`${replicaC.httpUrl}/api/v1/auth/oidc/login`))).toBe('OIDC_UNAVAILABLE');
    expect(logOutput).toContain('"event":"oidc_discovery_failed"');
  });

  it('works once the provider is up', async () => {
    lateIdentityProvider = await startTestIdentityProvider({ clients: [oidcClient], accounts: ACCOUNTS, port: latePort });
    clock.advance(DISCOVERY_RETRY_DELAY_MS);
    const carolId = await addPerson('carol@example.com');
    const { response } = await signIn('carol', { begin: replicaC });
    const session = await api(replicaC, { cookie: sessionCookieOf(response) }, 'GET', '/auth/session');
    expect(session.body).toMatchObject({ user: { id: carolId, email: 'carol@example.com' } });
  });
});

describe('single sign-on: logs', () => {
  it('never hold the client secret, a code, a state, a nonce, a cookie or a token', () => {
    expect(logOutput).toContain('"event":"login_succeeded"');
    expect(logOutput).toContain('"event":"oidc_login_failed"');
    // Each refusal is logged with its code.
    for (const code of ['OIDC_STATE_MISMATCH', 'OIDC_FAILED', 'OIDC_NO_VERIFIED_EMAIL', 'OIDC_UNKNOWN_USER', 'OIDC_ACCOUNT_LINKED_ELSEWHERE', 'ACCOUNT_DISABLED', 'OIDC_UNAVAILABLE']) {
      expect(logOutput).toContain(`"code":"${code}"`);
    }
    expect(secrets.size).toBeGreaterThan(40);
    const leaked = [...secrets].filter((secret) => secret.length >= 16 && logOutput.includes(secret));
    expect(leaked).toEqual([]);
    // ID tokens and any other JWT the provider issued.
    expect(logOutput).not.toMatch(/eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\./);
    expect(logOutput).not.toMatch(/"(access_token|id_token|refresh_token|code_verifier)"/);
  });
});
