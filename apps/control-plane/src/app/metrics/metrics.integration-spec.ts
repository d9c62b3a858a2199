import { randomBytes } from 'node:crypto';
import { generateSigningKeyPair } from '@airlock/envelope';
import { FailureCode, REJECTION_FAILURE_CODES, decodeInstructionPayload, type WorkerGatewayClient } from '@airlock/protocol';
import { createDatabase, parsePrometheusText, sampleValue, startNatsServer, startPostgresCluster, type NatsServer, type PostgresCluster, type PrometheusSample } from '@airlock/testing';
import { createTenantWithAdminToken } from '../../test-support/tenant.fixture';
import { testAppConfig } from '../../test-support/test-app-config';
import { eventually, gatewayClient, TestWorker } from '../../test-support/test-worker';
import { startControlPlane, type RunningControlPlane } from '../control-plane';
import type { JobResponse } from '../jobs/dto/job.response';
import { HANDSHAKE_REFUSAL_REASONS, JOB_END_STATUSES, JOB_FAILURE_CODES, LEASE_EXPIRY_RESULTS, WORKER_FRAME_TYPES } from './control-plane.metrics';

jest.setTimeout(90_000);

/** A tenant name no series may carry: metrics name tenants by the id the control plane issued, nothing else. */
const TENANT_CANARY = `metricscanary${randomBytes(5).toString('hex')}`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let cluster: PostgresCluster;
let controlPlane: RunningControlPlane;
let client: WorkerGatewayClient;
/** Every test worker, closed at the end whatever a test did: an open stream would hold the gateway's shutdown. */
const workers: TestWorker[] = [];

beforeAll(async () => {
  cluster = await startPostgresCluster();
  const databaseUrl = await createDatabase(cluster.url, 'metrics_it');
  controlPlane = await startControlPlane(testAppConfig(databaseUrl, { AIRLOCK_LEASE_TTL: '1s', AIRLOCK_HEARTBEAT_INTERVAL: '200ms' }));
  client = gatewayClient(controlPlane.grpcAddress);
});

afterAll(async () => {
  for (const worker of workers) worker.close();
  client?.close();
  await controlPlane?.stop();
  await cluster?.stop();
});

async function scrape(url = controlPlane.metricsUrl): Promise<PrometheusSample[]> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await response.text());
}

async function api<T>(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${controlPlane.httpUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as T };
}

async function connectedWorker(token: string): Promise<TestWorker> {
  const worker = new TestWorker(client);
  workers.push(worker);
  const { body } = await api<{ token: string }>(token, 'POST', '/enrollment-tokens', {});
  await worker.enroll(body.token);
  await worker.connect({ capacity: 4 });
  await eventually(() => worker.received.find((frame) => frame.frame === 'welcome'), 'welcome');
  return worker;
}

/** Gives the worker one credit and returns the job id of the instruction it brings. */
async function nextInstruction(worker: TestWorker): Promise<{ jobId: string; attempt: number }> {
  const before = worker.instructions().length;
  worker.send({ credit: { credits: 1 } });
  await eventually(() => (worker.instructions().length > before ? true : undefined), 'an instruction');
  const received = worker.received.filter((frame) => frame.frame === 'instruction');
  const payload = decodeInstructionPayload(received[received.length - 1]!.instruction!.payload);
  return { jobId: payload.jobId, attempt: payload.attempt };
}

/** Polls the scrape until `probe` holds of it. */
async function scrapeUntil(probe: (samples: PrometheusSample[]) => boolean, what: string): Promise<PrometheusSample[]> {
  return eventually(async () => {
    const samples = await scrape();
    return probe(samples) ? samples : undefined;
  }, what);
}

const succeeded = (jobId: string, attempt: number) => ({
  result: {
    attempt: { jobId, attempt },
    outcome: 'JOB_OUTCOME_SUCCEEDED' as const,
    failureCode: 'FAILURE_CODE_UNSPECIFIED' as const,
    failedPhase: 'PHASE_UNSPECIFIED' as const,
    phaseDurations: [],
    tokens: { requests: 0, promptTokens: 0, completionTokens: 0 },
    change: { filesChanged: 0, linesAdded: 0, linesRemoved: 0, editsProposed: 0, editsApplied: 0 },
    verification: { testsRan: false, testExitCode: 0 },
    contextFiles: 0,
    changeMac: Buffer.alloc(0),
    deliveryMac: Buffer.alloc(0),
    metadataLevel: 'METADATA_LEVEL_STANDARD' as const,
  },
});

/** Every label value of the airlock_ series belongs to its closed set. */
function expectClosedLabelSets(samples: readonly PrometheusSample[]): void {
  const allowed: Record<string, (value: string) => boolean> = {
    code: (value) => REJECTION_FAILURE_CODES.has(value),
    status: (value) => (JOB_END_STATUSES as readonly string[]).includes(value),
    failure_code: (value) => JOB_FAILURE_CODES.has(value),
    result: (value) => (LEASE_EXPIRY_RESULTS as readonly string[]).includes(value),
    type: (value) => (WORKER_FRAME_TYPES as readonly string[]).includes(value),
    reason: (value) => (HANDSHAKE_REFUSAL_REASONS as readonly string[]).includes(value),
    tenant_id: (value) => UUID.test(value),
    le: (value) => value === '+Inf' || Number.isFinite(Number(value)),
  };
  const airlock = samples.filter((sample) => sample.name.startsWith('airlock_'));
  expect(airlock.length).toBeGreaterThan(20);
  for (const sample of airlock) {
    for (const [label, value] of Object.entries(sample.labels)) {
      expect({ series: sample.name, label, value, known: allowed[label]?.(value) ?? false }).toEqual({ series: sample.name, label, value, known: true });
    }
  }
}

describe('GET /metrics on the control plane', () => {
  it('is served on its own listener, not on the REST port, and the REST port is not served there', async () => {
    expect(new URL(controlPlane.metricsUrl).port).not.toBe(new URL(controlPlane.httpUrl).port);
    // The REST port answers /metrics as the dashboard would any unknown path, never with the metrics.
    expect(await (await fetch(`${controlPlane.httpUrl}/metrics`)).text()).not.toContain('airlock_');
    const metricsOrigin = new URL(controlPlane.metricsUrl).origin;
    expect((await fetch(`${metricsOrigin}/api/v1/health`)).status).toBe(404);
    expect((await fetch(controlPlane.metricsUrl, { method: 'POST' })).status).toBe(405);
    const samples = await scrape();
    // prom-client's process and Node.js metrics on this app's own registry.
    expect(sampleValue(samples, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(samples.some((sample) => sample.name === 'nodejs_eventloop_lag_p99_seconds')).toBe(true);
  });

  it('stops the start of a control plane whose metrics port is taken, naming the address', async () => {
    const taken = new URL(controlPlane.metricsUrl);
    const databaseUrl = await createDatabase(cluster.url, 'metrics_port_taken_it');
    await expect(startControlPlane(testAppConfig(databaseUrl, { AIRLOCK_METRICS_PORT: taken.port }))).rejects.toThrow(`EADDRINUSE: address already in use ${taken.host}`);
    // The first one still serves.
    expect((await fetch(controlPlane.metricsUrl)).status).toBe(200);
  });

  it('counts dispatches, queued jobs per tenant, connected workers, refusals, outcomes, frames and lease expiries', async () => {
    const tenantA = await createTenantWithAdminToken(controlPlane.dataAccess, `${TENANT_CANARY}-a`);
    const tenantB = await createTenantWithAdminToken(controlPlane.dataAccess, `${TENANT_CANARY}-b`);
    const before = await scrape();
    const count = (samples: readonly PrometheusSample[], name: string, labels: Record<string, string> = {}) => sampleValue(samples, name, labels) - sampleValue(before, name, labels);

    // Queued with no worker: the depth per tenant, from the database.
    for (let index = 0; index < 3; index += 1) expect((await api<JobResponse>(tenantA.token, 'POST', '/jobs', { kind: 'noop' })).status).toBe(201);
    expect((await api<JobResponse>(tenantB.token, 'POST', '/jobs', { kind: 'noop' })).status).toBe(201);
    let samples = await scrape();
    expect(sampleValue(samples, 'airlock_jobs_queued', { tenant_id: tenantA.tenantId })).toBe(3);
    expect(sampleValue(samples, 'airlock_jobs_queued', { tenant_id: tenantB.tenantId })).toBe(1);
    expect(sampleValue(samples, 'airlock_gateway_connected_workers')).toBe(0);

    const worker = await connectedWorker(tenantA.token);
    samples = await scrape();
    expect(sampleValue(samples, 'airlock_gateway_connected_workers')).toBe(1);

    // Dispatched: the latency histogram observed the first attempt, and the queue shrank.
    const refused = await nextInstruction(worker);
    samples = await scrape();
    expect(count(samples, 'airlock_dispatch_latency_seconds_count')).toBe(1);
    expect(count(samples, 'airlock_instructions_sent_total')).toBe(1);
    expect(count(samples, 'airlock_dispatch_claim_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(sampleValue(samples, 'airlock_dispatch_latency_seconds_bucket', { le: '+Inf' })).toBe(sampleValue(samples, 'airlock_dispatch_latency_seconds_count'));
    expect(sampleValue(samples, 'airlock_jobs_queued', { tenant_id: tenantA.tenantId })).toBe(2);
    expect(sampleValue(samples, 'airlock_gateway_worker_free_credits')).toBe(0);

    // Refused by the worker: counted by code, and the job ended FAILED with it.
    worker.send({ rejected: { attempt: refused, failureCode: FailureCode.INSTRUCTION_BAD_SIGNATURE } });
    samples = await scrapeUntil((s) => count(s, 'airlock_jobs_finished_total', { status: 'FAILED', failure_code: 'INSTRUCTION_BAD_SIGNATURE' }) === 1, 'the failed job counted');
    expect(count(samples, 'airlock_instructions_refused_total', { code: 'INSTRUCTION_BAD_SIGNATURE' })).toBe(1);
    expect(count(samples, 'airlock_gateway_frames_received_total', { type: 'rejected' })).toBe(1);

    // Run to a result.
    const done = await nextInstruction(worker);
    worker.send({ ack: { attempt: done } });
    worker.send(succeeded(done.jobId, done.attempt));
    samples = await scrapeUntil((s) => count(s, 'airlock_jobs_finished_total', { status: 'SUCCEEDED', failure_code: 'NONE' }) === 1, 'the result counted');
    expect(count(samples, 'airlock_gateway_frames_received_total', { type: 'result' })).toBe(1);
    expect(count(samples, 'airlock_gateway_frames_received_total', { type: 'ack' })).toBe(1);
    expect(count(samples, 'airlock_gateway_frames_received_total', { type: 'hello' })).toBe(1);
    expect(count(samples, 'airlock_gateway_frames_received_total', { type: 'credit' })).toBe(2);
    expect(count(samples, 'airlock_dispatch_latency_seconds_count')).toBe(2);

    // Acked, then silent: no heartbeat renews the lease, and the sweep requeues the job.
    const abandoned = await nextInstruction(worker);
    worker.send({ ack: { attempt: abandoned } });
    samples = await scrapeUntil((s) => count(s, 'airlock_lease_expiries_total', { result: 'requeued' }) === 1, 'the lease expiry counted');
    expect(sampleValue(samples, 'airlock_jobs_queued', { tenant_id: tenantA.tenantId })).toBe(1);

    // A stream whose Hello is signed with another key is refused before its Welcome.
    const impostor = new TestWorker(client);
    workers.push(impostor);
    const { body } = await api<{ token: string }>(tenantA.token, 'POST', '/enrollment-tokens', {});
    await impostor.enroll(body.token);
    await impostor.connect({ signWith: generateSigningKeyPair().privateKeyPem });
    samples = await scrapeUntil((s) => count(s, 'airlock_gateway_handshakes_refused_total', { reason: 'unauthenticated' }) === 1, 'the refused handshake counted');

    worker.close();
    samples = await scrapeUntil((s) => sampleValue(s, 'airlock_gateway_connected_workers') === 0, 'the worker gone');
    expectClosedLabelSets(samples);
    const text = await (await fetch(controlPlane.metricsUrl)).text();
    expect(text).not.toContain(TENANT_CANARY);
    expect(text).not.toContain(done.jobId);
  });
});

describe('GET /api/v1/health/ready', () => {
  const ready = async () => {
    const response = await fetch(`${controlPlane.httpUrl}/api/v1/health/ready`);
    return { status: response.status, body: (await response.json()) as unknown };
  };

  it('is 200 with no token while PostgreSQL answers, 503 naming the database while it is down, 200 again after', async () => {
    expect(await ready()).toEqual({ status: 200, body: { status: 'ready', checks: { database: 'up', nats: 'not-configured' } } });
    expect((await fetch(`${controlPlane.httpUrl}/api/v1/health`)).status).toBe(200);
    await cluster.stopServer();
    try {
      const started = Date.now();
      expect(await ready()).toEqual({ status: 503, body: { status: 'not-ready', checks: { database: 'down', nats: 'not-configured' } } });
      // Bounded: the probe does not wait for the database's own timeouts.
      expect(Date.now() - started).toBeLessThan(5_000);
      // Liveness is not readiness: the process still serves.
      expect((await fetch(`${controlPlane.httpUrl}/api/v1/health`)).status).toBe(200);
      // The scrape still answers; the queued-jobs count is left out and counted as failed.
      const samples = await scrape();
      expect(samples.some((sample) => sample.name === 'airlock_jobs_queued')).toBe(false);
      expect(sampleValue(samples, 'airlock_queue_depth_query_failures_total')).toBeGreaterThanOrEqual(1);
    } finally {
      await cluster.startServer();
    }
    await eventually(async () => ((await ready()).status === 200 ? true : undefined), 'ready again', 30_000);
  });
});

describe('GET /api/v1/health/ready with NATS', () => {
  let nats: NatsServer;
  let replica: RunningControlPlane;

  beforeAll(async () => {
    nats = await startNatsServer();
    const databaseUrl = await createDatabase(cluster.url, 'metrics_nats_it');
    replica = await startControlPlane(testAppConfig(databaseUrl, { AIRLOCK_NATS_URL: nats.url }));
  });

  afterAll(async () => {
    await replica?.stop();
    await nats?.stop();
  });

  it('is 503 naming NATS while it is away, and 200 once it is back', async () => {
    const ready = async () => {
      const response = await fetch(`${replica.httpUrl}/api/v1/health/ready`);
      return { status: response.status, body: (await response.json()) as unknown };
    };
    expect(await ready()).toEqual({ status: 200, body: { status: 'ready', checks: { database: 'up', nats: 'up' } } });
    await nats.kill();
    try {
      expect(await ready()).toEqual({ status: 503, body: { status: 'not-ready', checks: { database: 'up', nats: 'down' } } });
    } finally {
      await nats.restart();
    }
    await eventually(async () => ((await ready()).status === 200 ? true : undefined), 'ready again', 30_000);
  });
});
