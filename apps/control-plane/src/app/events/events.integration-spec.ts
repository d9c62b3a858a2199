import { createDatabase, startPostgresCluster, type PostgresCluster } from '@airlock/testing';
import { createApiToken, createTenantWithAdminToken } from '../../test-support/tenant.fixture';
import { testAppConfig } from '../../test-support/test-app-config';
import { eventually } from '../../test-support/test-worker';
import { startControlPlane, type RunningControlPlane } from '../control-plane';
import { EVENT_BUS, type EventBus } from './event-bus';
import { EventStreamService } from './event-stream.service';

jest.setTimeout(60_000);

const MAX_STREAMS_PER_TENANT = 3;

let cluster: PostgresCluster;
let controlPlane: RunningControlPlane;
let tenantCounter = 0;
/** Streams a test opened; each test's are closed after it, so none holds a slot into the next. */
const openedStreams: EventStreamReader[] = [];

beforeAll(async () => {
  cluster = await startPostgresCluster();
  controlPlane = await startControlPlane(
    testAppConfig(await createDatabase(cluster.url, 'event_stream_it'), {
      AIRLOCK_EVENTS_HEARTBEAT: '200ms',
      AIRLOCK_EVENTS_MAX_STREAMS: String(MAX_STREAMS_PER_TENANT),
    }),
  );
});

afterEach(() => {
  for (const stream of openedStreams.splice(0)) stream.close();
});

afterAll(async () => {
  await controlPlane?.stop();
  await cluster?.stop();
});

function newTenant(): Promise<{ token: string; tenantId: string }> {
  tenantCounter += 1;
  return createTenantWithAdminToken(controlPlane.dataAccess, `events-tenant-${tenantCounter}`);
}

/** One Server-Sent Events block: its fields, or the comment it is. */
interface StreamBlock {
  readonly id?: string;
  readonly event?: string;
  readonly data?: string;
  readonly retry?: string;
  readonly comment?: string;
}

function parseBlock(block: string): StreamBlock {
  const fields: Record<string, string> = {};
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) fields['comment'] = line.slice(1).trim();
    else {
      const colon = line.indexOf(':');
      fields[line.slice(0, colon)] = line.slice(colon + 1).trimStart();
    }
  }
  return fields;
}

/** An event stream read as a browser would, over real HTTP: every block received, in order. */
class EventStreamReader {
  readonly blocks: StreamBlock[] = [];
  ended = false;
  private buffered = '';

  private constructor(
    readonly response: Response,
    private readonly abort: AbortController,
  ) {}

  /** Opens the stream; the reader reads in the background until the server ends it or `close`. */
  static async open(baseUrl: string, token: string | null): Promise<EventStreamReader> {
    const abort = new AbortController();
    const response = await fetch(`${baseUrl}/api/v1/events`, {
      headers: { accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      signal: abort.signal,
    });
    const reader = new EventStreamReader(response, abort);
    if (response.ok) {
      openedStreams.push(reader);
      void reader.readAll();
    }
    return reader;
  }

  private async readAll(): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of this.response.body as unknown as AsyncIterable<Uint8Array>) {
        this.buffered += decoder.decode(chunk, { stream: true });
        let end = this.buffered.indexOf('\n\n');
        while (end !== -1) {
          this.blocks.push(parseBlock(this.buffered.slice(0, end)));
          this.buffered = this.buffered.slice(end + 2);
          end = this.buffered.indexOf('\n\n');
        }
      }
    } catch {
      // Aborted by `close`.
    }
    this.ended = true;
  }

  /** The events received (blocks naming an event), their data parsed. */
  events(): { id: number; event: string; data: Record<string, unknown> }[] {
    return this.blocks.flatMap((block) =>
      block.event !== undefined && block.data !== undefined ? [{ id: Number(block.id), event: block.event, data: JSON.parse(block.data) as Record<string, unknown> }] : [],
    );
  }

  /** Waits until `count` events arrived, and returns them. */
  async nextEvents(count: number, what: string): Promise<ReturnType<EventStreamReader['events']>> {
    return eventually(() => (this.events().length >= count ? this.events() : undefined), what);
  }

  close(): void {
    this.abort.abort();
  }
}

async function api<T>(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${controlPlane.httpUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as T };
}

const createNoopJob = async (token: string): Promise<string> => (await api<{ id: string }>(token, 'POST', '/jobs', { kind: 'noop' })).body.id;

describe('GET /api/v1/events', () => {
  it('streams job changes as Server-Sent Events, with ids increasing along the stream and no tenant id', async () => {
    const { token } = await newTenant();
    const stream = await EventStreamReader.open(controlPlane.httpUrl, token);
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.response.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(stream.response.headers.get('x-accel-buffering')).toBe('no');
    await eventually(() => stream.blocks[0], 'the first block');
    expect(stream.blocks[0]).toEqual({ retry: '3000' });

    const jobId = await createNoopJob(token);
    expect((await api(token, 'POST', `/jobs/${jobId}/cancel`)).status).toBe(200);
    const events = await stream.nextEvents(2, 'two events');
    expect(events).toEqual([
      { id: 1, event: 'job.changed', data: { type: 'job.changed', jobId, status: 'QUEUED', at: expect.any(String) } },
      { id: 2, event: 'job.changed', data: { type: 'job.changed', jobId, status: 'CANCELLED', at: expect.any(String) } },
    ]);
  });

  it("sends a tenant's events to that tenant's streams only", async () => {
    const owner = await newTenant();
    const stranger = await newTenant();
    const ownerStream = await EventStreamReader.open(controlPlane.httpUrl, owner.token);
    const strangerStream = await EventStreamReader.open(controlPlane.httpUrl, stranger.token);
    await eventually(() => ownerStream.blocks[0] && strangerStream.blocks[0], 'both streams open');

    const ownersJob = await createNoopJob(owner.token);
    await ownerStream.nextEvents(1, "the owner's event");
    // The stranger's own job comes after the owner's: had the owner's event reached this stream, it would be first.
    const strangersJob = await createNoopJob(stranger.token);
    const [first] = await strangerStream.nextEvents(1, "the stranger's own event");
    expect(first?.data).toMatchObject({ jobId: strangersJob });
    expect(strangerStream.events().map((event) => event.data['jobId'])).not.toContain(ownersJob);
    expect(ownerStream.events().map((event) => event.data['jobId'])).toEqual([ownersJob]);
  });

  it('sends worker changes only to principals holding fleet:read', async () => {
    const { tenantId, token } = await newTenant();
    const jobsOnly = await createApiToken(controlPlane.dataAccess, tenantId, ['jobs:read', 'jobs:write'], 'jobs only');
    const jobsOnlyStream = await EventStreamReader.open(controlPlane.httpUrl, jobsOnly);
    const fleetStream = await EventStreamReader.open(controlPlane.httpUrl, token);
    await eventually(() => jobsOnlyStream.blocks[0] && fleetStream.blocks[0], 'both streams open');

    const workerId = '6a1f1b8e-6c2b-4f59-9d1a-2f4b7c9e0a11';
    controlPlane.app.get<EventBus>(EVENT_BUS).publish({ type: 'worker.changed', tenantId, workerId, change: 'DRAINING', at: new Date().toISOString() });
    const jobId = await createNoopJob(token);

    expect((await fleetStream.nextEvents(2, 'the worker and the job event')).map((event) => [event.id, event.event, event.data])).toEqual([
      [1, 'worker.changed', { type: 'worker.changed', workerId, change: 'DRAINING', at: expect.any(String) }],
      [2, 'job.changed', expect.objectContaining({ jobId, status: 'QUEUED' })],
    ]);
    // The job event came after the worker event; this stream got only the job event, numbered 1.
    const [onlyEvent] = await jobsOnlyStream.nextEvents(1, 'the job event');
    expect(jobsOnlyStream.events()).toEqual([{ id: 1, event: 'job.changed', data: expect.objectContaining({ jobId }) }]);
    expect(onlyEvent?.event).toBe('job.changed');
  });

  it('sends a comment line while idle, so proxies keep the stream open', async () => {
    const { token } = await newTenant();
    const stream = await EventStreamReader.open(controlPlane.httpUrl, token);
    await eventually(() => stream.blocks.find((block) => block.comment === 'heartbeat'), 'a heartbeat comment');
    expect(stream.events()).toEqual([]);
  });

  it(`refuses a tenant's stream number ${MAX_STREAMS_PER_TENANT + 1} with 429, and frees the slot when a client disconnects`, async () => {
    const { tenantId, token } = await newTenant();
    const other = await newTenant();
    const streams: EventStreamReader[] = [];
    for (let i = 0; i < MAX_STREAMS_PER_TENANT; i += 1) streams.push(await EventStreamReader.open(controlPlane.httpUrl, token));
    expect(streams.map((stream) => stream.response.status)).toEqual(Array(MAX_STREAMS_PER_TENANT).fill(200));

    const refused = await EventStreamReader.open(controlPlane.httpUrl, token);
    expect(refused.response.status).toBe(429);
    expect(refused.response.headers.get('retry-after')).toBe('30');
    expect(await refused.response.json()).toEqual({
      statusCode: 429,
      code: 'TOO_MANY_EVENT_STREAMS',
      message: `this tenant already has ${MAX_STREAMS_PER_TENANT} open event streams on this server; close one (another tab of the dashboard, say) and try again`,
    });
    // The bound is per tenant.
    expect((await EventStreamReader.open(controlPlane.httpUrl, other.token)).response.status).toBe(200);

    const service = controlPlane.app.get(EventStreamService);
    expect(service.openStreams(tenantId)).toBe(MAX_STREAMS_PER_TENANT);
    streams[0]!.close();
    await eventually(() => (service.openStreams(tenantId) === MAX_STREAMS_PER_TENANT - 1 ? true : undefined), 'the server to notice the disconnect');
    const reopened = await EventStreamReader.open(controlPlane.httpUrl, token);
    expect(reopened.response.status).toBe(200);
    // The closed stream no longer listens: a new event reaches the open ones only.
    const jobId = await createNoopJob(token);
    await reopened.nextEvents(1, 'the event on the new stream');
    expect(streams[0]!.events()).toEqual([]);
    expect((await streams[1]!.nextEvents(1, 'the event on an open stream'))[0]?.data).toMatchObject({ jobId });
  });

  it('answers 401 without a token and 403 to a principal without jobs:read', async () => {
    const { tenantId } = await newTenant();
    const unauthenticated = await EventStreamReader.open(controlPlane.httpUrl, null);
    expect(unauthenticated.response.status).toBe(401);
    expect(await unauthenticated.response.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
    const fleetOnly = await createApiToken(controlPlane.dataAccess, tenantId, ['fleet:read'], 'fleet only');
    const forbidden = await EventStreamReader.open(controlPlane.httpUrl, fleetOnly);
    expect(forbidden.response.status).toBe(403);
    expect(await forbidden.response.json()).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('jobs:read') });
  });

  it('is described in the OpenAPI document as an event stream, with its event shapes', async () => {
    const document = (await (await fetch(`${controlPlane.httpUrl}/api/docs-json`)).json()) as {
      paths: Record<string, { get?: { responses: Record<string, { content?: Record<string, unknown> }> } }>;
      components: { schemas: Record<string, unknown> };
    };
    const responses = document.paths['/api/v1/events']?.get?.responses ?? {};
    expect(Object.keys(responses).sort()).toEqual(['200', '401', '403', '429']);
    expect(Object.keys(responses['200']?.content ?? {})).toEqual(['text/event-stream']);
    expect(Object.keys(document.components.schemas)).toEqual(expect.arrayContaining(['JobChangedEventData', 'WorkerChangedEventData', 'WorkerChange', 'JobStatus']));
  });
});

describe('event streams of a control plane that stops them', () => {
  it('closes a stream at the end of its lifetime, telling the client to reconnect, and frees its slot', async () => {
    const shortLived = await startControlPlane(testAppConfig(await createDatabase(cluster.url, 'event_stream_lifetime_it'), { AIRLOCK_EVENTS_MAX_LIFETIME: '1s' }));
    try {
      const { tenantId, token } = await createTenantWithAdminToken(shortLived.dataAccess, 'lifetime');
      const stream = await EventStreamReader.open(shortLived.httpUrl, token);
      expect(stream.response.status).toBe(200);
      await eventually(() => (stream.ended ? true : undefined), 'the stream to end');
      expect(stream.blocks.at(-1)).toEqual({ comment: 'the stream reached its maximum lifetime; reconnect' });
      expect(shortLived.app.get(EventStreamService).openStreams(tenantId)).toBe(0);
    } finally {
      await shortLived.stop();
    }
  });

  it('ends open streams when the control plane stops', async () => {
    // The default lifetime (an hour): only the stop can end the stream.
    const stopping = await startControlPlane(testAppConfig(await createDatabase(cluster.url, 'event_stream_shutdown_it')));
    let stopped = false;
    try {
      const { token } = await createTenantWithAdminToken(stopping.dataAccess, 'shutdown');
      const stream = await EventStreamReader.open(stopping.httpUrl, token);
      await eventually(() => stream.blocks[0], 'the stream to open');
      await stopping.stop();
      stopped = true;
      await eventually(() => (stream.ended ? true : undefined), 'the stream to end');
      expect(stream.blocks).toEqual([{ retry: '3000' }]);
    } finally {
      if (!stopped) await stopping.stop();
    }
  });
});
