import { HealthServer, type HealthSnapshot } from './health.server';

describe('HealthServer', () => {
  let snapshot: HealthSnapshot;
  const server = new HealthServer(() => snapshot);
  let url: string;

  beforeAll(async () => {
    url = await server.listen('127.0.0.1', 0);
  });

  afterAll(async () => {
    await server.close();
  });

  beforeEach(() => {
    snapshot = {
      state: 'READY',
      connected: true,
      lastConnectedAt: '2030-01-01T00:00:00.000Z',
      lastHeartbeatAt: null,
      lastReadinessCheckAt: null,
      running: 0,
      capacity: 1,
      refusedFrames: 0,
      egressAuditHealthy: true,
    };
  });

  it.each([
    ['STARTING', 200],
    ['READY', 200],
    ['RUNNING', 200],
    ['DRAINING', 200],
    ['STOPPED', 503],
    ['FAILED', 503],
  ])('answers %s with %i and the snapshot', async (state, code) => {
    snapshot = { ...snapshot, state };
    const response = await fetch(url);
    expect(response.status).toBe(code);
    expect(await response.json()).toEqual(snapshot);
  });

  it('serves nothing but GET /healthz', async () => {
    expect((await fetch(url.replace('/healthz', '/'))).status).toBe(404);
    expect((await fetch(url, { method: 'POST' })).status).toBe(404);
  });
});
