import { randomBytes } from 'node:crypto';
import { createDatabase, startPostgresCluster, type PostgresCluster } from '@airlock/testing';
import { Client } from 'pg';
import { openDataAccess, type DataAccess } from '../data-access';
import { createDatabaseClient, type DatabaseClient } from '../database-client';
import type { AuditActor } from './admin-audit.repository';
import { syncJobAnalytics, syncJobsAnalytics, type AnalyticsJobRef } from './analytics-rollup';
import type { JobResultMetadata, JobTask, ModelUsageMetadata, ResultJudge, RuleDecisionMetadata, WorkerAttemptRef } from './job.repository';

jest.setTimeout(120_000);

/** How many transactions the concurrency test runs at once; the tests' own client has a connection for each. */
const CONCURRENT_TRANSACTIONS = 8;

let cluster: PostgresCluster;
let data: DataAccess;
/** For the transactions the tests run syncs in themselves. */
let db: DatabaseClient;
/** For reading and resetting the analytics tables. */
let sql: Client;

beforeAll(async () => {
  cluster = await startPostgresCluster();
  const url = await createDatabase(cluster.url, 'analytics_rollup_batch_it');
  data = await openDataAccess({ kind: 'url', url });
  db = createDatabaseClient(url, { maxConnections: CONCURRENT_TRANSACTIONS });
  await db.$connect();
  sql = new Client({ connectionString: url });
  await sql.connect();
});

afterAll(async () => {
  await sql?.end();
  await db?.$disconnect();
  await data?.close();
  await cluster?.stop();
});

const actor: AuditActor = { kind: 'USER', id: '0b7e4c1a-3d2f-4e5a-8b9c-1d2e3f4a5b6c', name: 'Ada Admin', sourceIp: null };

let tenantCounter = 0;
async function newTenant(): Promise<string> {
  tenantCounter += 1;
  return (await data.tenants.create(`analytics-batch-${tenantCounter}`)).id;
}

/** A worker enrolled in the tenant by a token naming `pool` (null: none, counted as '(none)'). */
async function enrolledWorker(tenantId: string, pool: string | null): Promise<string> {
  const tokenHash = randomBytes(32).toString('hex');
  await data.enrollment.createAuditedToken({ tenantId, tokenHash, expiresAt: new Date(Date.now() + 60_000), pool, actor, now: new Date() });
  const worker = await data.enrollment.enroll({ tokenHash, publicKey: randomBytes(32), version: '1.0.0', now: new Date() });
  return worker!.workerId;
}

// The last day of a month and the first of the next: cohorts, finish days and months, and slot time split at midnight all differ.
const D1 = '2026-03-31';
const D2 = '2026-04-01';
const at = (day: string, time: string): Date => new Date(`${day}T${time}:00Z`);
const NO_LEASE_EXPIRY = new Date('2099-01-01T00:00:00Z');

const fix = (repoAlias: string): JobTask => ({ kind: 'FIX', repoAlias, baseRef: 'main', ticketTitle: 'Fix it', ticketDescription: '', ticketRef: null });

async function createJob(tenantId: string, task: JobTask, createdAt: Date): Promise<string> {
  return (await data.jobs.create(tenantId, task, 3, createdAt)).id;
}

/** Dispatches the queued job to the worker as attempt `attempt`, and the worker acks it, both at `startedAt`. */
async function startAttempt(tenantId: string, jobId: string, workerId: string, attempt: number, startedAt: Date, leaseExpiresAt = NO_LEASE_EXPIRY): Promise<WorkerAttemptRef> {
  const claims = await data.jobs.claimQueued({ tenantId, workerId, candidates: [{ jobId, expectedCurrentAttempt: attempt - 1 }], leaseExpiresAt, now: startedAt });
  expect(claims.map((claim) => claim.attempt)).toEqual([attempt]);
  const ref = { workerId, jobId, attempt };
  expect(await data.jobs.recordAcks([ref], startedAt)).toEqual([true]);
  return ref;
}

async function finish(ref: WorkerAttemptRef, result: JobResultMetadata, finishedAt: Date, judge?: ResultJudge): Promise<void> {
  expect(await data.jobs.recordResult(ref, result, finishedAt, judge)).toBe('RECORDED');
}

const QWEN: ModelUsageMetadata = { endpointIndex: 0, endpoint: 'primary', model: 'qwen-coder', requests: 4, promptTokens: 12_000, completionTokens: 3_000 };
const LLAMA_FALLBACK: ModelUsageMetadata = { endpointIndex: 1, endpoint: 'fallback', model: 'llama', requests: 1, promptTokens: 2_000, completionTokens: 400 };
const SECRETS_RECORDED: RuleDecisionMetadata = { rule: 'secrets', level: 'ADVISORY', outcome: 'RECORDED' };
const FILES_CORRECTED: RuleDecisionMetadata = { rule: 'max-files-changed', level: 'MANDATORY', outcome: 'CORRECTED' };
const TESTS_BLOCKED: RuleDecisionMetadata = { rule: 'tests-must-pass', level: 'MANDATORY', outcome: 'BLOCKED' };

interface ResultShape {
  /** A fix whose change was delivered (tests passed); otherwise a success that delivered nothing. */
  readonly delivered?: boolean;
  /** Failed in the test phase, its tests regressed. */
  readonly failed?: boolean;
  readonly usage?: readonly ModelUsageMetadata[];
  /** Tokens without the per-model figures (counted as '(unreported)'). */
  readonly tokens?: JobResultMetadata['tokens'];
  readonly decisions?: readonly RuleDecisionMetadata[];
  readonly phases?: JobResultMetadata['phaseDurations'];
}

function resultOf(shape: ResultShape): JobResultMetadata {
  return {
    outcome: shape.failed ? 'JOB_OUTCOME_FAILED' : 'JOB_OUTCOME_SUCCEEDED',
    failureCode: shape.failed ? 'TESTS_FAILED' : null,
    failedPhase: shape.failed ? 'PHASE_TEST' : null,
    phaseDurations: shape.phases ?? [],
    tokens: shape.tokens ?? { requests: 0, promptTokens: 0, completionTokens: 0 },
    change: { filesChanged: 2, linesAdded: 30, linesRemoved: 10, editsProposed: 2, editsApplied: 2 },
    verification: {
      testsRan: true, testExitCode: shape.failed ? 1 : 0, baseTestsRan: true, baseTestExitCode: 1, baseReportRead: false, reportRead: false,
      testsBefore: 10, failingBefore: 1, testsAfter: 10, failingAfter: shape.failed ? 2 : 0, testsFixed: 1, testsRegressed: shape.failed ? 1 : 0, agentTestRuns: 1, reproductionAdded: false,
    },
    contextFiles: 3,
    changeMac: 'ab'.repeat(32),
    deliveryMac: shape.delivered ? 'cd'.repeat(32) : null,
    metadataLevel: 'METADATA_LEVEL_STANDARD',
    policy: { revision: 1, shadowRevision: 0, decisions: shape.decisions ?? [] },
    modelUsage: shape.usage ?? [],
  };
}

/** Every table a sync writes; each row carries its tenant. */
const ANALYTICS_TABLES = ['AnalyticsCohortRollup', 'AnalyticsOutcomeRollup', 'AnalyticsDurationRollup', 'AnalyticsTokenRollup', 'AnalyticsPolicyRollup', 'AnalyticsFleetRollup', 'AnalyticsJobState'];

type AnalyticsRows = Record<string, Record<string, unknown>[]>;

/** The tenants' rows of every analytics table, in a fixed order: two snapshots are equal when the tables hold the same. */
async function analyticsRows(tenantIds: readonly string[]): Promise<AnalyticsRows> {
  const snapshot: AnalyticsRows = {};
  for (const table of ANALYTICS_TABLES) {
    const result = await sql.query<{ row: Record<string, unknown> }>(
      `SELECT to_jsonb(t) AS row FROM "${table}" AS t WHERE t."tenantId" = ANY($1::uuid[]) ORDER BY to_jsonb(t)::text COLLATE "C"`,
      [tenantIds],
    );
    snapshot[table] = result.rows.map((row) => row.row);
  }
  return snapshot;
}

const COHORT_COUNTERS = ['created', 'ran', 'testsPassed', 'delivered', 'deliveredUntested', 'implausible'];

/**
 * The rows without the cohort rows whose counts are all zero: a job whose pool or model is
 * learnt later leaves such rows behind where it was counted first, and a rebuild writes none.
 */
function withoutEmptyCohortRows(snapshot: AnalyticsRows): AnalyticsRows {
  const cohort = snapshot['AnalyticsCohortRollup'] ?? [];
  return { ...snapshot, AnalyticsCohortRollup: cohort.filter((row) => COHORT_COUNTERS.some((counter) => row[counter] !== 0)) };
}

async function clearAnalytics(tenantIds: readonly string[]): Promise<void> {
  for (const table of ANALYTICS_TABLES) await sql.query(`DELETE FROM "${table}" WHERE "tenantId" = ANY($1::uuid[])`, [tenantIds]);
}

/** Puts the tenants' analytics back as a snapshot had them: the changes of the jobs since are then not synced. */
async function restoreAnalytics(tenantIds: readonly string[], snapshot: AnalyticsRows): Promise<void> {
  await clearAnalytics(tenantIds);
  for (const table of ANALYTICS_TABLES) {
    await sql.query(`INSERT INTO "${table}" SELECT * FROM jsonb_populate_recordset(NULL::"${table}", $1::jsonb)`, [JSON.stringify(snapshot[table] ?? [])]);
  }
}

async function rebuild(tenantIds: readonly string[]): Promise<void> {
  for (const tenantId of tenantIds) await data.analytics.rebuild(tenantId);
}

/** The cohort row of every kind, repository, pool and model of a day. */
function tenantWideCohort(snapshot: AnalyticsRows, tenantId: string, day: string): Record<string, unknown> | undefined {
  return snapshot['AnalyticsCohortRollup']?.find((row) => row['tenantId'] === tenantId && row['grain'] === 15 && row['day'] === day);
}

describe('syncJobsAnalytics', () => {
  it('brings jobs of two tenants, two days and every kind of change up to date in one call: what the rebuild gives, and what syncing them one by one gives', async () => {
    const first = await newTenant();
    const second = await newTenant();
    const tenants = [first, second];
    const alpha = await enrolledWorker(first, 'alpha');
    const beta = await enrolledWorker(first, 'beta');
    const plain = await enrolledWorker(first, null);
    const secondAlpha = await enrolledWorker(second, 'alpha');
    const jobs: AnalyticsJobRef[] = [];
    const created = async (tenantId: string, task: JobTask, createdAt: Date): Promise<string> => {
      const jobId = await createJob(tenantId, task, createdAt);
      jobs.push({ tenantId, jobId });
      return jobId;
    };

    // What the rollups still show when the batch runs: jobs created, some running, one finished.
    const acrossMidnight = await startAttempt(first, await created(first, fix('web'), at(D1, '10:00')), alpha, 1, at(D1, '10:01'));
    const laterOnBeta = await created(first, fix('api'), at(D1, '11:00'));
    const probe = await startAttempt(first, await created(first, { kind: 'NOOP' }, at(D1, '12:00')), plain, 1, at(D1, '12:01'));
    await finish(probe, resultOf({}), at(D1, '12:02'));
    const expiring = await created(first, fix('web'), at(D1, '13:00'));
    const expiringFirstAttempt = await startAttempt(first, expiring, alpha, 1, at(D1, '13:01'), at(D1, '13:30'));
    await created(first, fix('docs'), at(D1, '13:30'));
    const secondTenantFix = await startAttempt(second, await created(second, fix('web'), at(D1, '15:00')), secondAlpha, 1, at(D1, '15:01'));
    const before = await analyticsRows(tenants);

    // What the batch is to bring in.
    await finish(acrossMidnight, resultOf({ delivered: true, usage: [QWEN], decisions: [FILES_CORRECTED, SECRETS_RECORDED], phases: [{ phase: 'PHASE_TEST', durationMs: 40_000 }] }), at(D2, '00:30'));
    await finish(await startAttempt(first, laterOnBeta, beta, 1, at(D1, '11:30')), resultOf({ failed: true, tokens: { requests: 3, promptTokens: 2_000, completionTokens: 500 }, decisions: [TESTS_BLOCKED] }), at(D1, '12:00'));
    expect(await data.jobs.expireLease({ jobId: expiring, attempt: expiringFirstAttempt.attempt }, at(D1, '14:00'))).toMatchObject({ requeued: true });
    await finish(await startAttempt(first, expiring, beta, 2, at(D1, '23:00')), resultOf({ delivered: true, usage: [QWEN, LLAMA_FALLBACK] }), at(D2, '02:00'));
    await finish(await startAttempt(first, await created(first, { kind: 'REVIEW', repoAlias: 'web', target: { mergeRequest: 7 } }, at(D2, '09:00')), plain, 1, at(D2, '09:01')), resultOf({ usage: [QWEN] }), at(D2, '09:20'));
    const refused = await startAttempt(first, await created(first, { kind: 'INDEX', repoAlias: 'api', ref: 'main' }, at(D2, '09:30')), alpha, 1, at(D2, '09:31'));
    expect(await data.jobs.recordRejection(refused, 'TASK_FORBIDDEN_BY_POLICY', at(D2, '09:32'), ['allowed-repos'])).toBe(true);
    const cancelled = await created(first, fix('web'), at(D2, '10:00'));
    expect(await data.jobs.requestCancel(first, cancelled, at(D2, '10:05'))).toMatchObject({ kind: 'CANCELLED' });
    const implausible = await startAttempt(first, await created(first, fix('web'), at(D2, '10:30')), alpha, 1, at(D2, '10:31'));
    await finish(implausible, resultOf({ delivered: true, usage: [QWEN], phases: [{ phase: 'PHASE_TEST', durationMs: 3_600_000 }] }), at(D2, '10:32'), () => ['phase-longer-than-attempt']);
    await startAttempt(first, await created(first, fix('api'), at(D2, '11:00')), beta, 1, at(D2, '11:01'));
    await finish(secondTenantFix, resultOf({ delivered: true, usage: [QWEN], decisions: [SECRETS_RECORDED] }), at(D1, '16:00'));
    await finish(await startAttempt(second, await created(second, { kind: 'NOOP' }, at(D2, '08:00')), secondAlpha, 1, at(D2, '08:01')), resultOf({}), at(D2, '08:02'));

    // The tenants' jobs interleaved, newest first: not the order of the rows they write.
    const batch = [...jobs].reverse();
    await restoreAnalytics(tenants, before);
    await db.$transaction((tx) => syncJobsAnalytics(tx, batch));
    const batched = await analyticsRows(tenants);

    await restoreAnalytics(tenants, before);
    for (const job of batch) await db.$transaction((tx) => syncJobAnalytics(tx, job.tenantId, job.jobId));
    expect(await analyticsRows(tenants)).toEqual(batched);

    await rebuild(tenants);
    const rebuilt = await analyticsRows(tenants);
    expect(withoutEmptyCohortRows(batched)).toEqual(rebuilt);
    // The batch had something to do in every table, on both days, for both tenants.
    expect(withoutEmptyCohortRows(before)).not.toEqual(rebuilt);
    for (const table of ANALYTICS_TABLES) expect(rebuilt[table]?.length).toBeGreaterThan(0);
    for (const day of [D1, D2]) {
      expect(tenantWideCohort(rebuilt, first, day)).toBeDefined();
      expect(rebuilt['AnalyticsFleetRollup']?.some((row) => row['tenantId'] === first && row['pool'] === '*' && row['day'] === day)).toBe(true);
    }
    expect(rebuilt['AnalyticsOutcomeRollup']?.some((row) => row['tenantId'] === second)).toBe(true);
  });

  it('counts a job listed more than once once', async () => {
    const tenantId = await newTenant();
    const worker = await enrolledWorker(tenantId, 'alpha');
    const delivered = await createJob(tenantId, fix('web'), at(D1, '09:00'));
    await finish(await startAttempt(tenantId, delivered, worker, 1, at(D1, '09:05')), resultOf({ delivered: true, usage: [QWEN], decisions: [SECRETS_RECORDED] }), at(D1, '09:30'));
    const queued = await createJob(tenantId, { kind: 'NOOP' }, at(D1, '10:00'));
    await clearAnalytics([tenantId]);

    const listedTwice = { tenantId, jobId: delivered };
    await db.$transaction((tx) => syncJobsAnalytics(tx, [listedTwice, { tenantId, jobId: queued }, listedTwice, { ...listedTwice }]));
    const synced = await analyticsRows([tenantId]);
    expect(tenantWideCohort(synced, tenantId, D1)).toMatchObject({ created: 2, ran: 1, delivered: 1 });
    await data.analytics.rebuild(tenantId);
    expect(synced).toEqual(await analyticsRows([tenantId]));
  });

  it('writes nothing for an empty list', async () => {
    const tenantId = await newTenant();
    const jobId = await createJob(tenantId, { kind: 'NOOP' }, at(D1, '08:00'));
    await clearAnalytics([tenantId]);
    // A transaction is given an id when it first writes a row: none, nothing was written.
    const transactionIdAfterSyncing = (jobs: readonly AnalyticsJobRef[]) =>
      db.$transaction(async (tx) => {
        await syncJobsAnalytics(tx, jobs);
        const [row] = await tx.$queryRaw<{ id: string | null }[]>`SELECT pg_current_xact_id_if_assigned()::text AS id`;
        return row?.id;
      });

    expect(await transactionIdAfterSyncing([])).toBeNull();
    expect(Object.values(await analyticsRows([tenantId])).flat()).toEqual([]);
    // The same probe after a sync of the job: it wrote.
    expect(await transactionIdAfterSyncing([{ tenantId, jobId }])).toEqual(expect.any(String));
  });

  it(`lets ${CONCURRENT_TRANSACTIONS} transactions sync batches of one tenant's jobs at once, each in its own order, without a deadlock`, async () => {
    const tenantId = await newTenant();
    const alpha = await enrolledWorker(tenantId, 'alpha');
    const beta = await enrolledWorker(tenantId, 'beta');
    const jobIds: string[] = [];
    for (let index = 0; index < 48; index += 1) {
      // Two creation and finish days, three repositories, two pools: every job shares its '*' rows with the others of its day.
      const day = index % 2 === 0 ? D1 : D2;
      const task = index % 5 === 4 ? ({ kind: 'NOOP' } as const) : fix(index % 3 === 0 ? 'web' : index % 3 === 1 ? 'api' : 'docs');
      const jobId = await createJob(tenantId, task, at(day, '08:00'));
      const ref = await startAttempt(tenantId, jobId, Math.floor(index / 2) % 2 === 0 ? alpha : beta, 1, at(day, '09:00'));
      await finish(ref, resultOf({ delivered: task.kind === 'FIX' && index % 3 !== 2, usage: [QWEN], decisions: [SECRETS_RECORDED] }), at(day, '10:00'));
      jobIds.push(jobId);
    }
    await data.analytics.rebuild(tenantId);
    const expected = await analyticsRows([tenantId]);
    // Batches of 1 to 11 jobs: a single transition among the batches.
    const batchSizes = [1, 3, 4, 5, 7, 8, 9, 11];
    expect(batchSizes.reduce((sum, size) => sum + size, 0)).toBe(jobIds.length);
    expect(batchSizes).toHaveLength(CONCURRENT_TRANSACTIONS);

    for (let round = 0; round < 3; round += 1) {
      await clearAnalytics([tenantId]);
      const batches = inBatches(inShuffledOrder(jobIds, round), batchSizes);
      const allStarted = barrier(CONCURRENT_TRANSACTIONS);
      const outcomes = await Promise.allSettled(
        batches.map((batch) =>
          db.$transaction(async (tx) => {
            await allStarted();
            await syncJobsAnalytics(tx, batch.map((jobId) => ({ tenantId, jobId })));
          }),
        ),
      );
      expect(outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [String(outcome.reason)] : []))).toEqual([]);
      expect(await analyticsRows([tenantId])).toEqual(expected);
    }
  });
});

/** The items in an order of their own per seed, the same on every run. */
function inShuffledOrder<T>(items: readonly T[], seed: number): T[] {
  return items
    .map((item, index) => ({ item, rank: Math.sin((seed + 1) * 7_919 + index * 104_729) }))
    .sort((a, b) => a.rank - b.rank)
    .map((entry) => entry.item);
}

/** The items cut into consecutive batches of the sizes given. */
function inBatches<T>(items: readonly T[], sizes: readonly number[]): T[][] {
  const batches: T[][] = [];
  let offset = 0;
  for (const size of sizes) {
    batches.push(items.slice(offset, offset + size));
    offset += size;
  }
  return batches;
}

/** Resolves for every caller once `count` have called it: the transactions then hold their connections and write together. */
function barrier(count: number): () => Promise<void> {
  let arrived = 0;
  let releaseAll: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    releaseAll = resolve;
  });
  return async () => {
    arrived += 1;
    if (arrived === count) releaseAll();
    await released;
  };
}
