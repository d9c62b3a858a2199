import { request as httpRequest } from 'node:http';
import { createDatabase, startPostgresCluster, type PostgresCluster } from '@airlock/testing';
import { createTenantWithAdminToken } from '../test-support/tenant.fixture';
import { eventually } from '../test-support/test-worker';
import { MAX_REQUEST_BODY_BYTES } from './common/json-body.reader';
import { startControlPlane, type RunningControlPlane } from './control-plane';
import { testAppConfig } from '../test-support/test-app-config';

jest.setTimeout(60_000);

let cluster: PostgresCluster;
let databaseUrl: string;
let controlPlane: RunningControlPlane;
let token: string;

beforeAll(async () => {
  cluster = await startPostgresCluster();
  databaseUrl = await createDatabase(cluster.url, 'rest_bad_input_it');
  controlPlane = await startControlPlane(testAppConfig(databaseUrl));
  ({ token } = await createTenantWithAdminToken(controlPlane.dataAccess, 'bad-input'));
});

afterAll(async () => {
  await controlPlane?.stop();
  await cluster?.stop();
});

interface ErrorBody {
  readonly statusCode: number;
  readonly code: string;
  readonly message: string;
}

/** One request: `json` is serialised and sent as application/json; `raw` goes as is with `contentType`. */
interface RequestSpec {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly json?: unknown;
  readonly raw?: string | Buffer;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

async function send<T = ErrorBody>(spec: RequestSpec): Promise<{ status: number; headers: Headers; body: T }> {
  const body = spec.json !== undefined ? JSON.stringify(spec.json) : spec.raw;
  const contentType = spec.contentType ?? (spec.json !== undefined ? 'application/json' : undefined);
  const response = await fetch(`${controlPlane.httpUrl}/api/v1${spec.path}`, {
    method: spec.method,
    headers: { authorization: `Bearer ${token}`, ...(contentType ? { 'content-type': contentType } : {}), ...spec.headers },
    ...(body !== undefined ? { body } : {}),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as T };
}

const fixJob = { kind: 'fix', repoAlias: 'demo-repo', baseRef: 'main', ticket: { title: 'Fix the off-by-one', description: 'pagination skips the last item' } };
const fixWith = (fields: Record<string, unknown>) => ({ ...fixJob, ...fields });
const ticketWith = (fields: Record<string, unknown>) => fixWith({ ticket: { ...fixJob.ticket, ...fields } });
const postJob = (json: unknown): RequestSpec => ({ method: 'POST', path: '/jobs', json });
const postJobRaw = (raw: string | Buffer, contentType = 'application/json'): RequestSpec => ({ method: 'POST', path: '/jobs', raw, contentType });
const postToken = (json: unknown): RequestSpec => ({ method: 'POST', path: '/enrollment-tokens', json });
const listJobs = (query: string): RequestSpec => ({ method: 'GET', path: `/jobs?${query}` });
const nested = (levels: number) => `{"kind":"noop","x":${'['.repeat(levels)}${']'.repeat(levels)}}`;
const nestedObjects = (levels: number) => `{"kind":"noop","x":${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}}`;
const unknownJobId = '3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f';

/** A bad request, the status it must get, and the field its message must name (`<field>: …`). */
type BadInput = readonly [name: string, request: RequestSpec, status: number, field: string];

const BAD_INPUTS: readonly BadInput[] = [
  // The shapes of the outside report.
  ['ticket as an array of tickets', postJob(fixWith({ ticket: [{ title: 'x' }] })), 400, 'ticket'],
  ['NUL in the title', postJob(ticketWith({ title: 'a\u0000b' })), 400, 'ticket.title'],
  ['NUL in the description', postJob(ticketWith({ description: 'a\u0000b' })), 400, 'ticket.description'],
  ['lone high surrogate in the title', postJob(ticketWith({ title: 'a\ud800b' })), 400, 'ticket.title'],
  ['lone low surrogate in the title', postJob(ticketWith({ title: '\udc00' })), 400, 'ticket.title'],
  ['lone surrogate in the description', postJob(ticketWith({ description: 'x\ud800' })), 400, 'ticket.description'],
  ['arrays nested 5,000 deep', postJobRaw(nested(5_000)), 400, 'body'],
  ['objects nested 5,000 deep', postJobRaw(nestedObjects(5_000)), 400, 'body'],
  ['arrays nested one level too deep', postJobRaw(nested(8)), 400, 'body'],
  // POST /jobs: every field with a wrong type.
  ['kind: unknown', postJob(fixWith({ kind: 'deploy' })), 400, 'kind'],
  ['kind: upper case', postJob({ kind: 'NOOP' }), 400, 'kind'],
  ['kind: number', postJob({ kind: 1 }), 400, 'kind'],
  ['kind: null', postJob(fixWith({ kind: null })), 400, 'kind'],
  ['kind: array', postJob({ kind: ['noop'] }), 400, 'kind'],
  ['kind: object', postJob({ kind: { name: 'noop' } }), 400, 'kind'],
  ['repoAlias: number', postJob(fixWith({ repoAlias: 42 })), 400, 'repoAlias'],
  ['repoAlias: null', postJob(fixWith({ repoAlias: null })), 400, 'repoAlias'],
  ['repoAlias: array', postJob(fixWith({ repoAlias: ['demo'] })), 400, 'repoAlias'],
  ['repoAlias: object', postJob(fixWith({ repoAlias: { name: 'demo' } })), 400, 'repoAlias'],
  ['repoAlias: boolean', postJob(fixWith({ repoAlias: true })), 400, 'repoAlias'],
  ['repoAlias: empty', postJob(fixWith({ repoAlias: '' })), 400, 'repoAlias'],
  ['repoAlias: missing', postJob({ kind: 'fix', baseRef: 'main', ticket: fixJob.ticket }), 400, 'repoAlias'],
  ['repoAlias: upper case and spaces', postJob(fixWith({ repoAlias: 'Not An Alias' })), 400, 'repoAlias'],
  ['repoAlias: 64 characters', postJob(fixWith({ repoAlias: 'a'.repeat(64) })), 400, 'repoAlias'],
  ['repoAlias: NUL', postJob(fixWith({ repoAlias: 'demo\u0000' })), 400, 'repoAlias'],
  ['baseRef: number', postJob(fixWith({ baseRef: 7 })), 400, 'baseRef'],
  ['baseRef: null', postJob(fixWith({ baseRef: null })), 400, 'baseRef'],
  ['baseRef: array', postJob(fixWith({ baseRef: ['main'] })), 400, 'baseRef'],
  ['baseRef: missing', postJob({ kind: 'fix', repoAlias: 'demo', ticket: fixJob.ticket }), 400, 'baseRef'],
  ['baseRef: "a..b"', postJob(fixWith({ baseRef: 'a..b' })), 400, 'baseRef'],
  ['baseRef: leading dash', postJob(fixWith({ baseRef: '-main' })), 400, 'baseRef'],
  ['baseRef: space', postJob(fixWith({ baseRef: 'my branch' })), 400, 'baseRef'],
  ['baseRef: 201 characters', postJob(fixWith({ baseRef: 'b'.repeat(201) })), 400, 'baseRef'],
  ['ticket: string', postJob(fixWith({ ticket: 'Fix the off-by-one' })), 400, 'ticket'],
  ['ticket: number', postJob(fixWith({ ticket: 3 })), 400, 'ticket'],
  ['ticket: null', postJob(fixWith({ ticket: null })), 400, 'ticket'],
  ['ticket: empty array', postJob(fixWith({ ticket: [] })), 400, 'ticket'],
  ['ticket: missing', postJob({ kind: 'fix', repoAlias: 'demo', baseRef: 'main' }), 400, 'ticket'],
  ['title: missing', postJob(fixWith({ ticket: { description: 'd' } })), 400, 'ticket.title'],
  ['title: number', postJob(ticketWith({ title: 12 })), 400, 'ticket.title'],
  ['title: null', postJob(ticketWith({ title: null })), 400, 'ticket.title'],
  ['title: array', postJob(ticketWith({ title: ['x'] })), 400, 'ticket.title'],
  ['title: object', postJob(ticketWith({ title: { text: 'x' } })), 400, 'ticket.title'],
  ['title: empty', postJob(ticketWith({ title: '' })), 400, 'ticket.title'],
  ['title: blank', postJob(ticketWith({ title: '   ' })), 400, 'ticket.title'],
  ['title: two lines', postJob(ticketWith({ title: 'a\nb' })), 400, 'ticket.title'],
  ['title: 201 characters', postJob(ticketWith({ title: 't'.repeat(201) })), 400, 'ticket.title'],
  ['description: number', postJob(ticketWith({ description: 5 })), 400, 'ticket.description'],
  ['description: null', postJob(ticketWith({ description: null })), 400, 'ticket.description'],
  ['description: array', postJob(ticketWith({ description: ['d'] })), 400, 'ticket.description'],
  ['description: over 16 KiB of UTF-8', postJob(ticketWith({ description: 'é'.repeat(8_193) })), 400, 'ticket.description'],
  ['unknown property', postJob(fixWith({ command: 'rm -rf /' })), 400, 'command'],
  ['unknown property in the ticket', postJob(ticketWith({ command: 'rm -rf /' })), 400, 'ticket.command'],
  ['__proto__ property', postJobRaw('{"kind":"noop","__proto__":{"isAdmin":true}}'), 400, '__proto__'],
  ['constructor property', postJobRaw('{"kind":"noop","constructor":{"name":"x"}}'), 400, 'constructor'],
  ['prototype property', postJobRaw('{"kind":"noop","prototype":1}'), 400, 'prototype'],
  ['toString property in the ticket', postJob(ticketWith({ toString: 'x' })), 400, 'ticket.toString'],
  ['noop with a repoAlias', postJob({ kind: 'noop', repoAlias: 'demo' }), 400, 'repoAlias'],
  ['noop with a baseRef', postJob({ kind: 'noop', baseRef: 'main' }), 400, 'baseRef'],
  ['noop with a ticket', postJob({ kind: 'noop', ticket: fixJob.ticket }), 400, 'ticket'],
  ['review: no target', postJob({ kind: 'review', repoAlias: 'demo' }), 400, 'mergeRequest'],
  ['review: both targets', postJob({ kind: 'review', repoAlias: 'demo', mergeRequest: 1, branch: 'main' }), 400, 'branch'],
  ['review: mergeRequest 0', postJob({ kind: 'review', repoAlias: 'demo', mergeRequest: 0 }), 400, 'mergeRequest'],
  ['review: mergeRequest past 2^31-1', postJob({ kind: 'review', repoAlias: 'demo', mergeRequest: 2 ** 31 }), 400, 'mergeRequest'],
  ['review: mergeRequest a string', postJob({ kind: 'review', repoAlias: 'demo', mergeRequest: '12' }), 400, 'mergeRequest'],
  ['review: mergeRequest a fraction', postJob({ kind: 'review', repoAlias: 'demo', mergeRequest: 1.5 }), 400, 'mergeRequest'],
  ['review: branch "a..b"', postJob({ kind: 'review', repoAlias: 'demo', branch: 'a..b' }), 400, 'branch'],
  ['review: no repoAlias', postJob({ kind: 'review', branch: 'main' }), 400, 'repoAlias'],
  ['review with a ticket', postJob({ kind: 'review', repoAlias: 'demo', mergeRequest: 1, ticket: fixJob.ticket }), 400, 'ticket'],
  ['index: no ref', postJob({ kind: 'index', repoAlias: 'demo' }), 400, 'ref'],
  ['index: ref an array', postJob({ kind: 'index', repoAlias: 'demo', ref: ['main'] }), 400, 'ref'],
  ['index: ref with a space', postJob({ kind: 'index', repoAlias: 'demo', ref: 'my branch' }), 400, 'ref'],
  ['index with a baseRef', postJob({ kind: 'index', repoAlias: 'demo', ref: 'main', baseRef: 'main' }), 400, 'baseRef'],
  ['fix with a branch', postJob(fixWith({ branch: 'main' })), 400, 'branch'],
  // The body as a whole.
  ['body: array', postJob([{ kind: 'noop' }]), 400, 'body'],
  ['body: string', postJob('noop'), 400, 'body'],
  ['body: number', postJob(1), 400, 'body'],
  ['body: null', postJobRaw('null'), 400, 'body'],
  ['body: true', postJobRaw('true'), 400, 'body'],
  ['invalid JSON: unquoted key', postJobRaw("{kind:'noop'}"), 400, 'body'],
  ['invalid JSON: cut off', postJobRaw('{"kind":'), 400, 'body'],
  ['invalid JSON: trailing comma', postJobRaw('{"kind":"noop",}'), 400, 'body'],
  ['invalid JSON: raw NUL byte in a string', postJobRaw('{"kind":"no\u0000op"}'), 400, 'body'],
  ['invalid UTF-8', postJobRaw(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])), 400, 'body'],
  ['a surrogate encoded as UTF-8 bytes (CESU-8)', postJobRaw(Buffer.concat([Buffer.from('{"kind":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')])), 400, 'body'],
  ['content type: text/plain', postJobRaw('{"kind":"noop"}', 'text/plain'), 415, 'content-type'],
  ['content type: form', postJobRaw('kind=noop', 'application/x-www-form-urlencoded'), 415, 'content-type'],
  ['content type: JSON in latin1', postJobRaw('{"kind":"noop"}', 'application/json; charset=latin1'), 415, 'content-type'],
  ['content type: missing', { method: 'POST', path: '/jobs', raw: Buffer.from('{"kind":"noop"}') }, 415, 'content-type'],
  ['content encoding: gzip', { ...postJobRaw('{"kind":"noop"}'), headers: { 'content-encoding': 'gzip' } }, 415, 'content-encoding'],
  ['body over the size bound', postJob(ticketWith({ description: 'd'.repeat(MAX_REQUEST_BODY_BYTES) })), 413, 'body'],
  // POST /enrollment-tokens.
  ['ttlSeconds: string', postToken({ ttlSeconds: '600' }), 400, 'ttlSeconds'],
  ['ttlSeconds: fraction', postToken({ ttlSeconds: 600.5 }), 400, 'ttlSeconds'],
  ['ttlSeconds: below 60', postToken({ ttlSeconds: 59 }), 400, 'ttlSeconds'],
  ['ttlSeconds: above a day', postToken({ ttlSeconds: 86_401 }), 400, 'ttlSeconds'],
  ['ttlSeconds: negative', postToken({ ttlSeconds: -1 }), 400, 'ttlSeconds'],
  ['ttlSeconds: huge', postToken({ ttlSeconds: 1e300 }), 400, 'ttlSeconds'],
  ['ttlSeconds: null', postToken({ ttlSeconds: null }), 400, 'ttlSeconds'],
  ['ttlSeconds: boolean', postToken({ ttlSeconds: true }), 400, 'ttlSeconds'],
  ['ttlSeconds: array', postToken({ ttlSeconds: [600] }), 400, 'ttlSeconds'],
  ['ttlSeconds: object', postToken({ ttlSeconds: { seconds: 600 } }), 400, 'ttlSeconds'],
  ['enrollment token: unknown property', postToken({ name: 'worker-1' }), 400, 'name'],
  ['enrollment token: body array', postToken([]), 400, 'body'],
  ['enrollment token: text/plain', { method: 'POST', path: '/enrollment-tokens', raw: '{}', contentType: 'text/plain' }, 415, 'content-type'],
  // GET /jobs query parameters.
  ['limit: not a number', listJobs('limit=abc'), 400, 'limit'],
  ['limit: zero', listJobs('limit=0'), 400, 'limit'],
  ['limit: negative', listJobs('limit=-1'), 400, 'limit'],
  ['limit: fraction', listJobs('limit=1.5'), 400, 'limit'],
  ['limit: above 200', listJobs('limit=201'), 400, 'limit'],
  ['limit: empty', listJobs('limit='), 400, 'limit'],
  ['limit: given twice', listJobs('limit=1&limit=2'), 400, 'limit'],
  ['status: unknown', listJobs('status=DONE'), 400, 'status'],
  ['status: lower case', listJobs('status=queued'), 400, 'status'],
  ['status: given twice', listJobs('status=QUEUED&status=FAILED'), 400, 'status'],
  ['query: unknown parameter', listJobs('owner=me'), 400, 'owner'],
  ['query: __proto__', listJobs('__proto__=1'), 400, '__proto__'],
  // Paths.
  ['job id: not a UUID', { method: 'GET', path: '/jobs/not-a-uuid' }, 400, 'id'],
  ['job id: a number', { method: 'GET', path: '/jobs/42' }, 400, 'id'],
  ['job id: bad percent-encoding', { method: 'GET', path: '/jobs/%ZZ' }, 400, 'path'],
  ['cancel: job id not a UUID', { method: 'POST', path: '/jobs/not-a-uuid/cancel' }, 400, 'id'],
];

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('REST bad input', () => {
  it.each(BAD_INPUTS)('%s', async (_name, request, status, field) => {
    const response = await send(request);
    expect(response.status).toBe(status);
    expect(response.body).toEqual({ statusCode: status, code: expect.any(String), message: expect.stringMatching(new RegExp(`(^|; )${escapeRegExp(field)}: `)) });
  });

  it('stored nothing for any of them', async () => {
    expect((await send<unknown[]>({ method: 'GET', path: '/jobs' })).body).toEqual([]);
  });

  it('answers the unknown with 404 and a stable code', async () => {
    expect(await send({ method: 'GET', path: `/jobs/${unknownJobId}` })).toMatchObject({ status: 404, body: { statusCode: 404, code: 'JOB_NOT_FOUND' } });
    expect(await send({ method: 'POST', path: `/jobs/${unknownJobId}/cancel` })).toMatchObject({ status: 404, body: { code: 'JOB_NOT_FOUND' } });
    expect(await send({ method: 'GET', path: '/no-such-route' })).toMatchObject({ status: 404, body: { code: 'ROUTE_NOT_FOUND' } });
  });

  it('refuses an oversized body sent in chunks, without a length to check up front', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${controlPlane.httpUrl}/api/v1/jobs`);
      const request = httpRequest(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      request.on('error', reject);
      const chunk = Buffer.alloc(16 * 1024, 0x20); // JSON whitespace
      for (let sent = 0; sent <= MAX_REQUEST_BODY_BYTES; sent += chunk.length) request.write(chunk);
      request.end('{"kind":"noop"}');
    });
    expect(status).toBe(413);
  });

  it('accepts the largest valid job, every character escaped, within the size bound', async () => {
    const escapedControlCharacters = (count: number) => '\\u0001'.repeat(count);
    const raw =
      `{"kind":"fix","repoAlias":"demo-repo","baseRef":"main","ticket":{"title":"x${escapedControlCharacters(199)}",` +
      `"description":"${escapedControlCharacters(16 * 1024)}"}}`;
    const created = await send<{ id: string; status: string }>(postJobRaw(raw));
    expect(created).toMatchObject({ status: 201, body: { status: 'QUEUED' } });
    expect((await send({ method: 'POST', path: `/jobs/${created.body.id}/cancel` })).status).toBe(200);
  });
});

describe('database outage', () => {
  it('answers 503 with Retry-After while PostgreSQL is down, and recovers when it is back', async () => {
    const calls: RequestSpec[] = [
      { method: 'GET', path: '/jobs' },
      postJob({ kind: 'noop' }),
      { method: 'GET', path: `/jobs/${unknownJobId}` },
      { method: 'POST', path: `/jobs/${unknownJobId}/cancel` },
      postToken({}),
    ];
    await cluster.stopServer();
    try {
      for (const call of calls) {
        const response = await send(call);
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toBe('5');
        expect(response.body).toEqual({ statusCode: 503, code: 'DATABASE_UNAVAILABLE', message: 'the database is unavailable; try again later' });
      }
    } finally {
      await cluster.startServer();
    }
    const recovered = await eventually(async () => {
      const response = await send<unknown[]>({ method: 'GET', path: '/jobs' });
      return response.status === 200 ? response : undefined;
    }, 'the API to answer again');
    expect(recovered.body).toEqual(expect.any(Array));
    expect((await send(postJob({ kind: 'noop' }))).status).toBe(201);
  });
});
