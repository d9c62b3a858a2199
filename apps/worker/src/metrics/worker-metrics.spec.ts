import { FailureCode, JobOutcome, Phase } from '@airlock/protocol';
import { HealthServer, type HealthSnapshot } from '../health/health.server';
import { parsePrometheusText, sampleValue } from '@airlock/testing';
import { WorkerMetrics } from './worker-metrics';

const samplesOf = async (metrics: WorkerMetrics) => parsePrometheusText(await metrics.exposition());

describe('WorkerMetrics', () => {
  it('keeps a registry per instance, apart from the global one', async () => {
    const first = new WorkerMetrics();
    const second = new WorkerMetrics();
    first.sandboxKilled('memory');
    expect(sampleValue(await samplesOf(first), 'airlock_worker_sandbox_kills_total', { limit: 'memory' })).toBe(1);
    expect(sampleValue(await samplesOf(second), 'airlock_worker_sandbox_kills_total', { limit: 'memory' })).toBe(0);
    const { register } = await import('prom-client');
    expect(register.getSingleMetric('airlock_worker_sandbox_kills_total')).toBeUndefined();
  });

  it("counts an attempt's outcome, code and phase durations from its result, the prefixes of the wire enums dropped", async () => {
    const metrics = new WorkerMetrics();
    metrics.jobFinished({
      outcome: JobOutcome.JOB_OUTCOME_FAILED,
      failureCode: FailureCode.TESTS_FAILED,
      phaseDurations: [
        { phase: Phase.PHASE_WORKSPACE, durationMs: 400 },
        { phase: Phase.PHASE_TEST, durationMs: 95_000 },
      ],
    });
    metrics.jobFinished({ outcome: JobOutcome.JOB_OUTCOME_SUCCEEDED, failureCode: FailureCode.FAILURE_CODE_UNSPECIFIED, phaseDurations: [] });
    const samples = await samplesOf(metrics);
    expect(sampleValue(samples, 'airlock_worker_jobs_finished_total', { outcome: 'FAILED', failure_code: 'TESTS_FAILED' })).toBe(1);
    expect(sampleValue(samples, 'airlock_worker_jobs_finished_total', { outcome: 'SUCCEEDED', failure_code: 'NONE' })).toBe(1);
    expect(sampleValue(samples, 'airlock_worker_phase_duration_seconds_bucket', { phase: 'WORKSPACE', le: '0.5' })).toBe(1);
    expect(sampleValue(samples, 'airlock_worker_phase_duration_seconds_bucket', { phase: 'WORKSPACE', le: '0.1' })).toBe(0);
    expect(sampleValue(samples, 'airlock_worker_phase_duration_seconds_sum', { phase: 'TEST' })).toBe(95);
    expect(sampleValue(samples, 'airlock_worker_phase_duration_seconds_bucket', { phase: 'TEST', le: '60' })).toBe(0);
    expect(sampleValue(samples, 'airlock_worker_phase_duration_seconds_bucket', { phase: 'TEST', le: '120' })).toBe(1);
  });

  it('counts a value outside a closed set as OTHER, never as itself', async () => {
    const metrics = new WorkerMetrics();
    metrics.instructionRefused('src/secret.ts');
    metrics.policyBundleRefused('INSTRUCTION_EXPIRED');
    metrics.frameSent('hello; DROP TABLE');
    metrics.jobFinished({ outcome: 'JOB_OUTCOME_EXPLODED' as never, failureCode: 'git@internal.example:repo' as never, phaseDurations: [{ phase: 'PHASE_/etc/passwd' as never, durationMs: 1 }] });
    const text = await metrics.exposition();
    for (const leaked of ['secret', 'DROP', 'EXPLODED', 'internal.example', 'passwd']) expect(text).not.toContain(leaked);
    const samples = parsePrometheusText(text);
    expect(sampleValue(samples, 'airlock_worker_instructions_refused_total', { code: 'OTHER' })).toBe(1);
    // A policy bundle code is not an instruction's, and the other way round.
    expect(sampleValue(samples, 'airlock_worker_policy_bundles_refused_total', { code: 'OTHER' })).toBe(1);
    expect(sampleValue(samples, 'airlock_worker_frames_sent_total', { type: 'OTHER' })).toBe(1);
    expect(sampleValue(samples, 'airlock_worker_jobs_finished_total', { outcome: 'OTHER', failure_code: 'OTHER' })).toBe(1);
    expect(sampleValue(samples, 'airlock_worker_phase_duration_seconds_count', { phase: 'OTHER' })).toBe(1);
  });

  it("reads the gauges from the daemon's state at each scrape", async () => {
    const metrics = new WorkerMetrics();
    let state = { connected: false, running: 0, capacity: 2, egressAuditHealthy: true };
    metrics.observe(() => state);
    let samples = await samplesOf(metrics);
    expect([sampleValue(samples, 'airlock_worker_connected'), sampleValue(samples, 'airlock_worker_jobs_running'), sampleValue(samples, 'airlock_worker_capacity'), sampleValue(samples, 'airlock_worker_egress_audit_healthy')]).toEqual([0, 0, 2, 1]);
    state = { connected: true, running: 2, capacity: 2, egressAuditHealthy: false };
    samples = await samplesOf(metrics);
    expect([sampleValue(samples, 'airlock_worker_connected'), sampleValue(samples, 'airlock_worker_jobs_running'), sampleValue(samples, 'airlock_worker_egress_audit_healthy')]).toEqual([1, 2, 0]);
  });
});

describe('HealthServer with metrics', () => {
  const snapshot: HealthSnapshot = {
    state: 'READY',
    connected: true,
    lastConnectedAt: null,
    lastHeartbeatAt: null,
    lastReadinessCheckAt: null,
    running: 1,
    capacity: 3,
    refusedFrames: 0,
    egressAuditHealthy: true,
  };

  it('serves GET /metrics beside /healthz, and nothing else', async () => {
    const metrics = new WorkerMetrics();
    metrics.observe(() => snapshot);
    const server = new HealthServer(() => snapshot, metrics);
    const healthz = await server.listen('127.0.0.1', 0);
    try {
      const url = healthz.replace('/healthz', '/metrics');
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(sampleValue(parsePrometheusText(await response.text()), 'airlock_worker_capacity')).toBe(3);
      expect((await fetch(url, { method: 'POST' })).status).toBe(404);
      expect((await fetch(healthz)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('answers /metrics 404 when it was given no metrics', async () => {
    const server = new HealthServer(() => snapshot);
    const healthz = await server.listen('127.0.0.1', 0);
    try {
      expect((await fetch(healthz.replace('/healthz', '/metrics'))).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
