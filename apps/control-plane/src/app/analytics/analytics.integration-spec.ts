import pg from 'pg';
import { createDatabase, startPostgresCluster, type PostgresCluster } from '@airlock/testing';
import { HISTOGRAM_MAX_ESTIMATE_FACTOR, parsePostgresUrl } from '@airlock/data-access';
import { RULE_IDS_TO_WIRE, type RuleId } from '@airlock/policy';
import { decodeInstructionPayload, type WorkerFrame, type WorkerGatewayClient } from '@airlock/protocol';
import { createApiToken, createTenantWithAdminToken } from '../../test-support/tenant.fixture';
import { testAppConfig } from '../../test-support/test-app-config';
import { eventually, gatewayClient, TestWorker } from '../../test-support/test-worker';
import { ROLE_SCOPES } from '../auth/access';
import { JOB_DISPATCHER, type JobDispatcher } from '../dispatch/job-dispatcher';
import type { Scheduler } from '../dispatch/lease-reaper.service';
import { startControlPlane, type RunningControlPlane } from '../control-plane';
import type { AnalyticsReportResponse } from './dto/analytics-report.response';

jest.setTimeout(180_000);

/** The control plane's time: each scenario sets it, so days, durations and the budget's month are what it says. */
let nowMs = Date.parse('2026-01-05T08:00:00Z');
const clock = { now: () => new Date(nowMs) };
const setClock = (iso: string): void => {
  nowMs = Date.parse(iso);
};
const advance = (ms: number): void => {
  nowMs += ms;
};
/** No timer fires: leases expire only when a scenario expires them, at the clock's time. */
const idleScheduler: Scheduler = { setTimeout: () => ({}), clearTimeout: () => undefined, random: () => 0.5 };

let cluster: PostgresCluster;
let controlPlane: RunningControlPlane;
let client: WorkerGatewayClient;
let sql: pg.Client;
let tenantCounter = 0;

beforeAll(async () => {
  cluster = await startPostgresCluster();
  const databaseUrl = await createDatabase(cluster.url, 'analytics_it');
  controlPlane = await startControlPlane(testAppConfig(databaseUrl, { AIRLOCK_LEASE_TTL: '1h', AIRLOCK_HEARTBEAT_INTERVAL: '10s' }), { clock, scheduler: idleScheduler });
  client = gatewayClient(controlPlane.grpcAddress);
  sql = new pg.Client(parsePostgresUrl(databaseUrl));
  await sql.connect();
});

afterAll(async () => {
  await sql?.end();
  client?.close();
  await controlPlane?.stop();
  await cluster?.stop();
});

type Body = Record<string, unknown>;
interface ErrorBody {
  code: string;
  message: string;
}

async function api<T = Body>(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${controlPlane.httpUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as T };
}

async function report(token: string, query: string): Promise<AnalyticsReportResponse> {
  const response = await api<AnalyticsReportResponse>(token, 'GET', `/analytics?${query}`);
  expect(response.status).toBe(200);
  return response.body;
}

async function newTenant(): Promise<{ token: string; tenantId: string }> {
  tenantCounter += 1;
  return createTenantWithAdminToken(controlPlane.dataAccess, `analytics-tenant-${tenantCounter}`);
}

const SETTINGS = {
  currency: 'EUR',
  pricePer1kTokens: 0.5,
  modelPrices: [] as { model: string; pricePer1kTokens: number }[],
  monthlyBudget: null as number | null,
  hoursSavedPerDeliveredChange: { fix: 2, noop: 0 },
  minimumGroupSize: 1,
};

async function putSettings(token: string, settings: Partial<typeof SETTINGS> = {}): Promise<void> {
  const response = await api(token, 'PUT', '/analytics/settings', { ...SETTINGS, ...settings });
  expect(response.status).toBe(200);
}

async function connectedWorker(token: string, pool: string | null, capacity = 4): Promise<TestWorker> {
  const worker = new TestWorker(client);
  const enrollment = await api<{ token: string }>(token, 'POST', '/enrollment-tokens', pool === null ? {} : { pool });
  await worker.enroll(enrollment.body.token);
  await worker.connect({ capacity });
  await eventually(() => worker.received.find((frame) => frame.frame === 'welcome'), 'welcome');
  return worker;
}

type Kind = 'fix' | 'noop' | 'review' | 'index';

const JOB_BODIES: Readonly<Record<Kind, (repoAlias: string) => object>> = {
  fix: (repoAlias) => ({ kind: 'fix', repoAlias, baseRef: 'main', ticket: { title: 'Fix the off-by-one' } }),
  noop: () => ({ kind: 'noop' }),
  review: (repoAlias) => ({ kind: 'review', repoAlias, mergeRequest: 17 }),
  index: (repoAlias) => ({ kind: 'index', repoAlias, ref: 'main' }),
};

async function createJob(token: string, kind: Kind, repoAlias = 'web'): Promise<string> {
  const body = JOB_BODIES[kind](repoAlias);
  const created = await api<{ id: string }>(token, 'POST', '/jobs', body);
  expect(created.status).toBe(201);
  return created.body.id;
}

async function jobStatus(token: string, jobId: string): Promise<string> {
  return (await api<{ status: string }>(token, 'GET', `/jobs/${jobId}`)).body.status;
}

/** Gives the worker one credit and waits for the instruction of `jobId` (the tenant's oldest queued job). */
async function dispatchTo(worker: TestWorker, jobId: string, attempt = 1): Promise<void> {
  worker.send({ credit: { credits: 1 } });
  await eventually(
    () => (worker.instructions().some((instruction) => decodeInstructionPayload(instruction.payload).jobId === jobId && decodeInstructionPayload(instruction.payload).attempt === attempt) ? true : undefined),
    `instruction of ${jobId}#${attempt}`,
  );
}

async function ack(token: string, worker: TestWorker, jobId: string, attempt = 1): Promise<void> {
  worker.send({ ack: { attempt: { jobId, attempt } } });
  await eventually(async () => ((await jobStatus(token, jobId)) === 'RUNNING' ? true : undefined), `${jobId} RUNNING`);
}

async function sendResult(worker: TestWorker, frame: WorkerFrame): Promise<void> {
  const acks = worker.resultAcks().length;
  worker.send(frame);
  await eventually(() => (worker.resultAcks().length > acks ? true : undefined), 'result ack');
}

interface Usage {
  readonly endpointIndex: number;
  readonly endpoint: string;
  readonly model: string;
  readonly requests: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
}

interface ResultScript {
  readonly outcome?: 'succeeded' | 'tests-failed' | 'cancelled' | 'no-change';
  readonly phases?: readonly [string, number][];
  readonly usage?: readonly Usage[];
  /** Tokens without model usage, as a worker older than it reports them. */
  readonly tokensOnly?: { readonly requests: number; readonly promptTokens: number; readonly completionTokens: number };
  readonly lines?: readonly [number, number];
  readonly decisions?: readonly [RuleId, 'MANDATORY' | 'ADVISORY', 'BLOCKED' | 'CORRECTED' | 'RECORDED' | 'SHADOW_WOULD_BLOCK'][];
  /** A review's comment counts: the result of a review job, which changes, tests and delivers nothing. */
  readonly review?: { readonly critical: number; readonly major: number; readonly minor: number; readonly info: number; readonly dropped: number };
}

/** A fix job's result as a worker reports it: delivered (succeeded), refused by its tests, cancelled, or a success without a delivery. */
function resultFrame(jobId: string, attempt: number, script: ResultScript): WorkerFrame {
  const outcome = script.outcome ?? 'succeeded';
  const usage = script.usage ?? [];
  const tokens = script.tokensOnly ?? {
    requests: usage.reduce((sum, entry) => sum + entry.requests, 0),
    promptTokens: usage.reduce((sum, entry) => sum + entry.promptTokens, 0),
    completionTokens: usage.reduce((sum, entry) => sum + entry.completionTokens, 0),
  };
  const passed = outcome !== 'tests-failed';
  const [linesAdded, linesRemoved] = script.lines ?? [12, 4];
  if (script.review !== undefined) {
    return {
      result: {
        attempt: { jobId, attempt },
        outcome: 'JOB_OUTCOME_SUCCEEDED',
        phaseDurations: (script.phases ?? [['PHASE_INFERENCE', 1_000]]).map(([phase, durationMs]) => ({ phase: phase as 'PHASE_INFERENCE', durationMs })),
        tokens,
        modelUsage: usage.map((entry) => ({ ...entry })),
        review: { ...script.review },
        metadataLevel: 'METADATA_LEVEL_STANDARD',
      },
    };
  }
  return {
    result: {
      attempt: { jobId, attempt },
      outcome: outcome === 'tests-failed' ? 'JOB_OUTCOME_FAILED' : outcome === 'cancelled' ? 'JOB_OUTCOME_CANCELLED' : 'JOB_OUTCOME_SUCCEEDED',
      failureCode: outcome === 'tests-failed' ? 'TESTS_REGRESSED' : outcome === 'cancelled' ? 'CANCELLED' : 'FAILURE_CODE_UNSPECIFIED',
      failedPhase: outcome === 'tests-failed' ? 'PHASE_TEST' : outcome === 'cancelled' ? 'PHASE_INFERENCE' : 'PHASE_UNSPECIFIED',
      phaseDurations: (script.phases ?? [['PHASE_TEST', 1_000]]).map(([phase, durationMs]) => ({ phase: phase as 'PHASE_TEST', durationMs })),
      tokens,
      modelUsage: usage.map((entry) => ({ ...entry })),
      change: { filesChanged: 2, linesAdded, linesRemoved, editsProposed: 2, editsApplied: 2 },
      verification:
        outcome === 'cancelled'
          ? {}
          : {
              testsRan: true,
              testExitCode: passed ? 0 : 1,
              baseTestsRan: true,
              baseTestExitCode: 1,
              baseReportRead: true,
              reportRead: true,
              testsBefore: 10,
              failingBefore: 1,
              testsAfter: 10,
              failingAfter: passed ? 0 : 2,
              testsFixed: passed ? 1 : 0,
              testsRegressed: passed ? 0 : 1,
            },
      contextFiles: 3,
      changeMac: outcome === 'cancelled' ? Buffer.alloc(0) : Buffer.alloc(32, 0xab),
      deliveryMac: outcome === 'succeeded' ? Buffer.alloc(32, 0xcd) : Buffer.alloc(0),
      metadataLevel: 'METADATA_LEVEL_STANDARD',
      policy: {
        revision: 0,
        shadowRevision: 0,
        decisions: (script.decisions ?? []).map(([rule, level, ruleOutcome]) => ({
          rule: RULE_IDS_TO_WIRE[rule],
          level: `RULE_LEVEL_${level}` as const,
          outcome: `RULE_OUTCOME_${ruleOutcome}` as const,
        })),
      },
    },
  };
}

/**
 * Runs one job (a fix unless `kind` says otherwise) through a worker on the control plane's clock: created now,
 * dispatched after `queueMs`, acked, and its result recorded `runMs` after dispatch.
 */
async function runJob(
  token: string,
  worker: TestWorker,
  options: { kind?: Kind; repoAlias?: string; queueMs?: number; runMs?: number; result?: ResultScript },
): Promise<{ jobId: string; createdAt: number; finishedAt: number }> {
  const createdAt = nowMs;
  const jobId = await createJob(token, options.kind ?? 'fix', options.repoAlias);
  advance(options.queueMs ?? 2_000);
  await dispatchTo(worker, jobId);
  await ack(token, worker, jobId);
  advance(options.runMs ?? 60_000);
  await sendResult(worker, resultFrame(jobId, 1, options.result ?? {}));
  return { jobId, createdAt, finishedAt: nowMs };
}

const QWEN: Usage = { endpointIndex: 0, endpoint: 'main', model: 'qwen-coder', requests: 4, promptTokens: 3_000, completionTokens: 1_000 };
const LLAMA_FALLBACK: Usage = { endpointIndex: 1, endpoint: 'backup', model: 'llama', requests: 1, promptTokens: 800, completionTokens: 200 };

/** The nearest-rank percentile (the ceil(q·n)-th smallest), as the report defines it. */
function nearestRank(values: readonly number[], quantile: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(quantile * sorted.length)) - 1] ?? NaN;
}

function expectWithinResolution(estimate: number | null, exact: number): void {
  expect(estimate).not.toBeNull();
  const factor = (estimate ?? 0) / exact;
  expect(factor).toBeLessThanOrEqual(HISTOGRAM_MAX_ESTIMATE_FACTOR + 1e-9);
  expect(factor).toBeGreaterThanOrEqual(1 / HISTOGRAM_MAX_ESTIMATE_FACTOR - 1e-9);
}

/** The tenant's rollup rows as text, all-zero rows left out (a job moved off a row leaves it at zero). */
async function rollupSnapshot(tenantId: string): Promise<Record<string, string[]>> {
  const tables = ['AnalyticsCohortRollup', 'AnalyticsOutcomeRollup', 'AnalyticsTokenRollup', 'AnalyticsPolicyRollup', 'AnalyticsFleetRollup', 'AnalyticsJobState'];
  const snapshot: Record<string, string[]> = {};
  for (const table of tables) {
    const rows = (await sql.query(`SELECT * FROM "${table}" WHERE "tenantId" = $1`, [tenantId])).rows as Record<string, unknown>[];
    snapshot[table] = rows
      .filter((row) => table !== 'AnalyticsCohortRollup' || ['created', 'ran', 'testsPassed', 'delivered', 'deliveredUntested', 'implausible'].some((column) => row[column] !== 0))
      .map((row) => JSON.stringify(Object.fromEntries(Object.entries(row).sort(([a], [b]) => (a < b ? -1 : 1)))))
      .sort();
  }
  return snapshot;
}

describe('analytics kept current as jobs change', () => {
  it('counts a scripted set of jobs: created, ran, tests passed, delivered, failed, and leaves implausible results out', async () => {
    setClock('2026-02-02T09:00:00Z');
    const { token } = await newTenant();
    await putSettings(token);
    const alpha = await connectedWorker(token, 'alpha');
    const delivered = await runJob(token, alpha, { result: { usage: [QWEN], phases: [['PHASE_INFERENCE', 20_000], ['PHASE_TEST', 5_000]], lines: [30, 10] } });
    await runJob(token, alpha, { result: { outcome: 'tests-failed', usage: [QWEN, LLAMA_FALLBACK] } });
    await runJob(token, alpha, { kind: 'noop', result: { outcome: 'no-change' } });
    // A success that delivered nothing (no delivery MAC) is not a delivered change.
    await runJob(token, alpha, { result: { outcome: 'no-change', usage: [QWEN] } });
    // Phases longer than the attempt has existed: recorded, flagged implausible, left out.
    await runJob(token, alpha, { runMs: 5_000, result: { usage: [QWEN], phases: [['PHASE_TEST', 3_600_000]] } });
    // Refused by the worker's policy: failed, never ran, its rule counted.
    const refused = await createJob(token, 'fix', 'api');
    advance(1_000);
    await dispatchTo(alpha, refused);
    alpha.send({ rejected: { attempt: { jobId: refused, attempt: 1 }, failureCode: 'TASK_FORBIDDEN_BY_POLICY', rules: [RULE_IDS_TO_WIRE['repositories']] } });
    await eventually(async () => ((await jobStatus(token, refused)) === 'FAILED' ? true : undefined), 'refused job FAILED');
    // Never dispatched: created, and nothing else.
    await createJob(token, 'fix', 'api');

    const figures = await report(token, 'from=2026-02-02&to=2026-02-02');
    expect(figures.funnel).toEqual({ attribution: 'creation-day', created: 6, ran: 4, testsPassed: 2, delivered: 1, deliveredWithoutTestsPassed: 0, notYetDispatched: 1 });
    expect(figures.leftOut).toEqual({ implausibleCreated: 1, implausibleFinished: 1 });
    expect(figures.successRate).toMatchObject({ ran: 4, delivered: 1, successRate: 0.25 });
    expect(figures.time.timeToChange).toEqual({ count: 1, p50Ms: expect.any(Number), p90Ms: expect.any(Number) });
    expectWithinResolution(figures.time.timeToChange.p50Ms, delivered.finishedAt - delivered.createdAt);
    // Durations are of fix jobs: the noop job's queue wait is not among them.
    expect(figures.time.queueWait.count).toBe(4);
    expect(figures.models.usage).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ endpoint: 'main', model: 'qwen-coder', jobs: 3, promptTokens: 9_000, completionTokens: 3_000, cost: 6 }),
        expect.objectContaining({ endpoint: 'backup', model: 'llama', jobs: 1, promptTokens: 800, completionTokens: 200, cost: 0.5 }),
      ]),
    );
    expect(figures.models.fallback).toEqual({ jobsWithModelUsage: 3, jobsWithFallback: 1, rate: 0.3333 });
    expect(figures.cost).toMatchObject({ currency: 'EUR', total: 6.5, jobsFinished: 5, perJob: 1.3, deliveredChanges: 1, perDeliveredChange: 6.5 });
    expect(figures.policy.rules).toEqual([expect.objectContaining({ rule: 'repositories', jobs: 1, blockedMandatory: 1 })]);
    expect(figures.hoursSaved).toMatchObject({ hours: 2, deliveredChanges: 1, byKind: [expect.objectContaining({ kind: 'fix', deliveredChanges: 1, hoursPerDeliveredChange: 2, hours: 2 }), expect.objectContaining({ kind: 'noop', hours: 0 })] });
    expect(figures.hoursSaved.assumption).toContain('fix: 2 h per delivered change');
    expect(figures.secondary).toEqual({ deliveredChanges: 1, linesAdded: 30, linesRemoved: 10, filesChanged: 2 });
    expect(figures.successRate.byPool).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'alpha', jobs: 5, ran: 4, delivered: 1 }),
        expect.objectContaining({ key: '(not dispatched)', jobs: 1, ran: 0 }),
      ]),
    );
    expect(figures.successRate.byModel).toEqual(expect.arrayContaining([expect.objectContaining({ key: 'qwen-coder', jobs: 3, ran: 3, delivered: 1 })]));
    expect(figures.daily).toEqual([expect.objectContaining({ date: '2026-02-02', created: 6, delivered: 1, cost: 6.5 })]);
    alpha.close();
  });

  it('reads percentiles off the histograms within the documented resolution', async () => {
    setClock('2026-03-02T06:00:00Z');
    const { token } = await newTenant();
    await putSettings(token);
    const worker = await connectedWorker(token, 'alpha');
    const runTimes = [1_500, 9_000, 42_000, 95_000, 180_000, 610_000, 1_300_000, 2_700_000, 7_200_000, 20_000_000];
    const queueTimes = [50, 400, 1_000, 3_333, 12_000, 45_000, 90_000, 300_000, 1_000_000, 4_000_000];
    const testPhase = [80, 150, 999, 2_500, 7_777, 15_000, 33_000, 70_000, 120_000, 800_000];
    const timesToChange: number[] = [];
    for (const [index, runMs] of runTimes.entries()) {
      const queueMs = queueTimes[index] ?? 0;
      const phaseMs = Math.min(testPhase[index] ?? 0, runMs);
      const job = await runJob(token, worker, { queueMs, runMs, result: { usage: [QWEN], phases: [['PHASE_TEST', phaseMs]] } });
      timesToChange.push(job.finishedAt - job.createdAt);
    }
    const figures = await report(token, 'from=2026-03-01&to=2026-03-31');
    expect(figures.time.timeToChange.count).toBe(10);
    expectWithinResolution(figures.time.timeToChange.p50Ms, nearestRank(timesToChange, 0.5));
    expectWithinResolution(figures.time.timeToChange.p90Ms, nearestRank(timesToChange, 0.9));
    expectWithinResolution(figures.time.queueWait.p50Ms, nearestRank(queueTimes, 0.5));
    expectWithinResolution(figures.time.queueWait.p90Ms, nearestRank(queueTimes, 0.9));
    const reportedPhases = testPhase.map((ms, index) => Math.min(ms, runTimes[index] ?? 0));
    const test = figures.time.phases.find((phase) => phase.phase === 'PHASE_TEST');
    expect(test?.count).toBe(10);
    expectWithinResolution(test?.p90Ms ?? null, nearestRank(reportedPhases, 0.9));
    expectWithinResolution(test?.p50Ms ?? null, nearestRank(reportedPhases, 0.5));
    expect(figures.time.resolution).toEqual({ bucketFactor: 1.1892, maxRelativeError: 0.0905, floorMs: 100, ceilingMs: 3_355_443_200 });
    worker.close();
  });

  it('filters by repository, pool and kind; a pool filter counts only jobs a worker of that pool took', async () => {
    setClock('2026-04-06T10:00:00Z');
    const { token } = await newTenant();
    await putSettings(token);
    const alpha = await connectedWorker(token, 'alpha');
    const beta = await connectedWorker(token, 'beta');
    await runJob(token, alpha, { repoAlias: 'web', result: { usage: [QWEN] } });
    await runJob(token, alpha, { repoAlias: 'api', result: { outcome: 'tests-failed', usage: [QWEN] } });
    await runJob(token, beta, { repoAlias: 'web', result: { usage: [QWEN] } });
    await runJob(token, beta, { kind: 'noop', result: { outcome: 'no-change' } });
    await createJob(token, 'fix', 'web');
    const day = 'from=2026-04-06&to=2026-04-06';

    const web = await report(token, `${day}&repoAlias=web`);
    expect(web.funnel).toMatchObject({ created: 3, ran: 2, delivered: 2, notYetDispatched: 1 });
    expect(web.filters).toEqual({ repoAlias: 'web', pool: null, kind: null });
    const alphaOnly = await report(token, `${day}&pool=alpha`);
    expect(alphaOnly.funnel).toMatchObject({ created: 2, ran: 2, delivered: 1, notYetDispatched: 0 });
    expect(alphaOnly.notes.join(' ')).toContain('Pool alpha');
    const noop = await report(token, `${day}&kind=noop`);
    expect(noop.funnel).toMatchObject({ created: 1, ran: 1, testsPassed: 0, delivered: 0 });
    expect(noop.filters.kind).toBe('noop');
    const betaWeb = await report(token, `${day}&pool=beta&repoAlias=web&kind=fix`);
    expect(betaWeb.funnel).toMatchObject({ created: 1, ran: 1, delivered: 1 });
    expect(betaWeb.cost.jobsFinished).toBe(1);
    // Durations are kept per repository and per pool, not per pair.
    expect(betaWeb.time).toMatchObject({ percentilesAvailable: false, timeToChange: { count: 0, p50Ms: null } });
    expect(web.time).toMatchObject({ percentilesAvailable: true, timeToChange: { count: 2 } });
    expect(alphaOnly.time.timeToChange.count).toBe(1);
    expect(noop.time.queueWait.count).toBe(0);
    const none = await report(token, `${day}&repoAlias=nowhere`);
    expect(none.funnel).toMatchObject({ created: 0, ran: 0, delivered: 0 });
    alpha.close();
    beta.close();
  });

  it('counts review and index jobs in cost and tokens, never as delivered changes, and sums the review comments', async () => {
    setClock('2026-04-13T10:00:00Z');
    const { token } = await newTenant();
    await putSettings(token);
    const worker = await connectedWorker(token, 'alpha');
    await runJob(token, worker, { repoAlias: 'web', result: { usage: [QWEN] } });
    await runJob(token, worker, { repoAlias: 'web', result: { outcome: 'tests-failed', usage: [QWEN] } });
    const fixesOnly = await report(token, 'from=2026-04-13&to=2026-04-13');
    await runJob(token, worker, { kind: 'review', repoAlias: 'web', result: { usage: [QWEN], review: { critical: 1, major: 2, minor: 3, info: 4, dropped: 5 } } });
    await runJob(token, worker, { kind: 'review', repoAlias: 'api', result: { usage: [LLAMA_FALLBACK], review: { critical: 0, major: 1, minor: 0, info: 2, dropped: 0 } } });
    await runJob(token, worker, { kind: 'index', repoAlias: 'web', result: { outcome: 'no-change' } });
    const day = 'from=2026-04-13&to=2026-04-13';

    const all = await report(token, day);
    // The change figures are the fixes' alone, as before the reviews and the index ran.
    expect(all.funnel).toEqual(fixesOnly.funnel);
    expect(all.successRate).toEqual(fixesOnly.successRate);
    expect(all.funnel).toMatchObject({ created: 2, ran: 2, delivered: 1 });
    expect(all.successRate).toMatchObject({ ran: 2, delivered: 1, successRate: 0.5 });
    expect(all.time.timeToChange.count).toBe(1);
    expect(all.time.queueWait.count).toBe(2);
    expect(all.hoursSaved).toMatchObject({ hours: 2, deliveredChanges: 1 });
    expect(all.secondary.deliveredChanges).toBe(1);
    expect(all.daily).toEqual([expect.objectContaining({ created: 2, delivered: 1 })]);
    // Cost and tokens count every kind: 3 × 4,000 qwen tokens and 1,000 llama tokens at 0.5 per 1,000.
    expect(all.cost).toMatchObject({ total: 6.5, jobsFinished: 5, deliveredChanges: 1 });
    expect(all.models.usage).toEqual(expect.arrayContaining([expect.objectContaining({ model: 'qwen-coder', jobs: 3 }), expect.objectContaining({ model: 'llama', jobs: 1 })]));
    expect(all.reviews).toEqual({ attribution: 'finish-day', finished: 2, succeeded: 2, withCounts: 2, commentsPosted: { critical: 1, major: 3, minor: 3, info: 6 }, commentsDropped: 5 });
    expect(all.notes.join(' ')).toContain('review and index jobs deliver no change by design');

    const reviews = await report(token, `${day}&kind=review`);
    expect(reviews.filters.kind).toBe('review');
    expect(reviews.funnel).toMatchObject({ created: 2, ran: 2, testsPassed: 0, delivered: 0 });
    expect(reviews.cost).toMatchObject({ total: 2.5, jobsFinished: 2, deliveredChanges: 0, perDeliveredChange: null });
    expect(reviews.time.queueWait.count).toBe(0);
    expect(reviews.reviews.finished).toBe(2);
    expect((await report(token, `${day}&kind=review&repoAlias=api`)).reviews).toMatchObject({ finished: 1, commentsPosted: { critical: 0, major: 1, minor: 0, info: 2 } });
    expect((await report(token, `${day}&kind=review&pool=beta`)).reviews.finished).toBe(0);
    expect((await report(token, `${day}&kind=fix`)).reviews.finished).toBe(0);
    const index = await report(token, `${day}&kind=index`);
    expect(index.funnel).toMatchObject({ created: 1, ran: 1, delivered: 0 });
    expect(index.cost).toMatchObject({ jobsFinished: 1, total: 0 });
    expect(index.notes.join(' ')).toContain('an index job changes nothing');
    worker.close();
  });

  it('merges breakdown slices smaller than the minimum group size, never showing one alone', async () => {
    setClock('2026-05-04T10:00:00Z');
    const { token } = await newTenant();
    await putSettings(token, { minimumGroupSize: 3 });
    const worker = await connectedWorker(token, 'alpha');
    for (const repoAlias of ['web', 'web', 'web', 'api', 'api', 'api', 'docs', 'cli']) await runJob(token, worker, { repoAlias, result: { usage: [QWEN] } });
    const figures = await report(token, 'from=2026-05-04&to=2026-05-04');
    expect(figures.successRate.byRepository.map((slice) => [slice.key, slice.jobs, slice.other, slice.mergedSlices])).toEqual([
      ['api', 3, false, 1],
      ['web', 3, false, 1],
      ['(other)', 2, true, 2],
    ]);

    // One small slice (cli) would be shown alone under another name: the smallest kept one (docs) joins it.
    await runJob(token, worker, { repoAlias: 'docs', result: { usage: [QWEN] } });
    await putSettings(token, { minimumGroupSize: 2 });
    const again = await report(token, 'from=2026-05-04&to=2026-05-04');
    expect(again.successRate.byRepository.map((slice) => [slice.key, slice.jobs, slice.mergedSlices])).toEqual([
      ['api', 3, 1],
      ['web', 3, 1],
      ['(other)', 3, 2],
    ]);
    expect(again.models.usage).toEqual([expect.objectContaining({ model: 'qwen-coder', jobs: 9, other: false })]);
    worker.close();
  });

  it('validates the settings, audits what changed, and lets only analytics:write change them', async () => {
    setClock('2026-06-01T10:00:00Z');
    const { token, tenantId } = await newTenant();
    expect((await api(token, 'GET', '/analytics/settings')).body).toEqual({
      currency: 'USD',
      pricePer1kTokens: 0,
      modelPrices: [],
      monthlyBudget: null,
      hoursSavedPerDeliveredChange: { fix: 0, noop: 0 },
      minimumGroupSize: 5,
      updatedAt: null,
    });
    const cases: [unknown, string][] = [
      [{ ...SETTINGS, currency: 'eur' }, 'currency: expected an ISO 4217 currency code such as EUR or USD'],
      [{ ...SETTINGS, currency: 'XYZ' }, 'currency: expected an ISO 4217 currency code such as EUR or USD'],
      [{ ...SETTINGS, pricePer1kTokens: -1 }, 'pricePer1kTokens: expected a number from 0 to 1000 with at most 6 decimals'],
      [{ ...SETTINGS, pricePer1kTokens: 0.1234567 }, 'pricePer1kTokens: expected a number from 0 to 1000 with at most 6 decimals'],
      [{ ...SETTINGS, pricePer1kTokens: '1' }, 'pricePer1kTokens: expected a number from 0 to 1000 with at most 6 decimals'],
      [{ ...SETTINGS, monthlyBudget: -5 }, 'monthlyBudget: expected null or an amount from 0 to 1000000000000 with at most 2 decimals'],
      [{ ...SETTINGS, monthlyBudget: undefined }, 'monthlyBudget: expected a number or null (required)'],
      [{ ...SETTINGS, minimumGroupSize: 0 }, 'minimumGroupSize: expected an integer from 1 to 1000'],
      [{ ...SETTINGS, minimumGroupSize: 1001 }, 'minimumGroupSize: expected an integer from 1 to 1000'],
      [{ ...SETTINGS, hoursSavedPerDeliveredChange: { fix: 101, noop: 0 } }, 'hoursSavedPerDeliveredChange.fix: expected a number of hours from 0 to 100 with at most 2 decimals'],
      [{ ...SETTINGS, hoursSavedPerDeliveredChange: { fix: 1 } }, 'hoursSavedPerDeliveredChange.noop: expected a number (required)'],
      [{ ...SETTINGS, modelPrices: [{ model: 'has space', pricePer1kTokens: 1 }] }, 'modelPrices."0".model: expected a model name matching ^[A-Za-z0-9._:/@+-]{1,200}$'],
      [{ ...SETTINGS, modelPrices: [{ model: 'a', pricePer1kTokens: 1 }, { model: 'a', pricePer1kTokens: 2 }] }, 'modelPrices: expected each model at most once'],
      [{ ...SETTINGS, modelPrices: Array.from({ length: 101 }, (_, index) => ({ model: `m${index}`, pricePer1kTokens: 1 })) }, 'modelPrices: expected at most 100 model prices'],
      [{ ...SETTINGS, extra: true }, 'extra: unknown property'],
    ];
    for (const [body, message] of cases) {
      const response = await api<ErrorBody>(token, 'PUT', '/analytics/settings', body);
      expect({ status: response.status, message: response.body.message }).toEqual({ status: 400, message });
    }

    const changed = await api(token, 'PUT', '/analytics/settings', { ...SETTINGS, modelPrices: [{ model: 'qwen-coder', pricePer1kTokens: 0.25 }], monthlyBudget: 150.5 });
    expect(changed).toEqual({ status: 200, body: { ...SETTINGS, modelPrices: [{ model: 'qwen-coder', pricePer1kTokens: 0.25 }], monthlyBudget: 150.5, updatedAt: '2026-06-01T10:00:00.000Z' } });
    advance(60_000);
    // Saving the same again changes nothing and is not audited.
    expect((await api(token, 'PUT', '/analytics/settings', { ...SETTINGS, modelPrices: [{ model: 'qwen-coder', pricePer1kTokens: 0.25 }], monthlyBudget: 150.5 })).body).toMatchObject({ updatedAt: '2026-06-01T10:00:00.000Z' });
    const entries = (await sql.query(`SELECT "action", "target", "details", "actorName" FROM "AdminAuditEntry" WHERE "tenantId" = $1 AND "action" LIKE 'analytics.%'`, [tenantId])).rows;
    expect(entries).toEqual([
      {
        action: 'analytics.settings-changed',
        target: 'analytics-settings',
        actorName: 'integration test',
        details: {
          changedFields: 'currency,pricePer1kTokens,modelPrices,monthlyBudget,hoursSavedPerDeliveredChange.FIX,minimumGroupSize',
          currency: 'EUR',
          pricePer1kTokens: 0.5,
          modelPrices: 1,
          monthlyBudget: 150.5,
          'hoursSavedPerDeliveredChange.FIX': 2,
          minimumGroupSize: 1,
        },
      },
    ]);

    const viewer = await createApiToken(controlPlane.dataAccess, tenantId, ROLE_SCOPES.VIEWER, 'dashboard');
    expect((await api(viewer, 'GET', '/analytics/settings')).status).toBe(200);
    expect((await api(viewer, 'GET', '/analytics')).status).toBe(200);
    expect((await api<ErrorBody>(viewer, 'PUT', '/analytics/settings', SETTINGS)).body.code).toBe('FORBIDDEN');
    const manager = await createApiToken(controlPlane.dataAccess, tenantId, ROLE_SCOPES.MANAGER, 'manager');
    expect((await api(manager, 'PUT', '/analytics/settings', { ...SETTINGS, minimumGroupSize: 7 })).status).toBe(200);
    const jobsOnly = await createApiToken(controlPlane.dataAccess, tenantId, ['jobs:read'], 'jobs reader');
    expect((await api(jobsOnly, 'GET', '/analytics')).status).toBe(403);
  });

  it('prices tokens per model and burns the monthly budget at the trailing 7-day rate', async () => {
    setClock('2026-07-01T12:00:00Z');
    const { token } = await newTenant();
    await putSettings(token, { pricePer1kTokens: 1, modelPrices: [{ model: 'llama', pricePer1kTokens: 0.1 }], monthlyBudget: 100 });
    const worker = await connectedWorker(token, 'alpha');
    // July 1st–20th: one job a day, 4,000 qwen tokens (4.00) and 1,000 llama tokens (0.10): 4.10 a day.
    for (let day = 1; day <= 20; day += 1) {
      setClock(`2026-07-${String(day).padStart(2, '0')}T12:00:00Z`);
      await runJob(token, worker, { result: { usage: [QWEN, LLAMA_FALLBACK] } });
    }
    setClock('2026-07-21T09:00:00Z');
    const figures = await report(token, 'from=2026-07-01&to=2026-07-21');
    expect(figures.cost).toMatchObject({ total: 82, jobsFinished: 20, perJob: 4.1, deliveredChanges: 20, perDeliveredChange: 4.1, pricePer1kTokens: 1, modelPriceOverrides: 1 });
    // 82 spent of 100; 4.10 a day over July 14th–20th: 18 / 4.1 = 4.39… → 4.3 days left.
    expect(figures.budget).toEqual({ currency: 'EUR', monthlyBudget: 100, month: '2026-07', spentThisMonth: 82, remaining: 18, trailing7DayDailySpend: 4.1, daysLeft: 4.3 });
    expect(figures.models.usage).toEqual([
      expect.objectContaining({ model: 'llama', jobs: 20, cost: 2 }),
      expect.objectContaining({ model: 'qwen-coder', jobs: 20, cost: 80 }),
    ]);

    // The budget is tenant-wide: a filter that matches nothing leaves it as it is.
    expect((await report(token, 'from=2026-07-01&to=2026-07-21&repoAlias=elsewhere')).budget.spentThisMonth).toBe(82);
    // Over budget: nothing left.
    await putSettings(token, { pricePer1kTokens: 1, modelPrices: [{ model: 'llama', pricePer1kTokens: 0.1 }], monthlyBudget: 50 });
    expect((await report(token, 'from=2026-07-01&to=2026-07-21')).budget).toMatchObject({ remaining: -32, daysLeft: 0 });
    // A new month: its spend starts at zero; the 7 days before today (one job, on July 29th) give the rate.
    setClock('2026-07-29T12:00:00Z');
    await runJob(token, worker, { result: { usage: [QWEN, LLAMA_FALLBACK] } });
    setClock('2026-08-02T09:00:00Z');
    expect((await report(token, 'from=2026-07-01&to=2026-08-01')).budget).toMatchObject({ month: '2026-08', spentThisMonth: 0, remaining: 50, trailing7DayDailySpend: 0.5857, daysLeft: 85.3 });
    worker.close();
  });

  it('counts busy and online worker slot time per day, including a connection still open', async () => {
    setClock('2026-08-10T22:00:00Z');
    const { token } = await newTenant();
    const worker = await connectedWorker(token, 'alpha', 2);
    // Online from 22:00 with 2 slots; one attempt runs 22:30–01:30, across midnight.
    advance(30 * 60_000);
    await runJob(token, worker, { queueMs: 0, runMs: 3 * 3_600_000, result: { usage: [QWEN] } });
    worker.close();
    await eventually(async () => ((await sql.query(`SELECT 1 FROM "AnalyticsWorkerSession" WHERE "workerId" = $1`, [worker.workerId])).rowCount === 0 ? true : undefined), 'session closed');
    setClock('2026-08-11T04:00:00Z');
    const welcomes = () => worker.received.filter((frame) => frame.frame === 'welcome').length;
    const before = welcomes();
    await worker.connect({ capacity: 2 });
    await eventually(() => (welcomes() > before ? true : undefined), 'welcome again');
    setClock('2026-08-11T06:00:00Z');
    const figures = await report(token, 'from=2026-08-10&to=2026-08-11');
    // Online: 22:00–01:30 then 04:00–06:00 (still open), 2 slots: 4 h on the 10th, 3 h + 4 h on the 11th.
    expect(figures.fleet).toEqual({ attribution: 'slot-time-day', filtersApplied: ['pool'], onlineSlotHours: 11, busySlotHours: 3, idleSlotHours: 8, utilisation: 0.2727 });
    expect(figures.daily.map((point) => [point.date, point.busySlotHours, point.idleSlotHours])).toEqual([
      ['2026-08-10', 1.5, 2.5],
      ['2026-08-11', 1.5, 5.5],
    ]);
    expect((await report(token, 'from=2026-08-10&to=2026-08-11&pool=alpha')).fleet.busySlotHours).toBe(3);
    expect((await report(token, 'from=2026-08-10&to=2026-08-11&pool=beta')).fleet.onlineSlotHours).toBe(0);
    worker.close();
  });

  it('rebuilds from the jobs table exactly what was kept incrementally, and reads the same as a scan', async () => {
    setClock('2026-09-07T08:00:00Z');
    const { token, tenantId } = await newTenant();
    const alpha = await connectedWorker(token, 'alpha');
    const plain = await connectedWorker(token, null);
    await runJob(token, alpha, { result: { usage: [QWEN], decisions: [['max-files-changed', 'MANDATORY', 'CORRECTED'], ['secrets', 'ADVISORY', 'RECORDED']] } });
    await runJob(token, plain, { repoAlias: 'api', result: { outcome: 'tests-failed', tokensOnly: { requests: 3, promptTokens: 2_000, completionTokens: 500 }, decisions: [['tests-must-pass', 'MANDATORY', 'BLOCKED']] } });
    advance(20 * 3_600_000);
    await runJob(token, alpha, { kind: 'noop', result: { outcome: 'no-change' } });
    await runJob(token, alpha, { runMs: 2_000, result: { phases: [['PHASE_TEST', 50_000]], usage: [QWEN] } });
    await runJob(token, plain, { kind: 'review', result: { usage: [QWEN], review: { critical: 2, major: 0, minor: 1, info: 0, dropped: 3 } } });
    await runJob(token, alpha, { kind: 'index', repoAlias: 'api', result: { outcome: 'no-change' } });
    // Lease expired on a worker of one pool, then run to the end on another.
    const moved = await createJob(token, 'fix', 'web');
    await dispatchTo(alpha, moved);
    await ack(token, alpha, moved);
    advance(2 * 3_600_000);
    const expiry = await controlPlane.dataAccess.jobs.expireLease({ jobId: moved, attempt: 1 }, clock.now());
    expect(expiry).toMatchObject({ requeued: true });
    // What the lease reaper does after an expiry it made.
    controlPlane.app.get<JobDispatcher>(JOB_DISPATCHER).enqueue({ jobId: moved, tenantId, pool: expiry?.pool ?? null, currentAttempt: 1 });
    await dispatchTo(plain, moved, 2);
    plain.send({ ack: { attempt: { jobId: moved, attempt: 2 } } });
    await eventually(async () => ((await jobStatus(token, moved)) === 'RUNNING' ? true : undefined), 'second attempt RUNNING');
    advance(30 * 60_000);
    await sendResult(plain, resultFrame(moved, 2, { usage: [QWEN, LLAMA_FALLBACK], decisions: [['secrets', 'MANDATORY', 'SHADOW_WOULD_BLOCK']] }));
    // Turned away by a full worker, then cancelled while queued; then retried.
    const cancelled = await createJob(token, 'fix', 'web');
    await dispatchTo(alpha, cancelled);
    alpha.send({ rejected: { attempt: { jobId: cancelled, attempt: 1 }, failureCode: 'WORKER_AT_CAPACITY' } });
    await eventually(async () => ((await jobStatus(token, cancelled)) === 'QUEUED' ? true : undefined), 'requeued');
    expect((await api(token, 'POST', `/jobs/${cancelled}/cancel`)).status).toBe(200);
    const retried = await api<{ id: string }>(token, 'POST', `/jobs/${cancelled}/retry`);
    expect(retried.status).toBe(201);
    // The retry is still running while the figures are read.
    await dispatchTo(alpha, retried.body.id);
    await ack(token, alpha, retried.body.id);

    const incremental = await rollupSnapshot(tenantId);
    expect(incremental['AnalyticsCohortRollup']?.length).toBeGreaterThan(0);
    expect(incremental['AnalyticsPolicyRollup']?.length).toBeGreaterThan(0);
    await controlPlane.dataAccess.analytics.rebuild(tenantId);
    expect(await rollupSnapshot(tenantId)).toEqual(incremental);

    const scope = { tenantId, from: '2026-09-01', to: '2026-09-30' };
    const options = { now: clock.now(), spendFrom: '2026-09-01', spendTo: '2026-09-08' };
    const fromRollups = await controlPlane.dataAccess.analytics.aggregate(scope, options);
    expect(fromRollups.cohortByDay.length).toBe(2);
    expect(fromRollups.reviews).toMatchObject({ finished: 1, withCounts: 1, critical: 2, minor: 1, dropped: 3 });
    expect(await controlPlane.dataAccess.analytics.aggregateByScanning(scope, options)).toEqual(fromRollups);
    const filters = [{ pool: 'alpha' }, { repoAlias: 'web' }, { kind: 'FIX' as const }, { kind: 'NOOP' as const }, { kind: 'REVIEW' as const }, { kind: 'INDEX' as const }];
    for (const filter of [...filters, { pool: '(none)' }, { repoAlias: 'web', pool: 'alpha' }, { kind: 'REVIEW' as const, pool: '(none)' }]) {
      expect(await controlPlane.dataAccess.analytics.aggregateByScanning({ ...scope, ...filter }, options)).toEqual(await controlPlane.dataAccess.analytics.aggregate({ ...scope, ...filter }, options));
    }
    alpha.close();
    plain.close();
  });

  it('exports the same figures as CSV, one section per table', async () => {
    setClock('2026-10-05T08:00:00Z');
    const { token } = await newTenant();
    await putSettings(token, { monthlyBudget: 1000 });
    const worker = await connectedWorker(token, 'alpha');
    await runJob(token, worker, { result: { usage: [QWEN], decisions: [['secrets', 'ADVISORY', 'RECORDED']] } });
    await runJob(token, worker, { result: { outcome: 'tests-failed', usage: [LLAMA_FALLBACK] } });
    const query = 'from=2026-10-01&to=2026-10-05';
    const json = await report(token, query);
    const response = await fetch(`${controlPlane.httpUrl}/api/v1/analytics/export.csv?${query}`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="airlock-analytics-2026-10-01-to-2026-10-05.csv"');
    const sections = parseCsvSections(await response.text());

    const cell = (value: unknown): string => (value === null || value === undefined ? '' : String(value));
    const only = (title: string): Record<string, string> => {
      const section = sections.get(title);
      expect(section?.rows.length).toBe(1);
      return Object.fromEntries((section?.columns ?? []).map((column, index) => [column, section?.rows[0]?.[index] ?? '']));
    };
    const { attribution: funnelAttribution, ...funnel } = json.funnel;
    expect(only('funnel')).toEqual(Object.fromEntries(Object.entries({ attribution: funnelAttribution, ...funnel }).map(([key, value]) => [key, cell(value)])));
    expect(only('cost')).toEqual(Object.fromEntries(Object.entries(json.cost).filter(([key]) => key !== 'attribution').map(([key, value]) => [key, cell(value)])));
    expect(only('budget')).toEqual(Object.fromEntries(Object.entries(json.budget).map(([key, value]) => [key, cell(value)])));
    expect(only('secondary')).toEqual(Object.fromEntries(Object.entries(json.secondary).map(([key, value]) => [key, cell(value)])));
    expect(sections.get('model usage')?.rows).toEqual(json.models.usage.map((slice) => [slice.endpoint, slice.model, slice.other, slice.mergedSlices, slice.jobs, slice.requests, slice.promptTokens, slice.completionTokens, slice.cost].map(cell)));
    expect(sections.get('policy')?.rows).toEqual(json.policy.rules.map((rule) => [rule.rule, rule.other, rule.mergedSlices, rule.jobs, rule.blockedMandatory, rule.blockedAdvisory, rule.recorded, rule.corrected, rule.shadowWouldBlock].map(cell)));
    expect(sections.get('daily')?.rows).toEqual(json.daily.map((point) => [point.date, point.created, point.delivered, point.cost, point.busySlotHours, point.idleSlotHours].map(cell)));
    expect(sections.get('time')?.rows[0]).toEqual(['timeToChange', json.time.timeToChange.count, json.time.timeToChange.p50Ms, json.time.timeToChange.p90Ms].map(cell));
    expect(sections.get('success rate')?.rows.filter((row) => row[0] === 'repository')).toEqual(
      json.successRate.byRepository.map((slice) => ['repository', slice.key, slice.other, slice.mergedSlices, slice.jobs, slice.ran, slice.delivered, slice.successRate].map(cell)),
    );
    expect(sections.get('notes')?.rows.map((row) => row[0])).toEqual(json.notes);
    expect(json.funnel.created).toBe(2);
    worker.close();
  });

  it('counts the merge requests workers report of the chains created in the range, by repository, in the JSON and the CSV', async () => {
    setClock('2026-07-06T08:00:00Z');
    const { token } = await newTenant();
    const worker = await connectedWorker(token, 'alpha');
    let seq = 0;
    const outcome = async (deliveryJobId: string, changes: Partial<NonNullable<WorkerFrame['deliveryOutcome']>>) => {
      // No answer comes to an outcome; the answer to the heartbeat sent after it says it was handled.
      seq += 1;
      worker.send({ deliveryOutcome: { deliveryJobId, state: 'MERGE_REQUEST_STATE_OPEN', metadataLevel: 'METADATA_LEVEL_STANDARD_BUCKETED', ...changes } });
      worker.send({ heartbeat: { running: [], freeSlots: 4, seq } });
      await eventually(() => worker.received.find((frame) => frame.leaseRenewal?.heartbeatSeq === seq), 'the heartbeat answer');
    };
    const merged = await runJob(token, worker, { repoAlias: 'web' });
    await outcome(merged.jobId, { state: 'MERGE_REQUEST_STATE_MERGED', humanCommits: 2, firstReviewAfterS: 7_200, reviewRounds: 2, mergedAfterS: 86_400, final: true });
    const waiting = await runJob(token, worker, { repoAlias: 'web' });
    await outcome(waiting.jobId, { firstReviewAfterS: 3_600, reviewRounds: 1 });
    const closed = await runJob(token, worker, { repoAlias: 'api' });
    await outcome(closed.jobId, { state: 'MERGE_REQUEST_STATE_CLOSED', final: true });

    const json = await report(token, 'from=2026-07-01&to=2026-07-06');
    expect(json.mergeRequests).toEqual({
      attribution: 'creation-day',
      reported: 3,
      open: 1,
      merged: 1,
      closedUnmerged: 1,
      reverted: 0,
      withFigures: 3,
      reworkedByPeople: 1,
      timeToFirstReview: { count: 2, p50S: 3_600, p90S: 7_200 },
      timeToMerge: { count: 1, p50S: 86_400, p90S: 86_400 },
    });
    expect((await report(token, 'from=2026-07-01&to=2026-07-06&repoAlias=api')).mergeRequests).toMatchObject({ reported: 1, closedUnmerged: 1, timeToFirstReview: { count: 0, p50S: null } });
    expect((await report(token, 'from=2026-07-07&to=2026-07-08')).mergeRequests.reported).toBe(0);

    const csv = await fetch(`${controlPlane.httpUrl}/api/v1/analytics/export.csv?from=2026-07-01&to=2026-07-06`, { headers: { authorization: `Bearer ${token}` } });
    const section = parseCsvSections(await csv.text()).get('merge requests');
    expect(section?.rows).toEqual([['creation-day', '3', '1', '1', '1', '0', '3', '1', '2', '3600', '7200', '1', '86400', '86400']]);
    worker.close();
  });

  it("never counts another tenant's jobs", async () => {
    setClock('2026-11-02T08:00:00Z');
    const mine = await newTenant();
    const theirs = await newTenant();
    await putSettings(theirs.token);
    const theirWorker = await connectedWorker(theirs.token, 'alpha');
    await runJob(theirs.token, theirWorker, { result: { usage: [QWEN], decisions: [['secrets', 'ADVISORY', 'RECORDED']] } });
    const empty = await report(mine.token, 'from=2026-11-01&to=2026-11-30');
    expect(empty.funnel).toMatchObject({ created: 0, ran: 0, delivered: 0 });
    expect(empty.models.usage).toEqual([]);
    expect(empty.policy.rules).toEqual([]);
    expect(empty.fleet.onlineSlotHours).toBe(0);
    expect(empty.cost.total).toBe(0);
    expect((await report(theirs.token, 'from=2026-11-01&to=2026-11-30')).funnel).toMatchObject({ created: 1, delivered: 1 });
    theirWorker.close();
  });

  it('refuses bad filters with 400, naming the field', async () => {
    setClock('2026-12-15T08:00:00Z');
    const { token } = await newTenant();
    const cases: [string, string][] = [
      ['from=2026-02-30', 'from: expected a date as YYYY-MM-DD (UTC), e.g. 2026-12-01'],
      ['to=2026-12-01T00:00:00Z', 'to: expected a date as YYYY-MM-DD (UTC), e.g. 2026-12-01'],
      ['from=2026-12-10&to=2026-12-01', 'to: expected a date on or after from (2026-12-10)'],
      ['from=2026-12-16', 'from: expected a date on or before to (2026-12-15)'],
      ['from=2025-01-01&to=2026-12-01', 'to: expected at most 400 days after from (2025-01-01)'],
      ['from=2024-12-01', 'from: expected at most 400 days before to (2026-12-15)'],
      ['repoAlias=Web!', 'repoAlias: expected a repository alias matching ^[a-z0-9][a-z0-9._-]{0,62}$'],
      ['pool=GPU', 'pool: expected a pool label matching ^[a-z0-9][a-z0-9._-]{0,62}$'],
      ['kind=refactor', 'kind: expected one of fix, noop, review, index'],
      ['model=qwen', 'model: unknown property'],
    ];
    for (const [query, message] of cases) {
      for (const path of ['/analytics', '/analytics/export.csv']) {
        const response = await api<ErrorBody>(token, 'GET', `${path}?${query}`);
        expect({ path, query, status: response.status, message: response.body.message }).toEqual({ path, query, status: 400, message });
      }
    }
    const defaults = await report(token, '');
    expect(defaults.range).toEqual({ from: '2026-11-16', to: '2026-12-15', days: 30 });
    expect(defaults.daily).toHaveLength(30);
  });
});

/** Splits the export into its sections (title line, header, rows), parsing RFC 4180 quoting. */
function parseCsvSections(text: string): Map<string, { columns: string[]; rows: string[][] }> {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        field += '"';
        index += 1;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      record.push(field);
      field = '';
    } else if (char === '\r' && text[index + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      index += 1;
    } else field += char;
  }
  const sections = new Map<string, { columns: string[]; rows: string[][] }>();
  let current: { columns: string[]; rows: string[][] } | null = null;
  let expectTitle = true;
  for (const row of records) {
    if (row.length === 1 && row[0] === '' && !expectTitle) {
      expectTitle = true;
      current = null;
      continue;
    }
    if (expectTitle) {
      current = { columns: [], rows: [] };
      sections.set(row[0] ?? '', current);
      expectTitle = false;
    } else if (current && current.columns.length === 0) current.columns = row;
    else current?.rows.push(row);
  }
  return sections;
}
