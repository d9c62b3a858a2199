/**
 * `npm run bench:analytics`: how long the manager's analytics take to answer from the
 * rollups, next to the same figures computed by scanning the jobs table, measured in the same
 * run on the same data.
 *
 * A throwaway PostgreSQL cluster gets one tenant with `--jobs` jobs (default 1,000,000) spread
 * over the year up to now, generated in SQL with realistic spreads: 40 repositories of skewed
 * popularity, 26 workers in 4 pools (2 without one), three models and a fallback endpoint,
 * outcomes from delivered to refused by policy, log-normal run times, queue waits with a long
 * tail, policy decisions of every outcome. The rollups are then built by the backfill
 * (analytics_rebuild_tenant, as the migration runs it), and each request shape is asked
 * `--repeats` times (default 40) of the rollups — over HTTP from a real control plane, and in
 * process — and, for the 30-day shapes, `--scan-repeats` times (default 1: each scan takes
 * seconds) of the jobs table through the same report builder
 * (AnalyticsRepository.aggregateByScanning); a year is scanned once. Nothing passes or fails on
 * a time: the goal (every request under 100 ms p95 on rollups) is printed next to the figures.
 *
 * Flags: --jobs N, --repeats N, --scan-repeats N.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createDatabase, startPostgresCluster } from '@airlock/testing';
/* eslint-disable @nx/enforce-module-boundaries -- the benchmark measures the control plane's own rollups, report builder and routes */
import { openDataAccess, parsePostgresUrl, type AnalyticsScope, type DataAccess } from '@airlock/data-access';
import { buildAnalyticsReport, spendWindow } from '../apps/control-plane/src/app/analytics/analytics-report';
import { renderAnalyticsCsv } from '../apps/control-plane/src/app/analytics/analytics-csv';
import { API_TOKEN_PREFIX, generateSecretToken, hashSecretToken } from '../apps/control-plane/src/app/auth/secret-token';
import { loadAppConfig } from '../apps/control-plane/src/app/config/app-config';
import { startControlPlane } from '../apps/control-plane/src/app/control-plane';
/* eslint-enable @nx/enforce-module-boundaries */

const flag = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} expects a positive integer`);
  return value;
};
const JOBS = flag('jobs', 1_000_000);
const REPEATS = flag('repeats', 40);
const SCAN_REPEATS = flag('scan-repeats', 1);
const CHUNK = 100_000;
const RESULT_VARIANTS = 1024;
const WORKERS = 26;
const POOLS = ['build', 'gpu', 'general', 'batch'];
const GOAL_MS = 100;

/** The nearest-rank percentile of the samples. */
function percentile(samples: readonly number[], quantile: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(quantile * sorted.length)) - 1] ?? NaN;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** Workers: 6 per pool and 2 without one, as enrollment tokens would have made them. */
export async function seedWorkers(sql: pg.Client, tenantId: string): Promise<void> {
  await sql.query(
    `INSERT INTO "Worker" ("id", "tenantId", "name", "publicKey", "version", "capacity", "status", "enrolledAt", "pool")
     SELECT md5('bench-worker-' || w)::uuid, $1::uuid, 'worker-' || w, decode(md5('key-' || w) || md5('key2-' || w), 'hex'), '0.1.0', 4, 'OFFLINE', now() - interval '400 days',
            CASE WHEN w < 24 THEN ($2::text[])[w % 4 + 1] END
     FROM generate_series(0, $3 - 1) AS w`,
    [tenantId, POOLS, WORKERS],
  );
}

/**
 * Results as workers report them, ${RESULT_VARIANTS} variants per way a job can end, each with
 * its own draws of run time, tokens, model and fallback: a job takes one by its number. Far
 * cheaper than building a JSON document per job, and as varied as the figures need.
 */
export async function seedResultTemplates(sql: pg.Client): Promise<void> {
  await sql.query('DROP TABLE IF EXISTS bench_results');
  await sql.query(
    `CREATE TEMP TABLE bench_results AS
     SELECT j.class, j.variant, jsonb_build_object(
                'outcome', CASE j.status WHEN 'SUCCEEDED' THEN 'JOB_OUTCOME_SUCCEEDED' WHEN 'CANCELLED' THEN 'JOB_OUTCOME_CANCELLED' ELSE 'JOB_OUTCOME_FAILED' END,
                'failureCode', j.failure_code,
                'failedPhase', CASE WHEN j.status = 'SUCCEEDED' THEN NULL ELSE (ARRAY['PHASE_WORKSPACE','PHASE_SETUP','PHASE_BASELINE','PHASE_CONTEXT','PHASE_INFERENCE','PHASE_APPLY','PHASE_TEST','PHASE_DELIVER'])[j.last_phase] END,
                'phaseDurations', COALESCE((
                  SELECT jsonb_agg(jsonb_build_object('phase', p.phase, 'durationMs', floor(j.run_ms * p.share)::bigint) ORDER BY p.position)
                  FROM (VALUES (1, 'PHASE_WORKSPACE', 0.05), (2, 'PHASE_SETUP', 0.10), (3, 'PHASE_BASELINE', 0.10), (4, 'PHASE_CONTEXT', 0.05),
                               (5, 'PHASE_INFERENCE', 0.50), (6, 'PHASE_APPLY', 0.02), (7, 'PHASE_TEST', 0.15), (8, 'PHASE_DELIVER', 0.03)) AS p(position, phase, share)
                  WHERE p.position <= j.last_phase), '[]'::jsonb),
                'tokens', jsonb_build_object('requests', CASE WHEN j.kind = 'FIX' THEN 2 + j.tokens / 4000 ELSE 0 END, 'promptTokens', CASE WHEN j.kind = 'FIX' THEN j.tokens * 4 / 5 ELSE 0 END,
                                             'completionTokens', CASE WHEN j.kind = 'FIX' THEN j.tokens - j.tokens * 4 / 5 ELSE 0 END),
                'change', jsonb_build_object('filesChanged', 1 + (j.i % 5), 'linesAdded', 3 + (j.i % 80), 'linesRemoved', j.i % 30, 'editsProposed', 2 + (j.i % 4), 'editsApplied', 2 + (j.i % 4)),
                'verification', jsonb_build_object('testsRan', j.last_phase >= 7, 'testExitCode', CASE WHEN j.failure_code = 'TESTS_FAILED' THEN 1 ELSE 0 END, 'baseTestsRan', j.last_phase >= 3,
                                                   'baseTestExitCode', 1, 'baseReportRead', true, 'reportRead', j.last_phase >= 7, 'testsBefore', 120, 'failingBefore', 1,
                                                   'testsAfter', CASE WHEN j.last_phase >= 7 THEN 121 ELSE 0 END, 'failingAfter', CASE WHEN j.failure_code = 'TESTS_FAILED' THEN 2 ELSE 0 END,
                                                   'testsFixed', CASE WHEN j.last_phase >= 7 AND j.failure_code IS NULL THEN 1 ELSE 0 END,
                                                   'testsRegressed', CASE WHEN j.failure_code = 'TESTS_FAILED' THEN 1 ELSE 0 END, 'agentTestRuns', j.i % 4, 'reproductionAdded', false),
                'contextFiles', CASE WHEN j.kind = 'FIX' THEN 4 + j.i % 8 ELSE 0 END,
                'changeMac', CASE WHEN j.last_phase >= 6 THEN md5('change' || j.i) || md5('change2' || j.i) END,
                'deliveryMac', CASE WHEN j.last_phase = 8 THEN md5('delivery' || j.i) || md5('delivery2' || j.i) END,
                'policy', jsonb_build_object('revision', 3, 'shadowRevision', CASE WHEN j.r_decision BETWEEN 0.5 AND 0.58 THEN 4 ELSE 0 END, 'decisions', '[]'::jsonb),
                'metadataLevel', 'METADATA_LEVEL_STANDARD',
                'modelUsage', CASE WHEN j.kind = 'NOOP' THEN '[]'::jsonb
                  WHEN j.r_fallback < 0.06 THEN jsonb_build_array(
                    jsonb_build_object('endpointIndex', 0, 'endpoint', 'primary', 'model', j.model, 'requests', 1 + j.tokens / 8000, 'promptTokens', j.tokens * 4 / 5 / 5, 'completionTokens', (j.tokens - j.tokens * 4 / 5) / 5),
                    jsonb_build_object('endpointIndex', 1, 'endpoint', 'backup', 'model', 'llama3.1:70b', 'requests', 1 + j.tokens / 8000, 'promptTokens', j.tokens * 4 / 5 - j.tokens * 4 / 5 / 5,
                                       'completionTokens', (j.tokens - j.tokens * 4 / 5) - (j.tokens - j.tokens * 4 / 5) / 5))
                  ELSE jsonb_build_array(jsonb_build_object('endpointIndex', 0, 'endpoint', 'primary', 'model', j.model, 'requests', 2 + j.tokens / 4000, 'promptTokens', j.tokens * 4 / 5,
                                                            'completionTokens', j.tokens - j.tokens * 4 / 5))
                END
              ) AS result
     FROM (
       SELECT c.class, c.kind, c.status, c.failure_code, c.last_phase, v.variant AS i, v.variant, v.run_ms,
              (v.run_ms / 1000.0 * (300 + 500 * v.r_tokens))::bigint AS tokens, v.model, v.r_fallback, v.r_decision
       FROM (VALUES ('noop', 'NOOP', 'SUCCEEDED', NULL, 0), ('delivered', 'FIX', 'SUCCEEDED', NULL, 8), ('tests-failed', 'FIX', 'FAILED', 'TESTS_FAILED', 7),
                    ('unusable', 'FIX', 'FAILED', 'MODEL_OUTPUT_UNUSABLE', 6), ('policy', 'FIX', 'FAILED', 'POLICY_VIOLATION', 6),
                    ('inference', 'FIX', 'FAILED', 'INFERENCE_UNAVAILABLE', 5), ('cancelled-running', 'FIX', 'CANCELLED', 'CANCELLED', 5))
            AS c(class, kind, status, failure_code, last_phase)
       CROSS JOIN (
         SELECT variant, random() AS r_tokens, random() AS r_fallback, random() AS r_decision,
                CASE WHEN random() < 0.7 THEN 'Qwen/Qwen2.5-Coder-32B-Instruct' WHEN random() < 0.67 THEN 'deepseek-coder-v2:16b' ELSE 'codellama:34b' END AS model,
                greatest(5000, least(14400000, floor(exp(ln(240000) + 0.9 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())))))::bigint AS run_ms
         FROM generate_series(0, ${RESULT_VARIANTS} - 1) AS variant
       ) AS v
     ) AS j`,
  );
}

/**
 * One chunk of jobs [first, last]: the random draws of each job go into a temporary table
 * first, so its job row, attempts and policy decisions agree.
 */
export async function seedChunk(sql: pg.Client, tenantId: string, first: number, last: number): Promise<void> {
  await sql.query('DROP TABLE IF EXISTS bench_seed');
  await sql.query(
    `CREATE TEMP TABLE bench_seed AS
     SELECT d.*,
       CASE
         WHEN d.kind = 'NOOP' THEN 'noop'
         WHEN d.r_outcome < 0.01 THEN 'rejected'
         WHEN d.r_outcome < 0.03 THEN 'expired-then-run'
         WHEN d.r_outcome < 0.04 THEN 'cancelled-queued'
         WHEN d.r_outcome < 0.06 THEN 'cancelled-running'
         WHEN d.r_outcome < 0.60 THEN 'delivered'
         WHEN d.r_outcome < 0.78 THEN 'tests-failed'
         WHEN d.r_outcome < 0.87 THEN 'unusable'
         WHEN d.r_outcome < 0.94 THEN 'policy'
         ELSE 'inference'
       END AS class
     FROM (
       SELECT s.*,
         CASE WHEN s.r_kind < 0.95 THEN 'FIX' ELSE 'NOOP' END AS kind,
         CASE WHEN s.r_kind < 0.95 THEN 'svc-' || lpad(floor(40 * power(s.r_repo, 2.5))::int::text, 2, '0') END AS repo,
         floor(s.r_worker * ${WORKERS})::int AS worker,
         now() - interval '365 days' + (s.i - 1) * (interval '365 days' / $3::int) + s.r_jitter * interval '30 seconds' AS created_at,
         (50 + floor(-ln(1 - s.r_queue) * CASE WHEN s.r_queue_long < 0.03 THEN 900000 ELSE 15000 END))::bigint AS queue_ms,
         greatest(5000, least(14400000, floor(exp(ln(240000) + 0.9 * sqrt(-2 * ln(1 - s.r_run1)) * cos(2 * pi() * s.r_run2)))))::bigint AS run_ms,
         CASE WHEN s.r_model < 0.7 THEN 'Qwen/Qwen2.5-Coder-32B-Instruct' WHEN s.r_model < 0.9 THEN 'deepseek-coder-v2:16b' ELSE 'codellama:34b' END AS model
       FROM (
         SELECT i, md5('bench-job-' || i)::uuid AS job_id, random() AS r_kind, random() AS r_repo, random() AS r_worker, random() AS r_model,
                random() AS r_fallback, random() AS r_queue, random() AS r_queue_long, random() AS r_run1, random() AS r_run2, random() AS r_outcome,
                random() AS r_decision, random() AS r_implausible, random() AS r_jitter, random() AS r_tokens
         FROM generate_series($1::int, $2::int) AS i
       ) AS s
     ) AS d`,
    [first, last, JOBS],
  );
  // When each attempt was dispatched and ended, and how the job ended.
  await sql.query(
    `CREATE TEMP TABLE bench_job AS
     SELECT b.*,
       b.created_at + b.queue_ms * interval '1 ms' AS dispatched_at,
       CASE b.class WHEN 'expired-then-run' THEN b.created_at + (b.queue_ms + 1800000 + 20000) * interval '1 ms' END AS second_dispatched_at,
       CASE
         WHEN b.class = 'cancelled-queued' THEN b.created_at + b.queue_ms * interval '1 ms'
         WHEN b.class = 'rejected' THEN b.created_at + (b.queue_ms + 200) * interval '1 ms'
         WHEN b.class = 'expired-then-run' THEN b.created_at + (b.queue_ms + 1800000 + 20000 + b.run_ms) * interval '1 ms'
         ELSE b.created_at + (b.queue_ms + b.run_ms) * interval '1 ms'
       END AS finished_at,
       CASE
         WHEN b.class IN ('noop', 'delivered') OR (b.class = 'expired-then-run' AND b.r_decision < 0.6) THEN 'SUCCEEDED'
         WHEN b.class IN ('cancelled-queued', 'cancelled-running') THEN 'CANCELLED'
         ELSE 'FAILED'
       END AS status,
       CASE
         WHEN b.class = 'rejected' THEN 'TASK_FORBIDDEN_BY_POLICY'
         WHEN b.class IN ('cancelled-queued', 'cancelled-running') THEN 'CANCELLED'
         WHEN b.class = 'tests-failed' OR (b.class = 'expired-then-run' AND b.r_decision >= 0.6) THEN 'TESTS_FAILED'
         WHEN b.class = 'unusable' THEN 'MODEL_OUTPUT_UNUSABLE'
         WHEN b.class = 'policy' THEN 'POLICY_VIOLATION'
         WHEN b.class = 'inference' THEN 'INFERENCE_UNAVAILABLE'
       END AS failure_code,
       -- The last phase the result reports: 8 for a delivered change, fewer where it stopped.
       CASE
         WHEN b.class = 'noop' THEN 0
         WHEN b.class IN ('delivered') OR (b.class = 'expired-then-run' AND b.r_decision < 0.6) THEN 8
         WHEN b.class IN ('tests-failed', 'expired-then-run') THEN 7
         WHEN b.class IN ('unusable', 'policy') THEN 6
         WHEN b.class IN ('inference', 'cancelled-running') THEN 5
         ELSE -1
       END AS last_phase,
       (b.run_ms / 1000.0 * (300 + 500 * b.r_tokens))::bigint AS tokens
     FROM bench_seed AS b`,
  );
  await sql.query(
    `INSERT INTO "Job" ("id", "tenantId", "kind", "repoAlias", "baseRef", "ticketTitle", "ticketDescription", "status", "currentAttempt", "maxAttempts",
                        "failureCode", "result", "resultImplausible", "createdAt", "updatedAt", "finishedAt")
     SELECT j.job_id, $1::uuid, j.kind::"JobKind", j.repo, CASE WHEN j.kind = 'FIX' THEN 'main' END, CASE WHEN j.kind = 'FIX' THEN 'Fix ticket ' || j.i END, '',
            j.status::"JobStatus", CASE WHEN j.class = 'cancelled-queued' THEN 0 WHEN j.class = 'expired-then-run' THEN 2 ELSE 1 END, 3,
            j.failure_code, r.result,
            CASE WHEN j.r_implausible < 0.001 AND r.result IS NOT NULL THEN ARRAY['durations-exceed-wall-time'] ELSE ARRAY[]::text[] END,
            j.created_at, j.finished_at, j.finished_at
     FROM bench_job AS j
     LEFT JOIN bench_results AS r
       ON r.variant = j.i % ${RESULT_VARIANTS}
      AND r.class = CASE j.class WHEN 'expired-then-run' THEN CASE WHEN j.r_decision < 0.6 THEN 'delivered' ELSE 'tests-failed' END ELSE j.class END`,
    [tenantId],
  );
  await sql.query(
    `INSERT INTO "JobAttempt" ("id", "tenantId", "jobId", "attempt", "workerId", "status", "leaseExpiresAt", "dispatchedAt", "ackedAt", "finishedAt", "failureCode")
     SELECT md5('bench-attempt-1-' || j.i)::uuid, $1::uuid, j.job_id, 1, md5('bench-worker-' || j.worker)::uuid,
            (CASE j.class WHEN 'rejected' THEN 'REJECTED' WHEN 'expired-then-run' THEN 'LEASE_EXPIRED' ELSE j.status END)::"AttemptStatus",
            j.finished_at, j.dispatched_at, CASE WHEN j.class = 'rejected' THEN NULL ELSE j.dispatched_at + interval '100 ms' END,
            CASE j.class WHEN 'expired-then-run' THEN j.dispatched_at + interval '30 minutes' ELSE j.finished_at END,
            CASE j.class WHEN 'expired-then-run' THEN 'LEASE_EXPIRED' ELSE j.failure_code END
     FROM bench_job AS j WHERE j.class <> 'cancelled-queued'
     UNION ALL
     SELECT md5('bench-attempt-2-' || j.i)::uuid, $1::uuid, j.job_id, 2, md5('bench-worker-' || ((j.worker + 7) % ${WORKERS}))::uuid, j.status::"AttemptStatus",
            j.finished_at, j.second_dispatched_at, j.second_dispatched_at + interval '100 ms', j.finished_at, j.failure_code
     FROM bench_job AS j WHERE j.class = 'expired-then-run'`,
    [tenantId],
  );
  await sql.query(
    `INSERT INTO "PolicyDecision" ("tenantId", "jobId", "attempt", "rule", "level", "outcome", "revision", "shadowRevision", "at")
     SELECT $1::uuid, j.job_id, CASE WHEN j.class = 'expired-then-run' THEN 2 ELSE 1 END, d.rule, d.level, d.outcome, 3, 0, j.finished_at
     FROM bench_job AS j
     CROSS JOIN LATERAL (
       SELECT 'repositories' AS rule, 'MANDATORY' AS level, 'BLOCKED' AS outcome WHERE j.class = 'rejected'
       UNION ALL SELECT CASE WHEN j.r_decision < 0.5 THEN 'max-files-changed' ELSE 'protected-paths' END, 'MANDATORY', 'BLOCKED' WHERE j.class = 'policy'
       UNION ALL SELECT 'max-files-changed', 'MANDATORY', 'CORRECTED' WHERE j.class = 'delivered' AND j.r_decision < 0.12
       UNION ALL SELECT 'secrets', 'ADVISORY', 'RECORDED' WHERE j.last_phase >= 6 AND j.r_implausible BETWEEN 0.2 AND 0.26
       UNION ALL SELECT 'dependency-manifests', 'MANDATORY', 'SHADOW_WOULD_BLOCK' WHERE j.last_phase >= 6 AND j.r_decision BETWEEN 0.5 AND 0.58
       UNION ALL SELECT 'tests-must-pass', 'MANDATORY', 'BLOCKED' WHERE j.failure_code = 'TESTS_FAILED' AND j.r_decision < 0.3
     ) AS d`,
    [tenantId],
  );
  await sql.query('DROP TABLE bench_job');
}

/** Online slot time per pool and day, as connected workers would have recorded it: 22 of 24 hours, 4 slots each. */
export async function seedOnlineTime(sql: pg.Client, tenantId: string): Promise<void> {
  await sql.query(
    `INSERT INTO "AnalyticsFleetRollup" ("tenantId", "pool", "day", "busyMs", "onlineSlotMs")
     SELECT $1::uuid, CASE WHEN GROUPING(COALESCE(w."pool", '(none)')) = 1 THEN '*' ELSE COALESCE(w."pool", '(none)') END, d::date, 0, count(*) * 4 * 22 * 3600000
     FROM "Worker" AS w, generate_series((now() - interval '366 days')::date, now()::date, interval '1 day') AS d
     WHERE w."tenantId" = $1::uuid
     GROUP BY ROLLUP(COALESCE(w."pool", '(none)')), d
     ON CONFLICT ("tenantId", "pool", "day") DO UPDATE SET "onlineSlotMs" = EXCLUDED."onlineSlotMs"`,
    [tenantId],
  );
}

interface Shape {
  readonly label: string;
  readonly query: Omit<AnalyticsScope, 'tenantId'>;
  readonly csv: boolean;
  /** Also computed by scanning the jobs table (a year of it takes long enough to do once). */
  readonly scan: boolean;
}

interface Row {
  readonly shape: string;
  readonly source: string;
  readonly samples: readonly number[];
}

async function timed(repeats: number, warmups: number, run: () => Promise<unknown>): Promise<number[]> {
  for (let index = 0; index < warmups; index += 1) await run();
  const samples: number[] = [];
  for (let index = 0; index < repeats; index += 1) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  return samples;
}

async function main(): Promise<void> {
  const started = performance.now();
  console.log(
    `bench:analytics — ${JOBS.toLocaleString('en')} jobs over a year; ${REPEATS} requests per shape on rollups, ${SCAN_REPEATS} scanning the jobs table ` +
      `(Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}; load average ${loadavg().map((load) => load.toFixed(2)).join(' ')})`,
  );
  const baseDir = mkdtempSync(join(tmpdir(), 'airlock-bench-analytics-'));
  const cluster = await startPostgresCluster();
  let data: DataAccess | undefined;
  let seedClient: pg.Client | undefined;
  try {
    const databaseUrl = await createDatabase(cluster.url, 'bench_analytics');
    data = await openDataAccess({ kind: 'url', url: databaseUrl });
    seedClient = new pg.Client(parsePostgresUrl(databaseUrl));
    // A failure stops the cluster under it; that ending is reported by the failure, not by this client.
    seedClient.on('error', () => undefined);
    await seedClient.connect();
    const tenant = await data.tenants.create('bench');
    const token = generateSecretToken(API_TOKEN_PREFIX);
    await data.apiTokens.create({ tenantId: tenant.id, name: 'bench', scopes: ['analytics:read'], tokenHash: hashSecretToken(token) });
    await data.analytics.putSettings({
      tenantId: tenant.id,
      actor: { kind: 'API_TOKEN', id: tenant.id, name: 'bench', sourceIp: null },
      now: new Date(),
      settings: {
        currency: 'EUR',
        pricePer1kTokens: 0.0004,
        modelPrices: [{ model: 'llama3.1:70b', pricePer1kTokens: 0.0009 }],
        monthlyBudget: 2_000,
        hoursSavedPerDeliveredChange: { FIX: 2.5, NOOP: 0 },
        minimumGroupSize: 5,
      },
    });

    const seedStarted = performance.now();
    await seedClient.query('SELECT setseed(0.42)');
    await seedWorkers(seedClient, tenant.id);
    await seedResultTemplates(seedClient);
    for (let first = 1; first <= JOBS; first += CHUNK) {
      const last = Math.min(JOBS, first + CHUNK - 1);
      await seedChunk(seedClient, tenant.id, first, last);
      console.log(`  seeded ${last.toLocaleString('en')}/${JOBS.toLocaleString('en')} jobs (${seconds(performance.now() - seedStarted)})`);
    }
    await seedOnlineTime(seedClient, tenant.id);
    await seedClient.query('ANALYZE');
    const counts = (await seedClient.query<{ jobs: string; attempts: string; decisions: string }>(
      `SELECT (SELECT count(*) FROM "Job") AS jobs, (SELECT count(*) FROM "JobAttempt") AS attempts, (SELECT count(*) FROM "PolicyDecision") AS decisions`,
    )).rows[0];
    const seedMs = performance.now() - seedStarted;
    console.log(`seeded ${Number(counts?.jobs).toLocaleString('en')} jobs, ${Number(counts?.attempts).toLocaleString('en')} attempts, ${Number(counts?.decisions).toLocaleString('en')} policy decisions in ${seconds(seedMs)}`);

    const rebuildStarted = performance.now();
    await data.analytics.rebuild(tenant.id);
    const rebuildMs = performance.now() - rebuildStarted;
    // What autovacuum does after a bulk insert: statistics, and the visibility map index-only reads rely on.
    const vacuumStarted = performance.now();
    for (const table of ['AnalyticsCohortRollup', 'AnalyticsOutcomeRollup', 'AnalyticsDurationRollup', 'AnalyticsTokenRollup', 'AnalyticsPolicyRollup', 'AnalyticsFleetRollup', 'AnalyticsJobState']) {
      await seedClient.query(`VACUUM ANALYZE "${table}"`);
    }
    const vacuumMs = performance.now() - vacuumStarted;
    const rollupRows = (await seedClient.query<{ table: string; rows: string }>(
      `SELECT 'cohort' AS table, count(*) AS rows FROM "AnalyticsCohortRollup" UNION ALL SELECT 'outcome', count(*) FROM "AnalyticsOutcomeRollup"
       UNION ALL SELECT 'durations', count(*) FROM "AnalyticsDurationRollup"
       UNION ALL SELECT 'tokens', count(*) FROM "AnalyticsTokenRollup" UNION ALL SELECT 'policy', count(*) FROM "AnalyticsPolicyRollup"
       UNION ALL SELECT 'fleet', count(*) FROM "AnalyticsFleetRollup"`,
    )).rows;
    console.log(`backfill (analytics_rebuild_tenant) took ${seconds(rebuildMs)}, then VACUUM ANALYZE of its tables ${seconds(vacuumMs)}: ${rollupRows.map((row) => `${row.table} ${Number(row.rows).toLocaleString('en')} rows`).join(', ')}`);

    const controlPlane = await startControlPlane(
      loadAppConfig({ DATABASE_URL: databaseUrl, AIRLOCK_DATA_DIR: join(baseDir, 'control-plane'), AIRLOCK_HTTP_PORT: '0', AIRLOCK_GRPC_PORT: '0', AIRLOCK_METRICS_PORT: '0', LOG_LEVEL: 'fatal' }),
    );
    try {
      const today = new Date().toISOString().slice(0, 10);
      const daysAgo = (days: number): string => new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);
      // The busiest repository and a pool of six workers.
      const topRepo = 'svc-00';
      const month = { from: daysAgo(29), to: today };
      const year = { from: daysAgo(364), to: today };
      const shapes: Shape[] = [
        { label: 'last 30 days, no filter', query: month, csv: false, scan: true },
        { label: 'last 30 days, repoAlias', query: { ...month, repoAlias: topRepo }, csv: false, scan: true },
        { label: 'last 30 days, pool', query: { ...month, pool: 'gpu' }, csv: false, scan: true },
        { label: 'last 30 days, kind', query: { ...month, kind: 'FIX' }, csv: false, scan: true },
        { label: 'last 30 days, CSV export', query: month, csv: true, scan: true },
        { label: 'a year, no filter', query: year, csv: false, scan: true },
        { label: 'a year, repoAlias', query: { ...year, repoAlias: topRepo }, csv: false, scan: false },
        { label: 'a year, pool', query: { ...year, pool: 'gpu' }, csv: false, scan: false },
        { label: 'a year, kind', query: { ...year, kind: 'FIX' }, csv: false, scan: false },
        { label: 'a year, CSV export', query: year, csv: true, scan: false },
      ];
      const analytics = controlPlane.dataAccess.analytics;
      const settings = await analytics.getSettings(tenant.id);
      const inProcess = async (shape: Shape, source: 'rollups' | 'scan'): Promise<void> => {
        const now = new Date();
        const scope: AnalyticsScope = { tenantId: tenant.id, ...shape.query };
        const options = { now, ...spendWindow(now) };
        const aggregates = source === 'rollups' ? await analytics.aggregate(scope, options) : await analytics.aggregateByScanning(scope, options);
        const { from, to, ...filters } = shape.query;
        const report = buildAnalyticsReport({ range: { from, to }, filters, aggregates, settings, now });
        if (shape.csv) renderAnalyticsCsv(report);
      };
      const overHttp = async (shape: Shape): Promise<void> => {
        const { from, to, repoAlias, pool, kind } = shape.query;
        const query = new URLSearchParams({ from, to, ...(repoAlias ? { repoAlias } : {}), ...(pool ? { pool } : {}), ...(kind ? { kind: kind.toLowerCase() } : {}) });
        const response = await fetch(`${controlPlane.httpUrl}/api/v1/analytics${shape.csv ? '/export.csv' : ''}?${query.toString()}`, { headers: { authorization: `Bearer ${token}` } });
        if (response.status !== 200) throw new Error(`GET analytics answered ${response.status}: ${await response.text()}`);
        await response.text();
      };

      const rows: Row[] = [];
      for (const shape of shapes) {
        rows.push({ shape: shape.label, source: 'rollups, over HTTP', samples: await timed(REPEATS, 3, () => overHttp(shape)) });
        rows.push({ shape: shape.label, source: 'rollups, in process', samples: await timed(REPEATS, 1, () => inProcess(shape, 'rollups')) });
        if (!shape.scan) continue;
        process.stdout.write(`  measured ${shape.label} on rollups; scanning the jobs table…\n`);
        const repeats = shape.query === year ? 1 : SCAN_REPEATS;
        rows.push({ shape: shape.label, source: 'scanning the jobs table', samples: await timed(repeats, 0, () => inProcess(shape, 'scan')) });
      }

      const cell = (ms: number): string => (ms >= 10_000 ? ms.toFixed(0) : ms.toFixed(1)).padStart(9);
      console.log('\n| request shape (milliseconds)       | answered from               |     n |       p50 |       p95 |       max |');
      console.log('|------------------------------------|-----------------------------|-------|-----------|-----------|-----------|');
      for (const row of rows) {
        console.log(`| ${row.shape.padEnd(34)} | ${row.source.padEnd(27)} | ${String(row.samples.length).padStart(5)} | ${cell(percentile(row.samples, 0.5))} | ${cell(percentile(row.samples, 0.95))} | ${cell(Math.max(...row.samples))} |`);
      }
      console.log('');
      for (const shape of shapes) {
        const of = (source: string) => rows.find((row) => row.shape === shape.label && row.source === source)?.samples ?? [];
        const http = percentile(of('rollups, over HTTP'), 0.95);
        const scan = percentile(of('scanning the jobs table'), 0.5);
        const rollups = percentile(of('rollups, in process'), 0.5);
        const versus = shape.scan ? `; scanning takes ${(scan / rollups).toFixed(0)}× the rollups' median` : '';
        console.log(`${shape.label}: p95 over HTTP ${http.toFixed(1)} ms (goal: under ${GOAL_MS} ms) ${http < GOAL_MS ? 'met' : 'MISSED'}${versus}`);
      }
    } finally {
      await controlPlane.stop();
    }
    console.log(`\nbench:analytics took ${seconds(performance.now() - started)} (seeding ${seconds(seedMs)}, backfill ${seconds(rebuildMs)}); load average at the end ${loadavg().map((load) => load.toFixed(2)).join(' ')}`);
  } finally {
    await seedClient?.end().catch(() => undefined);
    await data?.close();
    await cluster.stop();
    rmSync(baseDir, { recursive: true, force: true });
  }
}

// Run as a script; imported (to seed a database while developing), it only lends its seeding.
if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`bench:analytics failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
