import type { INestApplication } from '@nestjs/common';
import type { WorkerGatewayClient } from '@airlock/protocol';
import { createDatabase, startPostgresCluster, type PostgresCluster } from '@airlock/testing';
import { callApi, logIn, ShiftedClock, type BrowserSession, type CookieCredentials, type Credentials } from '../test-support/auth-client';
import { ROUTE_SAMPLES, type RouteSample, type SampleIds } from '../test-support/route-samples';
import { createApiToken, createTenantWithAdminToken } from '../test-support/tenant.fixture';
import { testAppConfig } from '../test-support/test-app-config';
import { gatewayClient, TestWorker } from '../test-support/test-worker';
import { ROLE_SCOPES, ROLES, SCOPES, type Scope } from './auth/access';
import { startControlPlane, type RunningControlPlane } from './control-plane';

jest.setTimeout(180_000);

const AUTHENTICATION_CODES: ReadonlySet<string> = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'CSRF_REJECTED']);
/** Answers that mean the sample did not reach the route's own logic: the sample is wrong. */
const SAMPLE_PROBLEM_CODES: ReadonlySet<string> = new Set(['INVALID_REQUEST', 'ROUTE_NOT_FOUND', 'MALFORMED_JSON', 'UNSUPPORTED_MEDIA_TYPE']);
const UNSAFE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const PASSWORD = 'the matrix password';

let cluster: PostgresCluster;
let controlPlane: RunningControlPlane;
let grpc: WorkerGatewayClient;
const clock = new ShiftedClock();

type Role = (typeof ROLES)[number];

/** Tenant A: every role logged in, a token per scope and one per scope it lacks, and resources for the samples. */
interface TenantA {
  readonly ids: SampleIds;
  readonly adminToken: string;
  readonly sessions: Record<Role, BrowserSession>;
  readonly emails: Record<Role, string>;
  readonly holdingOnly: Record<Scope, string>;
  readonly holdingAllBut: Record<Scope, string>;
  /** Strings only tenant A's data holds: ids, emails, names. */
  readonly canaries: readonly string[];
}

let a: TenantA;
let bAdmin: BrowserSession;

interface Answer {
  readonly status: number;
  readonly code: string | null;
  readonly text: string;
}

/** Calls a route as the credentials say. An event stream is not read (it never ends): its status says enough. */
async function send(credentials: Credentials, method: string, path: string, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (credentials && 'bearer' in credentials) headers['authorization'] = `Bearer ${credentials.bearer}`;
  if (credentials && 'cookie' in credentials) {
    headers['cookie'] = credentials.cookie;
    if (credentials.csrfToken) headers['x-csrf-token'] = credentials.csrfToken;
    if (credentials.origin) headers['origin'] = credentials.origin;
  }
  const response = await fetch(`${controlPlane.httpUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  if ((response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    await response.body?.cancel();
    return { status: response.status, code: null, text: '' };
  }
  const text = await response.text();
  let code: string | null = null;
  if (response.status >= 400) {
    try {
      const parsed = JSON.parse(text) as { code?: unknown };
      code = typeof parsed.code === 'string' ? parsed.code : null;
    } catch {
      code = null;
    }
  }
  return { status: response.status, code, text };
}

/** A login counts against the per-address budget; spacing them keeps the matrix under it. */
async function spacedLogIn(email: string, password: string): Promise<BrowserSession> {
  clock.advance(6_100);
  return logIn(controlPlane.httpUrl, email, password);
}

const asBrowser = (session: BrowserSession): CookieCredentials => ({ cookie: session.cookie, csrfToken: session.csrfToken, origin: controlPlane.httpUrl });

/** The routes the running app serves, as `METHOD /path`, read from Express's router (not from a list). */
function servedRoutes(app: INestApplication): string[] {
  interface RouterLayer {
    readonly route?: { readonly path: string | string[]; readonly methods: Record<string, boolean> };
  }
  const express = app.getHttpAdapter().getInstance() as { router: { stack: RouterLayer[] } };
  const routes = new Set<string>();
  for (const layer of express.router.stack) {
    if (!layer.route) continue;
    const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
    for (const method of Object.keys(layer.route.methods)) {
      for (const path of paths) routes.add(`${method === '_all' ? 'ALL' : method.toUpperCase()} ${path}`);
    }
  }
  return [...routes].sort();
}

async function expectCreated(answer: { status: number; body: Record<string, unknown> }, what: string): Promise<Record<string, unknown>> {
  if (answer.status !== 201 && answer.status !== 200) throw new Error(`${what}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

async function enrolledWorker(adminToken: string): Promise<string> {
  const enrollment = await expectCreated(await callApi(controlPlane.httpUrl, { bearer: adminToken }, 'POST', '/enrollment-tokens', {}), 'enrollment token');
  const worker = new TestWorker(grpc);
  await worker.enroll(String(enrollment['token']));
  return worker.workerId;
}

async function setUpTenantA(): Promise<TenantA> {
  const { tenantId, token } = await createTenantWithAdminToken(controlPlane.dataAccess, 'matrix-a');
  const asToken: Credentials = { bearer: token };
  const call = (method: string, path: string, body?: unknown) => callApi(controlPlane.httpUrl, asToken, method, path, body);
  const emails: Record<Role, string> = { ADMIN: 'admin@matrix-a.example', MANAGER: 'manager@matrix-a.example', VIEWER: 'viewer@matrix-a.example' };
  clock.advance(6_100);
  const bootstrapped = await callApi(controlPlane.httpUrl, null, 'POST', '/auth/bootstrap', { bootstrapToken: token, email: emails.ADMIN, displayName: 'Matrix A admin', password: PASSWORD });
  const admin = await expectCreated(bootstrapped, 'bootstrap of tenant A');
  const people: string[] = [(admin['user'] as { id: string }).id];
  for (const role of ['MANAGER', 'VIEWER'] as const) {
    people.push(String((await expectCreated(await call('POST', '/users', { email: emails[role], displayName: `Matrix A ${role}`, role, password: PASSWORD }), role))['id']));
  }
  const subject = await expectCreated(await call('POST', '/users', { email: 'subject@matrix-a.example', displayName: 'Matrix A subject', role: 'VIEWER', password: PASSWORD }), 'subject');
  await expectCreated(await call('POST', '/users', { email: 'login@matrix-a.example', displayName: 'Matrix A login', role: 'VIEWER', password: PASSWORD }), 'login account');
  const sessions = {} as Record<Role, BrowserSession>;
  for (const role of ROLES) sessions[role] = await spacedLogIn(emails[role], PASSWORD);

  const revocable = await expectCreated(await call('POST', '/api-tokens', { name: 'Matrix A token to revoke', scopes: ['jobs:read'], expiresInDays: 1 }), 'API token');
  const job = await expectCreated(await call('POST', '/jobs', { kind: 'noop' }), 'job');
  const finished = await expectCreated(await call('POST', '/jobs', { kind: 'noop' }), 'job to retry');
  await expectCreated(await call('POST', `/jobs/${String(finished['id'])}/cancel`), 'cancel');
  const policy = await expectCreated(await call('POST', '/policies', { name: 'matrix-a-policy', document: { schemaVersion: 1, rules: { 'max-files-changed': { max: 9 } } } }), 'policy');
  await expectCreated(await call('POST', `/policies/${String(policy['id'])}/versions/1/publish`, { scope: 'tenant', mode: 'enforce' }), 'publish');
  const revokedWorkerId = await enrolledWorker(token);
  const drainedWorkerId = await enrolledWorker(token);
  const enrollmentToken = await expectCreated(await call('POST', '/enrollment-tokens', {}), 'enrollment token to revoke');

  const holdingOnly = {} as Record<Scope, string>;
  const holdingAllBut = {} as Record<Scope, string>;
  for (const scope of SCOPES) {
    holdingOnly[scope] = await createApiToken(controlPlane.dataAccess, tenantId, [scope], `only ${scope}`);
    holdingAllBut[scope] = await createApiToken(controlPlane.dataAccess, tenantId, SCOPES.filter((other) => other !== scope), `all but ${scope}`);
  }
  const ids: SampleIds = {
    jobId: String(job['id']),
    finishedJobId: String(finished['id']),
    policyId: String(policy['id']),
    revokedWorkerId,
    drainedWorkerId,
    enrollmentTokenId: String(enrollmentToken['id']),
    userId: String(subject['id']),
    apiTokenId: String(revocable['id']),
    loginEmail: 'login@matrix-a.example',
    loginPassword: PASSWORD,
  };
  const canaries = [
    tenantId,
    ...people,
    ...Object.values(ids).filter((value) => value !== PASSWORD),
    ...Object.values(emails),
    'matrix-a',
    'Matrix A',
  ];
  return { ids, adminToken: token, sessions, emails, holdingOnly, holdingAllBut, canaries };
}

beforeAll(async () => {
  cluster = await startPostgresCluster();
  // Tenant A operates the control plane: the platform-only routes are its.
  controlPlane = await startControlPlane(testAppConfig(await createDatabase(cluster.url, 'access_matrix_it'), { AIRLOCK_PLATFORM_TENANT: 'matrix-a' }), { clock });
  grpc = gatewayClient(controlPlane.grpcAddress);
  a = await setUpTenantA();
  const b = await createTenantWithAdminToken(controlPlane.dataAccess, 'tenant-b');
  clock.advance(6_100);
  await expectCreated(
    await callApi(controlPlane.httpUrl, null, 'POST', '/auth/bootstrap', { bootstrapToken: b.token, email: 'admin@tenant-b.example', displayName: 'Tenant B admin', password: PASSWORD }),
    'bootstrap of tenant B',
  );
  bAdmin = await spacedLogIn('admin@tenant-b.example', PASSWORD);
  // Tenant B has data of its own, so that its lists are not empty by accident.
  await expectCreated(await callApi(controlPlane.httpUrl, { bearer: b.token }, 'POST', '/jobs', { kind: 'noop' }), 'tenant B job');
});

afterAll(async () => {
  grpc?.close();
  await controlPlane?.stop();
  await cluster?.stop();
});

function describeAnswer(answer: Answer): string {
  return `${answer.status}${answer.code ? ` ${answer.code}` : ''}`;
}

/** Checks one route; returns what does not hold, one line each. */
async function checkRoute(route: string, sample: RouteSample): Promise<string[]> {
  const problems: string[] = [];
  const [httpMethod = 'GET'] = route.split(' ');
  const path = sample.path(a.ids);
  const body = sample.body?.(a.ids);
  const call = (credentials: Credentials) => send(credentials, httpMethod, path, body);
  const reached = (who: string, answer: Answer, mustSucceed: boolean) => {
    if (answer.status >= 500) problems.push(`${who}: ${describeAnswer(answer)} (server error)`);
    else if (answer.code && AUTHENTICATION_CODES.has(answer.code)) problems.push(`${who}: ${describeAnswer(answer)}, expected to be let through`);
    else if (answer.code && SAMPLE_PROBLEM_CODES.has(answer.code) && sample.cannotSucceed === undefined) problems.push(`${who}: ${describeAnswer(answer)}: the sample does not fit the route: ${answer.text}`);
    else if (mustSucceed && (answer.status < 200 || answer.status > 299)) problems.push(`${who}: ${describeAnswer(answer)}, expected a 2xx (the first holder): ${answer.text}`);
  };
  const refused = (who: string, answer: Answer, status: number, code: string) => {
    if (answer.status !== status || answer.code !== code) problems.push(`${who}: ${describeAnswer(answer)}, expected ${status} ${code}`);
  };

  if (sample.access === 'public') {
    // Login and bootstrap count against the per-address budget.
    clock.advance(6_100);
    reached('no credentials', await call(null), sample.cannotSucceed === undefined);
    return problems;
  }

  refused('no credentials', await call(null), 401, 'UNAUTHENTICATED');
  if (UNSAFE_METHODS.has(httpMethod)) {
    const admin = asBrowser(a.sessions.ADMIN);
    refused('ADMIN cookie without X-CSRF-Token', await call({ cookie: admin.cookie, origin: admin.origin ?? '' }), 403, 'CSRF_REJECTED');
    refused('ADMIN cookie with a wrong X-CSRF-Token', await call({ ...admin, csrfToken: 'W'.repeat(43) }), 403, 'CSRF_REJECTED');
    refused('ADMIN cookie from another Origin', await call({ ...admin, origin: 'https://attacker.example' }), 403, 'CSRF_REJECTED');
  }

  if (sample.access === 'session') {
    for (const role of ROLES) {
      const session = sample.endsSession ? await spacedLogIn(a.emails[role], PASSWORD) : a.sessions[role];
      reached(`${role} session`, await call(asBrowser(session)), sample.cannotSucceed === undefined);
    }
    refused('API token holding every scope', await call({ bearer: a.adminToken }), 401, 'UNAUTHENTICATED');
    return problems;
  }

  const scope = sample.access;
  let firstHolder = true;
  for (const role of ROLES) {
    const answer = await call(asBrowser(a.sessions[role]));
    if (ROLE_SCOPES[role].includes(scope)) {
      reached(`${role} session`, answer, firstHolder && sample.cannotSucceed === undefined);
      firstHolder = false;
    } else {
      refused(`${role} session (lacks ${scope})`, answer, 403, 'FORBIDDEN');
    }
  }
  reached(`API token holding only ${scope}`, await call({ bearer: a.holdingOnly[scope] }), false);
  refused(`API token holding every scope but ${scope}`, await call({ bearer: a.holdingAllBut[scope] }), 403, 'FORBIDDEN');

  const other = await call(asBrowser(bAdmin));
  if (sample.otherTenant === 'not-found' && other.status !== 404) problems.push(`tenant B ADMIN: ${describeAnswer(other)}, expected 404 for tenant A's resource`);
  if (sample.otherTenant === 'own-data') reached('tenant B ADMIN', other, false);
  if (sample.otherTenant === 'platform-only') refused('tenant B ADMIN (not the platform tenant)', other, 403, 'PLATFORM_TENANT_ONLY');
  // An id the request itself names may come back ("no user <id>"): that tells tenant B nothing.
  const sent = `${path} ${JSON.stringify(body ?? null)}`;
  const leaked = a.canaries.filter((canary) => other.text.includes(canary) && !sent.includes(canary));
  if (leaked.length > 0) problems.push(`tenant B ADMIN saw tenant A's data: ${leaked.join(', ')}`);
  return problems;
}

describe('the route × role × tenant access matrix', () => {
  it('has a sample for every route the control plane serves, and for none it does not', () => {
    const served = servedRoutes(controlPlane.app);
    expect(served.length).toBeGreaterThan(30);
    expect(served.filter((route) => !(route in ROUTE_SAMPLES))).toEqual([]);
    expect(Object.keys(ROUTE_SAMPLES).filter((route) => !served.includes(route))).toEqual([]);
  });

  it.each(Object.entries(ROUTE_SAMPLES))('%s: each caller gets exactly what its access allows', async (route, sample) => {
    expect(await checkRoute(route, sample)).toEqual([]);
  });
});
