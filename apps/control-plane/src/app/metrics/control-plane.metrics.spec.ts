import { randomUUID } from 'node:crypto';
import { parsePrometheusText, sampleValue } from '@airlock/testing';
import { ControlPlaneMetrics, QUEUE_DEPTH_TIMEOUT_MS } from './control-plane.metrics';
import { MetricsServer } from './metrics.server';

const samplesOf = async (metrics: ControlPlaneMetrics) => parsePrometheusText(await metrics.exposition());

describe('ControlPlaneMetrics', () => {
  it('keeps a registry per instance: two never share a counter, and neither writes to the global registry', async () => {
    const first = new ControlPlaneMetrics();
    const second = new ControlPlaneMetrics();
    first.instructionRefused('INSTRUCTION_EXPIRED');
    expect(sampleValue(await samplesOf(first), 'airlock_instructions_refused_total', { code: 'INSTRUCTION_EXPIRED' })).toBe(1);
    expect(sampleValue(await samplesOf(second), 'airlock_instructions_refused_total', { code: 'INSTRUCTION_EXPIRED' })).toBe(0);
    const { register } = await import('prom-client');
    expect(register.getSingleMetric('airlock_instructions_refused_total')).toBeUndefined();
  });

  it('counts a value outside a closed set as OTHER, never as itself', async () => {
    const metrics = new ControlPlaneMetrics();
    metrics.instructionRefused('/home/alice/secret-repo');
    metrics.jobFinished('FAILED', 'a free-text error message');
    metrics.frameReceived('somethingNew');
    const text = await metrics.exposition();
    expect(text).not.toContain('alice');
    expect(text).not.toContain('free-text');
    expect(text).not.toContain('somethingNew');
    const samples = parsePrometheusText(text);
    expect(sampleValue(samples, 'airlock_instructions_refused_total', { code: 'OTHER' })).toBe(1);
    expect(sampleValue(samples, 'airlock_jobs_finished_total', { status: 'FAILED', failure_code: 'OTHER' })).toBe(1);
    expect(sampleValue(samples, 'airlock_gateway_frames_received_total', { type: 'OTHER' })).toBe(1);
  });

  it('counts a job once it ends, and only then', async () => {
    const metrics = new ControlPlaneMetrics();
    metrics.jobFinished('RUNNING', null);
    metrics.jobFinished('QUEUED', null);
    metrics.jobFinished('SUCCEEDED', null);
    metrics.leaseExpired({ requeued: true, cancelled: false, status: 'QUEUED' });
    metrics.leaseExpired({ requeued: false, cancelled: false, status: 'FAILED' });
    metrics.leaseExpired({ requeued: false, cancelled: true, status: 'CANCELLED' });
    metrics.leaseExpired({ requeued: false, cancelled: false, status: 'RUNNING' });
    metrics.attemptEnded({ requeued: false, cancelled: false, status: 'FAILED' }, 'WORKER_AT_CAPACITY');
    const samples = await samplesOf(metrics);
    const finished = samples.filter((sample) => sample.name === 'airlock_jobs_finished_total');
    expect(finished.map((sample) => [sample.labels, sample.value])).toEqual(
      expect.arrayContaining([
        [{ status: 'SUCCEEDED', failure_code: 'NONE' }, 1],
        [{ status: 'FAILED', failure_code: 'LEASE_EXPIRED' }, 1],
        [{ status: 'CANCELLED', failure_code: 'CANCELLED' }, 1],
        [{ status: 'FAILED', failure_code: 'WORKER_AT_CAPACITY' }, 1],
      ]),
    );
    expect(finished.reduce((sum, sample) => sum + sample.value, 0)).toBe(4);
    for (const result of ['requeued', 'failed', 'cancelled', 'superseded']) expect(sampleValue(samples, 'airlock_lease_expiries_total', { result })).toBe(1);
  });

  it('observes the dispatch latency of first attempts from the job creation, and counts every send', async () => {
    const metrics = new ControlPlaneMetrics();
    const created = new Date('2026-01-01T00:00:00Z');
    metrics.instructionSent(1, created, new Date(created.getTime() + 300));
    metrics.instructionSent(2, created, new Date(created.getTime() + 90_000));
    const samples = await samplesOf(metrics);
    expect(sampleValue(samples, 'airlock_instructions_sent_total')).toBe(2);
    expect(sampleValue(samples, 'airlock_dispatch_latency_seconds_count')).toBe(1);
    expect(sampleValue(samples, 'airlock_dispatch_latency_seconds_sum')).toBeCloseTo(0.3);
    expect(sampleValue(samples, 'airlock_dispatch_latency_seconds_bucket', { le: '0.25' })).toBe(0);
    expect(sampleValue(samples, 'airlock_dispatch_latency_seconds_bucket', { le: '0.5' })).toBe(1);
  });

  it('reads the queue depth and the streams when scraped, per tenant id', async () => {
    const tenant = randomUUID();
    const metrics = new ControlPlaneMetrics({
      queuedJobsByTenant: async () => [
        { tenantId: tenant, queued: 7 },
        // Never a label: not an id the control plane issued.
        { tenantId: 'acme corp', queued: 1 },
      ],
      workerStreams: () => ({ streams: 3, freeCredits: 5 }),
    });
    const samples = await samplesOf(metrics);
    expect(samples.filter((sample) => sample.name === 'airlock_jobs_queued')).toEqual([{ name: 'airlock_jobs_queued', labels: { tenant_id: tenant }, value: 7 }]);
    expect(sampleValue(samples, 'airlock_gateway_connected_workers')).toBe(3);
    expect(sampleValue(samples, 'airlock_gateway_worker_free_credits')).toBe(5);
  });

  it('answers a scrape within the bound when the database does not, counting the failure in that very scrape', async () => {
    const metrics = new ControlPlaneMetrics({ queuedJobsByTenant: () => new Promise(() => undefined) });
    const started = Date.now();
    const samples = await samplesOf(metrics);
    expect(Date.now() - started).toBeLessThan(QUEUE_DEPTH_TIMEOUT_MS + 1_000);
    expect(samples.some((sample) => sample.name === 'airlock_jobs_queued')).toBe(false);
    expect(sampleValue(samples, 'airlock_queue_depth_query_failures_total')).toBe(1);
  });
});

describe('MetricsServer', () => {
  it('serves GET and HEAD /metrics only, and a collection failure as 500 naming no detail', async () => {
    let fail = false;
    const server = new MetricsServer({
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
      exposition: async () => {
        if (fail) throw Object.assign(new Error('password=hunter2'), { name: 'QueryFailed' });
        return 'airlock_up 1\n';
      },
    });
    const url = await server.listen('127.0.0.1', 0);
    try {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const ok = await fetch(url);
      expect([ok.status, ok.headers.get('content-type'), await ok.text()]).toEqual([200, 'text/plain; version=0.0.4; charset=utf-8', 'airlock_up 1\n']);
      expect(await (await fetch(url, { method: 'HEAD' })).text()).toBe('');
      expect((await fetch(url, { method: 'DELETE' })).status).toBe(405);
      expect((await fetch(url.replace('/metrics', '/'))).status).toBe(404);
      fail = true;
      const failed = await fetch(url);
      expect(failed.status).toBe(500);
      expect(await failed.text()).toBe('metrics collection failed (QueryFailed)\n');
    } finally {
      await server.close();
    }
  });
});
