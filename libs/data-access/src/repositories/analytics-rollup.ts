import type { DatabaseTransaction } from '../database-client';

/**
 * Keeps the analytics rollups current, inside the transaction of the change that moves
 * them: JobRepository syncs the jobs of every job transition (`syncJobsAnalytics` for the
 * transitions it commits together, `syncJobAnalytics` for one) and WorkerRepository calls
 * the session functions when a worker connects or goes away. Nothing here scans jobs: a sync
 * reads the facts of the jobs it is given (analytics_job_facts: the AnalyticsJobFacts view
 * the rebuild reads too) and the contribution each has in the rollups now
 * (AnalyticsJobState), and adds the difference.
 *
 * Rows that transactions share (every job adds to the tenant-wide '*' rows of its day) are
 * locked in one global order, so two transactions that meet on them wait for each other
 * instead of deadlocking: each writer here writes a table with one statement, the tables
 * in a fixed order (cohort, outcome, durations, tokens, policy, fleet, then the jobs'
 * states) and each statement's rows in key order, tenant first. What the jobs of a batch
 * add to the same row is summed first (one INSERT … ON CONFLICT cannot touch a row twice).
 * That holds for a transaction that calls one writer once: one that synced its jobs one
 * call each would write the union of their rows out of order, so a transaction syncs all
 * its jobs with one `syncJobsAnalytics`.
 */

/** The two-key advisory lock class of a tenant's analytics ("ANLY"): writers take it shared, a rebuild exclusive. */
export const ANALYTICS_LOCK_CLASS = 1_095_650_393;

/** A dimension value meaning "every value": the row counts all of them. */
export const ALL_VALUES = '*';

const DAY_MS = 86_400_000;

/** The cohort counters a job contributes on its creation day. */
export interface CohortCounters {
  readonly created: number;
  readonly ran: number;
  readonly testsPassed: number;
  readonly delivered: number;
  /** Delivered without its tests passing (an advisory or switched-off tests-must-pass let it through). */
  readonly deliveredUntested: number;
  readonly implausible: number;
}

const COHORT_COUNTERS = ['created', 'ran', 'testsPassed', 'delivered', 'deliveredUntested', 'implausible'] as const satisfies readonly (keyof CohortCounters)[];

/** One inference endpoint and model of a result, as the facts view normalises modelUsage. */
interface UsageFact {
  readonly endpoint: string;
  readonly model: string;
  readonly requests: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
}

/** The job's policy decisions of one rule, level and outcome. */
interface DecisionFact {
  readonly rule: string;
  readonly level: string;
  readonly outcome: string;
  readonly count: number;
  /** The first (level, outcome) of its rule on this job: where the job is counted once per rule. */
  readonly firstOfRule: boolean;
}

/** An attempt that ended: the slot time it held, on its worker's pool. */
interface AttemptFact {
  readonly attempt: number;
  readonly fromMs: number;
  readonly untilMs: number;
  readonly pool: string;
}

/** What a job contributes to the rollups: its AnalyticsJobState row without its ids. */
interface StateRow extends CohortCounters {
  readonly pool: string;
  readonly model: string;
  readonly finished: boolean;
  readonly busyThroughAttempt: number;
}

/** A job's AnalyticsJobState row as a sync writes it. */
interface JobState extends StateRow {
  readonly jobId: string;
  readonly tenantId: string;
}

interface JobFactsRow {
  readonly tenantId: string;
  readonly jobId: string;
  readonly kind: string;
  readonly repoAlias: string;
  readonly status: string;
  readonly terminal: boolean;
  readonly implausible: boolean;
  readonly createdDay: string;
  readonly finishedDay: string | null;
  readonly ran: boolean;
  readonly pool: string;
  readonly model: string;
  readonly testsPassed: boolean;
  readonly delivered: boolean;
  readonly hasModelUsage: boolean;
  readonly usedFallback: boolean;
  readonly linesAdded: number;
  readonly linesRemoved: number;
  readonly filesChanged: number;
  readonly histogramKeys: string[];
  readonly usage: UsageFact[];
  readonly decisions: DecisionFact[];
  readonly endedAttempts: AttemptFact[];
  readonly state: StateRow | null;
}

/** Where a job is counted in the cohort rollup, and with what. */
interface CohortContribution {
  readonly pool: string;
  readonly model: string;
  readonly counters: CohortCounters;
}

/** A job to sync, with the tenant it belongs to. */
export interface AnalyticsJobRef {
  readonly tenantId: string;
  readonly jobId: string;
}

/**
 * Brings the job's contribution to the tenant's rollups up to date with its current state:
 * call it in the transaction of every change of the job (creation, ack, result, rejection,
 * lease expiry, cancel). A call that finds nothing new writes nothing but the job's state.
 */
export async function syncJobAnalytics(tx: DatabaseTransaction, tenantId: string, jobId: string): Promise<void> {
  await syncJobsAnalytics(tx, [{ tenantId, jobId }]);
}

/**
 * Brings the contributions of many jobs (of any tenants) up to date in one transaction, with
 * exactly the effect of `syncJobAnalytics` for each in turn: for the transitions committed
 * together. It reads the jobs' facts with one query and writes each table with one
 * statement, in the order the file's header explains. A job listed twice is synced once; a
 * job that does not exist (in its tenant) is left out.
 */
export async function syncJobsAnalytics(tx: DatabaseTransaction, jobs: readonly AnalyticsJobRef[]): Promise<void> {
  if (jobs.length === 0) return;
  await lockTenantsAnalyticsShared(tx, jobs.map((job) => job.tenantId));
  const changes = new RollupChanges();
  for (const facts of await readJobFacts(tx, jobs)) addJobChanges(changes, facts);
  await writeCohortDeltas(tx, changes.cohort.rows());
  await writeOutcomeDeltas(tx, changes.outcome.rows());
  await writeDurationDeltas(tx, changes.durations.rows());
  await writeTokenDeltas(tx, changes.tokens.rows());
  await writePolicyDeltas(tx, changes.policy.rows());
  await writeFleetDeltas(tx, changes.fleet.rows());
  await writeJobStates(tx, changes.jobStates);
}

/**
 * Shared: transitions of a tenant's jobs go on together, but never while a rebuild (which
 * takes the lock exclusive) runs. One statement takes the locks of all the tenants, in tenant
 * order: a batch then never holds one tenant's lock while it waits for a lower one, so two
 * batches queued behind rebuilds of different tenants cannot wait for each other.
 */
async function lockTenantsAnalyticsShared(tx: DatabaseTransaction, tenantIds: readonly string[]): Promise<void> {
  // DISTINCT keeps the subquery from being merged into the outer query, so its ORDER BY is the order the locks are taken in.
  await tx.$executeRaw`
    SELECT pg_advisory_xact_lock_shared(${ANALYTICS_LOCK_CLASS}::int4, hashtext(t.tenant_id::text))
    FROM (SELECT DISTINCT u.tenant_id FROM unnest(${tenantIds}::uuid[]) AS u(tenant_id) ORDER BY u.tenant_id) AS t`;
}

/** The facts of the jobs, each with its state (null before its first sync); a job listed twice comes once. */
async function readJobFacts(tx: DatabaseTransaction, jobs: readonly AnalyticsJobRef[]): Promise<JobFactsRow[]> {
  return tx.$queryRaw<JobFactsRow[]>`
    SELECT f."tenantId"::text AS "tenantId", f."jobId"::text AS "jobId",
           f."kind", f."repoAlias", f."status", f."terminal", f."implausible", f."createdDay"::text AS "createdDay", f."finishedDay"::text AS "finishedDay",
           f."ran", f."pool", f."model", f."testsPassed", f."delivered", f."hasModelUsage", f."usedFallback",
           f."linesAdded"::float8 AS "linesAdded", f."linesRemoved"::float8 AS "linesRemoved", f."filesChanged"::float8 AS "filesChanged",
           f."histogramKeys", f."usage", f."decisions", f."endedAttempts",
           CASE WHEN s."jobId" IS NULL THEN NULL ELSE to_jsonb(s) END AS "state"
    FROM (SELECT DISTINCT i.job_id, i.tenant_id FROM unnest(${jobs.map((job) => job.jobId)}::uuid[], ${jobs.map((job) => job.tenantId)}::uuid[]) AS i(job_id, tenant_id)) AS i
    CROSS JOIN LATERAL analytics_job_facts(i.job_id, i.tenant_id) AS f
    LEFT JOIN "AnalyticsJobState" AS s ON s."jobId" = f."jobId"`;
}

/** The key columns a cube rollup row shares with every other: its tenant, grain and dimension values. */
interface CubeKey {
  readonly tenantId: string;
  readonly grain: number;
  readonly dimensions: readonly string[];
}

/** (kind, repoAlias, pool, model) on a creation day. */
interface CohortKey extends CubeKey {
  readonly day: string;
}

/** (kind, repoAlias, pool) in a finish day or month. */
interface OutcomeKey extends CubeKey {
  readonly period: string;
  readonly start: string;
}

/** (repoAlias, pool) in a finish day or month. */
type DurationKey = OutcomeKey;

/** (kind, repoAlias, pool) on a finish day. */
interface TokenKey extends CubeKey {
  readonly day: string;
  readonly endpoint: string;
  readonly model: string;
}

/** (kind, repoAlias, pool) on a finish day. */
interface PolicyKey extends CubeKey {
  readonly day: string;
  readonly rule: string;
  readonly level: string;
  readonly outcome: string;
}

/** A pool (or '*') on a UTC day. */
interface FleetKey {
  readonly tenantId: string;
  readonly pool: string;
  readonly day: string;
}

type TokenCount = 'jobs' | 'requests' | 'promptTokens' | 'completionTokens';
type PolicyCount = 'decisions' | 'jobs' | 'ruleJobs';
type SlotTimeColumn = 'busyMs' | 'onlineSlotMs';

/** A rollup row's key and what a sync adds to its counts. */
interface RowDelta<Key, Count extends string> {
  readonly key: Key;
  readonly counts: Record<Count, number>;
}

/**
 * What a sync adds to the rows of one rollup table, summed per row over all its jobs: one
 * INSERT … ON CONFLICT DO UPDATE cannot touch a row twice, and the jobs of a batch share
 * rows. A histogram's buckets are counts like any other, so two histograms merge bucket by
 * bucket.
 */
class RowDeltas<Key extends object, Count extends string> {
  private readonly byKey = new Map<string, RowDelta<Key, Count>>();

  add(key: Key, counts: Readonly<Record<Count, number>>): void {
    // Every key of a table is built by the same code, so its properties come in the same order.
    const id = JSON.stringify(key);
    const row = this.byKey.get(id);
    if (!row) {
      this.byKey.set(id, { key, counts: { ...counts } });
      return;
    }
    for (const name of Object.keys(counts) as Count[]) row.counts[name] = (row.counts[name] ?? 0) + counts[name];
  }

  rows(): RowDelta<Key, Count>[] {
    return [...this.byKey.values()];
  }
}

/** Everything a sync writes: the rollup deltas of all its jobs, and their states. */
class RollupChanges {
  readonly cohort = new RowDeltas<CohortKey, keyof CohortCounters>();
  readonly outcome = new RowDeltas<OutcomeKey, keyof OutcomeFigures>();
  /** Keyed by `<metric>.<bucket>`: the count of jobs that fell in the bucket. */
  readonly durations = new RowDeltas<DurationKey, string>();
  readonly tokens = new RowDeltas<TokenKey, TokenCount>();
  readonly policy = new RowDeltas<PolicyKey, PolicyCount>();
  readonly fleet = new RowDeltas<FleetKey, SlotTimeColumn>();
  readonly jobStates: JobState[] = [];
}

/** Adds what syncing one job changes: moves its cohort counts, adds its finish once, its newly ended attempts, and its new state. */
function addJobChanges(changes: RollupChanges, facts: JobFactsRow): void {
  const { tenantId, state } = facts;

  const desired = cohortContribution(facts);
  if (state) addCohortContribution(changes.cohort, facts, { pool: state.pool, model: state.model, counters: state }, -1);
  addCohortContribution(changes.cohort, facts, desired, 1);

  const finishing = facts.terminal && facts.finishedDay !== null && !(state?.finished ?? false);
  if (finishing && facts.finishedDay !== null) {
    const dimensions = [facts.kind, facts.repoAlias, facts.pool] as const;
    addOutcome(changes.outcome, tenantId, dimensions, facts.finishedDay, outcomeOf(facts));
    // Durations are of fix jobs: a noop job is a probe without phases.
    if (!facts.implausible && facts.kind === 'FIX') addDurations(changes.durations, tenantId, [facts.repoAlias, facts.pool], facts.finishedDay, facts.histogramKeys);
    if (!facts.implausible) {
      addTokens(changes.tokens, tenantId, dimensions, facts.finishedDay, facts.usage);
      addDecisions(changes.policy, tenantId, dimensions, facts.finishedDay, facts.decisions);
    }
  }

  const busyThrough = state?.busyThroughAttempt ?? 0;
  const newlyEnded = facts.endedAttempts.filter((attempt) => attempt.attempt > busyThrough);
  addSlotTime(
    changes.fleet,
    newlyEnded.map((attempt) => ({ tenantId, pool: attempt.pool, fromMs: attempt.fromMs, untilMs: attempt.untilMs, slots: 1, column: 'busyMs' as const })),
  );

  changes.jobStates.push({
    jobId: facts.jobId,
    tenantId,
    pool: desired.pool,
    model: desired.model,
    ...desired.counters,
    finished: (state?.finished ?? false) || finishing,
    busyThroughAttempt: Math.max(busyThrough, ...newlyEnded.map((attempt) => attempt.attempt)),
  });
}

/**
 * A job's place in the cohort rollup: its pool and model as known now, and the stages it
 * reached. A job whose result is implausible is counted only as that.
 */
function cohortContribution(facts: JobFactsRow): CohortContribution {
  const plausible = !facts.implausible;
  const counters: CohortCounters = {
    created: plausible ? 1 : 0,
    ran: plausible && facts.ran ? 1 : 0,
    testsPassed: plausible && facts.testsPassed ? 1 : 0,
    delivered: plausible && facts.delivered ? 1 : 0,
    deliveredUntested: plausible && facts.delivered && !facts.testsPassed ? 1 : 0,
    implausible: plausible ? 0 : 1,
  };
  return { pool: facts.pool, model: facts.model, counters };
}

/**
 * Every row of the cube a set of dimension values adds to: the values themselves (grain 0)
 * and each combination with some replaced by '*'. The grain's bits follow SQL's GROUPING():
 * the first dimension is the highest bit.
 */
export function cubeOf(values: readonly string[]): { grain: number; dimensions: string[] }[] {
  const count = values.length;
  return Array.from({ length: 1 << count }, (_, grain) => ({
    grain,
    dimensions: values.map((value, index) => ((grain & (1 << (count - 1 - index))) !== 0 ? ALL_VALUES : value)),
  }));
}

/**
 * Adds (sign 1) or takes off (sign -1) a cohort contribution on every cube row of its key, on
 * the job's creation day. A sync takes off what the job's state says it applied and adds what
 * it should contribute now, so a job that moved (a pool or model learnt later) leaves its old
 * rows and joins its new ones.
 */
function addCohortContribution(deltas: RowDeltas<CohortKey, keyof CohortCounters>, facts: JobFactsRow, contribution: CohortContribution, sign: 1 | -1): void {
  const counts = Object.fromEntries(COHORT_COUNTERS.map((counter) => [counter, sign * contribution.counters[counter]])) as Record<keyof CohortCounters, number>;
  for (const row of cubeOf([facts.kind, facts.repoAlias, contribution.pool, contribution.model])) {
    deltas.add({ tenantId: facts.tenantId, grain: row.grain, dimensions: row.dimensions, day: facts.createdDay }, counts);
  }
}

/** The values of one dimension of cube rows, as a column. */
function dimensionColumn(rows: readonly RowDelta<CubeKey, string>[], index: number): string[] {
  return rows.map((row) => row.key.dimensions[index] ?? ALL_VALUES);
}

async function writeCohortDeltas(tx: DatabaseTransaction, deltas: readonly RowDelta<CohortKey, keyof CohortCounters>[]): Promise<void> {
  // Where what jobs left and what they joined cancel out there is nothing to add: the row is left alone rather than locked.
  const rows = deltas.filter((row) => COHORT_COUNTERS.some((counter) => row.counts[counter] !== 0));
  if (rows.length === 0) return;
  const counter = (name: keyof CohortCounters) => rows.map((row) => row.counts[name]);
  await tx.$executeRaw`
    INSERT INTO "AnalyticsCohortRollup" AS r ("tenantId", "grain", "kind", "repoAlias", "pool", "model", "day", "created", "ran", "testsPassed", "delivered", "deliveredUntested", "implausible")
    SELECT v.tenant, v.grain, v.kind, v.repo, v.pool, v.model, v.day, v.created, v.ran, v.tests, v.delivered, v.untested, v.implausible
    FROM unnest(${rows.map((row) => row.key.tenantId)}::uuid[], ${rows.map((row) => row.key.grain)}::int[],
                ${dimensionColumn(rows, 0)}::text[], ${dimensionColumn(rows, 1)}::text[], ${dimensionColumn(rows, 2)}::text[], ${dimensionColumn(rows, 3)}::text[],
                ${rows.map((row) => row.key.day)}::date[],
                ${counter('created')}::int[], ${counter('ran')}::int[], ${counter('testsPassed')}::int[], ${counter('delivered')}::int[],
                ${counter('deliveredUntested')}::int[], ${counter('implausible')}::int[])
         AS v(tenant, grain, kind, repo, pool, model, day, created, ran, tests, delivered, untested, implausible)
    ORDER BY v.tenant, v.grain, v.kind, v.repo, v.pool, v.model, v.day
    ON CONFLICT ("tenantId", "grain", "kind", "repoAlias", "pool", "model", "day") DO UPDATE SET
      "created" = r."created" + EXCLUDED."created",
      "ran" = r."ran" + EXCLUDED."ran",
      "testsPassed" = r."testsPassed" + EXCLUDED."testsPassed",
      "delivered" = r."delivered" + EXCLUDED."delivered",
      "deliveredUntested" = r."deliveredUntested" + EXCLUDED."deliveredUntested",
      "implausible" = r."implausible" + EXCLUDED."implausible"`;
}

/** What a finished job adds to the outcome rollup of its finish day and month. */
interface OutcomeFigures {
  readonly finished: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly cancelled: number;
  readonly delivered: number;
  readonly testsPassed: number;
  readonly implausible: number;
  readonly jobsWithModelUsage: number;
  readonly jobsWithFallback: number;
  readonly linesAdded: number;
  readonly linesRemoved: number;
  readonly filesChanged: number;
}

/** A finished job's outcome figures; one whose result is implausible counts as that alone. */
function outcomeOf(facts: JobFactsRow): OutcomeFigures {
  if (facts.implausible) {
    return { ...zeroOutcome(), implausible: 1 };
  }
  const delivered = facts.delivered ? 1 : 0;
  return {
    finished: 1,
    succeeded: facts.status === 'SUCCEEDED' ? 1 : 0,
    failed: facts.status === 'FAILED' ? 1 : 0,
    cancelled: facts.status === 'CANCELLED' ? 1 : 0,
    delivered,
    testsPassed: facts.testsPassed ? 1 : 0,
    implausible: 0,
    jobsWithModelUsage: facts.hasModelUsage ? 1 : 0,
    jobsWithFallback: facts.usedFallback ? 1 : 0,
    linesAdded: delivered * facts.linesAdded,
    linesRemoved: delivered * facts.linesRemoved,
    filesChanged: delivered * facts.filesChanged,
  };
}

function zeroOutcome(): OutcomeFigures {
  return {
    finished: 0,
    succeeded: 0,
    failed: 0,
    cancelled: 0,
    delivered: 0,
    testsPassed: 0,
    implausible: 0,
    jobsWithModelUsage: 0,
    jobsWithFallback: 0,
    linesAdded: 0,
    linesRemoved: 0,
    filesChanged: 0,
  };
}

/** The first day of the month of a `YYYY-MM-DD` day. */
export function monthStartOf(day: string): string {
  return `${day.slice(0, 7)}-01`;
}

/** The periods a finish day counts in: the day itself and its month. */
function finishPeriods(finishedDay: string): { period: string; start: string }[] {
  return [
    { period: 'day', start: finishedDay },
    { period: 'month', start: monthStartOf(finishedDay) },
  ];
}

function addOutcome(deltas: RowDeltas<OutcomeKey, keyof OutcomeFigures>, tenantId: string, values: readonly string[], finishedDay: string, figures: OutcomeFigures): void {
  for (const row of cubeOf(values)) {
    for (const { period, start } of finishPeriods(finishedDay)) deltas.add({ tenantId, grain: row.grain, dimensions: row.dimensions, period, start }, figures);
  }
}

async function writeOutcomeDeltas(tx: DatabaseTransaction, rows: readonly RowDelta<OutcomeKey, keyof OutcomeFigures>[]): Promise<void> {
  if (rows.length === 0) return;
  const counter = (name: keyof OutcomeFigures) => rows.map((row) => row.counts[name]);
  await tx.$executeRaw`
    INSERT INTO "AnalyticsOutcomeRollup" AS r ("tenantId", "grain", "kind", "repoAlias", "pool", "period", "start", "finished", "succeeded", "failed", "cancelled",
      "delivered", "testsPassed", "implausible", "jobsWithModelUsage", "jobsWithFallback", "linesAdded", "linesRemoved", "filesChanged")
    SELECT v.tenant, v.grain, v.kind, v.repo, v.pool, v.period, v.start, v.finished, v.succeeded, v.failed, v.cancelled,
      v.delivered, v.tests, v.implausible, v.usage, v.fallback, v.added, v.removed, v.files
    FROM unnest(${rows.map((row) => row.key.tenantId)}::uuid[], ${rows.map((row) => row.key.grain)}::int[],
                ${dimensionColumn(rows, 0)}::text[], ${dimensionColumn(rows, 1)}::text[], ${dimensionColumn(rows, 2)}::text[],
                ${rows.map((row) => row.key.period)}::text[], ${rows.map((row) => row.key.start)}::date[],
                ${counter('finished')}::int[], ${counter('succeeded')}::int[], ${counter('failed')}::int[], ${counter('cancelled')}::int[],
                ${counter('delivered')}::int[], ${counter('testsPassed')}::int[], ${counter('implausible')}::int[], ${counter('jobsWithModelUsage')}::int[],
                ${counter('jobsWithFallback')}::int[], ${counter('linesAdded')}::bigint[], ${counter('linesRemoved')}::bigint[], ${counter('filesChanged')}::bigint[])
         AS v(tenant, grain, kind, repo, pool, period, start, finished, succeeded, failed, cancelled, delivered, tests, implausible, usage, fallback, added, removed, files)
    ORDER BY v.tenant, v.grain, v.kind, v.repo, v.pool, v.period, v.start
    ON CONFLICT ("tenantId", "grain", "kind", "repoAlias", "pool", "period", "start") DO UPDATE SET
      "finished" = r."finished" + EXCLUDED."finished",
      "succeeded" = r."succeeded" + EXCLUDED."succeeded",
      "failed" = r."failed" + EXCLUDED."failed",
      "cancelled" = r."cancelled" + EXCLUDED."cancelled",
      "delivered" = r."delivered" + EXCLUDED."delivered",
      "testsPassed" = r."testsPassed" + EXCLUDED."testsPassed",
      "implausible" = r."implausible" + EXCLUDED."implausible",
      "jobsWithModelUsage" = r."jobsWithModelUsage" + EXCLUDED."jobsWithModelUsage",
      "jobsWithFallback" = r."jobsWithFallback" + EXCLUDED."jobsWithFallback",
      "linesAdded" = r."linesAdded" + EXCLUDED."linesAdded",
      "linesRemoved" = r."linesRemoved" + EXCLUDED."linesRemoved",
      "filesChanged" = r."filesChanged" + EXCLUDED."filesChanged"`;
}

/**
 * The grains the duration histograms are kept at, over (repository, pool): per repository,
 * per pool, and for all. Not per pair: at a job's grain a histogram holds little more than
 * the job itself, so rolling it up would keep a copy of every job (docs/benchmarks.md).
 */
export const DURATION_GRAINS = [1, 2, 3] as const;

/** Adds a finished fix job's durations (`<metric>.<bucket>` keys) to the histograms of its day and month. */
function addDurations(deltas: RowDeltas<DurationKey, string>, tenantId: string, values: readonly [string, string], finishedDay: string, keys: readonly string[]): void {
  if (keys.length === 0) return;
  const histogram: Record<string, number> = {};
  for (const key of keys) histogram[key] = (histogram[key] ?? 0) + 1;
  for (const row of cubeOf(values).filter((cubeRow) => (DURATION_GRAINS as readonly number[]).includes(cubeRow.grain))) {
    for (const { period, start } of finishPeriods(finishedDay)) deltas.add({ tenantId, grain: row.grain, dimensions: row.dimensions, period, start }, histogram);
  }
}

async function writeDurationDeltas(tx: DatabaseTransaction, rows: readonly RowDelta<DurationKey, string>[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.$executeRaw`
    INSERT INTO "AnalyticsDurationRollup" AS r ("tenantId", "grain", "repoAlias", "pool", "period", "start", "histogram")
    SELECT v.tenant, v.grain, v.repo, v.pool, v.period, v.start, v.histogram
    FROM unnest(${rows.map((row) => row.key.tenantId)}::uuid[], ${rows.map((row) => row.key.grain)}::int[], ${dimensionColumn(rows, 0)}::text[], ${dimensionColumn(rows, 1)}::text[],
                ${rows.map((row) => row.key.period)}::text[], ${rows.map((row) => row.key.start)}::date[], ${rows.map((row) => JSON.stringify(row.counts))}::jsonb[])
         AS v(tenant, grain, repo, pool, period, start, histogram)
    ORDER BY v.tenant, v.grain, v.repo, v.pool, v.period, v.start
    ON CONFLICT ("tenantId", "grain", "repoAlias", "pool", "period", "start") DO UPDATE SET
      "histogram" = analytics_add_counts(r."histogram", EXCLUDED."histogram")`;
}

function addTokens(deltas: RowDeltas<TokenKey, TokenCount>, tenantId: string, values: readonly string[], day: string, usage: readonly UsageFact[]): void {
  for (const row of cubeOf(values)) {
    for (const entry of usage) {
      deltas.add(
        { tenantId, grain: row.grain, dimensions: row.dimensions, day, endpoint: entry.endpoint, model: entry.model },
        { jobs: 1, requests: entry.requests, promptTokens: entry.promptTokens, completionTokens: entry.completionTokens },
      );
    }
  }
}

async function writeTokenDeltas(tx: DatabaseTransaction, rows: readonly RowDelta<TokenKey, TokenCount>[]): Promise<void> {
  if (rows.length === 0) return;
  const counter = (name: TokenCount) => rows.map((row) => row.counts[name]);
  await tx.$executeRaw`
    INSERT INTO "AnalyticsTokenRollup" AS r ("tenantId", "grain", "kind", "repoAlias", "pool", "day", "endpoint", "model", "jobs", "requests", "promptTokens", "completionTokens")
    SELECT v.tenant, v.grain, v.kind, v.repo, v.pool, v.day, v.endpoint, v.model, v.jobs, v.requests, v.prompt, v.completion
    FROM unnest(${rows.map((row) => row.key.tenantId)}::uuid[], ${rows.map((row) => row.key.grain)}::int[],
                ${dimensionColumn(rows, 0)}::text[], ${dimensionColumn(rows, 1)}::text[], ${dimensionColumn(rows, 2)}::text[], ${rows.map((row) => row.key.day)}::date[],
                ${rows.map((row) => row.key.endpoint)}::text[], ${rows.map((row) => row.key.model)}::text[],
                ${counter('jobs')}::int[], ${counter('requests')}::bigint[], ${counter('promptTokens')}::bigint[], ${counter('completionTokens')}::bigint[])
         AS v(tenant, grain, kind, repo, pool, day, endpoint, model, jobs, requests, prompt, completion)
    ORDER BY v.tenant, v.grain, v.kind, v.repo, v.pool, v.day, v.endpoint, v.model
    ON CONFLICT ("tenantId", "grain", "kind", "repoAlias", "pool", "day", "endpoint", "model") DO UPDATE SET
      "jobs" = r."jobs" + EXCLUDED."jobs",
      "requests" = r."requests" + EXCLUDED."requests",
      "promptTokens" = r."promptTokens" + EXCLUDED."promptTokens",
      "completionTokens" = r."completionTokens" + EXCLUDED."completionTokens"`;
}

function addDecisions(deltas: RowDeltas<PolicyKey, PolicyCount>, tenantId: string, values: readonly string[], day: string, decisions: readonly DecisionFact[]): void {
  for (const row of cubeOf(values)) {
    for (const decision of decisions) {
      deltas.add(
        { tenantId, grain: row.grain, dimensions: row.dimensions, day, rule: decision.rule, level: decision.level, outcome: decision.outcome },
        { decisions: decision.count, jobs: 1, ruleJobs: decision.firstOfRule ? 1 : 0 },
      );
    }
  }
}

async function writePolicyDeltas(tx: DatabaseTransaction, rows: readonly RowDelta<PolicyKey, PolicyCount>[]): Promise<void> {
  if (rows.length === 0) return;
  const counter = (name: PolicyCount) => rows.map((row) => row.counts[name]);
  await tx.$executeRaw`
    INSERT INTO "AnalyticsPolicyRollup" AS r ("tenantId", "grain", "kind", "repoAlias", "pool", "day", "rule", "level", "outcome", "decisions", "jobs", "ruleJobs")
    SELECT v.tenant, v.grain, v.kind, v.repo, v.pool, v.day, v.rule, v.level, v.outcome, v.decisions, v.jobs, v.rule_jobs
    FROM unnest(${rows.map((row) => row.key.tenantId)}::uuid[], ${rows.map((row) => row.key.grain)}::int[],
                ${dimensionColumn(rows, 0)}::text[], ${dimensionColumn(rows, 1)}::text[], ${dimensionColumn(rows, 2)}::text[], ${rows.map((row) => row.key.day)}::date[],
                ${rows.map((row) => row.key.rule)}::text[], ${rows.map((row) => row.key.level)}::text[], ${rows.map((row) => row.key.outcome)}::text[],
                ${counter('decisions')}::int[], ${counter('jobs')}::int[], ${counter('ruleJobs')}::int[])
         AS v(tenant, grain, kind, repo, pool, day, rule, level, outcome, decisions, jobs, rule_jobs)
    ORDER BY v.tenant, v.grain, v.kind, v.repo, v.pool, v.day, v.rule, v.level, v.outcome
    ON CONFLICT ("tenantId", "grain", "kind", "repoAlias", "pool", "day", "rule", "level", "outcome") DO UPDATE SET
      "decisions" = r."decisions" + EXCLUDED."decisions",
      "jobs" = r."jobs" + EXCLUDED."jobs",
      "ruleJobs" = r."ruleJobs" + EXCLUDED."ruleJobs"`;
}

/** Slot time held from `fromMs` to `untilMs` (epoch milliseconds) by `slots` slots of a tenant's pool. */
interface SlotTime {
  readonly tenantId: string;
  readonly pool: string;
  readonly fromMs: number;
  readonly untilMs: number;
  readonly slots: number;
  readonly column: SlotTimeColumn;
}

/** The milliseconds of [fromMs, untilMs) that fall on each UTC day, as `YYYY-MM-DD`. */
export function splitAcrossUtcDays(fromMs: number, untilMs: number): { day: string; ms: number }[] {
  if (!(untilMs > fromMs)) return [];
  const segments: { day: string; ms: number }[] = [];
  for (let day = Math.floor(fromMs / DAY_MS); day <= Math.floor((untilMs - 1) / DAY_MS); day += 1) {
    const ms = Math.min(untilMs, (day + 1) * DAY_MS) - Math.max(fromMs, day * DAY_MS);
    segments.push({ day: new Date(day * DAY_MS).toISOString().slice(0, 10), ms });
  }
  return segments;
}

/** Adds slot time to the fleet rollup, split across UTC days, on its pool's row and on the '*' row. */
function addSlotTime(deltas: RowDeltas<FleetKey, SlotTimeColumn>, times: readonly SlotTime[]): void {
  for (const time of times) {
    for (const segment of splitAcrossUtcDays(time.fromMs, time.untilMs)) {
      const counts = { busyMs: 0, onlineSlotMs: 0 };
      counts[time.column] = segment.ms * time.slots;
      for (const pool of [time.pool, ALL_VALUES]) deltas.add({ tenantId: time.tenantId, pool, day: segment.day }, counts);
    }
  }
}

async function writeFleetDeltas(tx: DatabaseTransaction, rows: readonly RowDelta<FleetKey, SlotTimeColumn>[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.$executeRaw`
    INSERT INTO "AnalyticsFleetRollup" AS r ("tenantId", "pool", "day", "busyMs", "onlineSlotMs")
    SELECT v.tenant, v.pool, v.day, v.busy, v.online
    FROM unnest(${rows.map((row) => row.key.tenantId)}::uuid[], ${rows.map((row) => row.key.pool)}::text[], ${rows.map((row) => row.key.day)}::date[],
                ${rows.map((row) => row.counts.busyMs)}::bigint[], ${rows.map((row) => row.counts.onlineSlotMs)}::bigint[])
         AS v(tenant, pool, day, busy, online)
    ORDER BY v.tenant, v.pool, v.day
    ON CONFLICT ("tenantId", "pool", "day") DO UPDATE SET
      "busyMs" = r."busyMs" + EXCLUDED."busyMs",
      "onlineSlotMs" = r."onlineSlotMs" + EXCLUDED."onlineSlotMs"`;
}

/** Records what the jobs contribute now in their AnalyticsJobState rows: the last table a sync writes, in job order. */
async function writeJobStates(tx: DatabaseTransaction, states: readonly JobState[]): Promise<void> {
  if (states.length === 0) return;
  const counter = (name: keyof CohortCounters) => states.map((state) => state[name]);
  await tx.$executeRaw`
    INSERT INTO "AnalyticsJobState" AS s ("jobId", "tenantId", "pool", "model", "created", "ran", "testsPassed", "delivered", "deliveredUntested", "implausible", "finished", "busyThroughAttempt")
    SELECT v.job, v.tenant, v.pool, v.model, v.created, v.ran, v.tests, v.delivered, v.untested, v.implausible, v.finished, v.busy_through
    FROM unnest(${states.map((state) => state.jobId)}::uuid[], ${states.map((state) => state.tenantId)}::uuid[],
                ${states.map((state) => state.pool)}::text[], ${states.map((state) => state.model)}::text[],
                ${counter('created')}::int[], ${counter('ran')}::int[], ${counter('testsPassed')}::int[], ${counter('delivered')}::int[],
                ${counter('deliveredUntested')}::int[], ${counter('implausible')}::int[],
                ${states.map((state) => state.finished)}::boolean[], ${states.map((state) => state.busyThroughAttempt)}::int[])
         AS v(job, tenant, pool, model, created, ran, tests, delivered, untested, implausible, finished, busy_through)
    ORDER BY v.job
    ON CONFLICT ("jobId") DO UPDATE SET
      "tenantId" = EXCLUDED."tenantId",
      "pool" = EXCLUDED."pool",
      "model" = EXCLUDED."model",
      "created" = EXCLUDED."created",
      "ran" = EXCLUDED."ran",
      "testsPassed" = EXCLUDED."testsPassed",
      "delivered" = EXCLUDED."delivered",
      "deliveredUntested" = EXCLUDED."deliveredUntested",
      "implausible" = EXCLUDED."implausible",
      "finished" = EXCLUDED."finished",
      "busyThroughAttempt" = EXCLUDED."busyThroughAttempt"`;
}

/** The pool label a worker is counted under when its enrollment token named none. */
export const NO_POOL = '(none)';

interface ClosedSession {
  readonly tenantId: string;
  readonly pool: string;
  readonly capacity: number;
  readonly sinceMs: number;
  readonly untilMs: number;
}

/** A worker's connection starting or ending at `at`, for the fleet rollup. */
export interface WorkerSessionMark {
  readonly workerId: string;
  readonly at: Date;
}

/**
 * Workers connected: the online time of each is counted from its `at`, at the capacity and
 * pool it has now. A session still open (a connection whose end was never recorded) is
 * closed first, at that time. Two statements (and the rollup's) for any number of workers;
 * each worker at most once.
 */
export async function openWorkerSessions(tx: DatabaseTransaction, sessions: readonly WorkerSessionMark[]): Promise<void> {
  if (sessions.length === 0) return;
  await closeWorkerSessions(tx, sessions);
  await tx.$executeRaw`
    INSERT INTO "AnalyticsWorkerSession" ("workerId", "tenantId", "pool", "capacity", "since")
    SELECT w."id", w."tenantId", COALESCE(w."pool", ${NO_POOL}), w."capacity", v."since"
    FROM unnest(${sessions.map((session) => session.workerId)}::uuid[], ${sessions.map((session) => session.at.toISOString())}::timestamptz[]) AS v("workerId", "since")
    JOIN "Worker" AS w ON w."id" = v."workerId"`;
}

/**
 * Workers went away, each at its `at`: their sessions' slot time is added to the fleet
 * rollup. A session opened after that time is a newer connection whose Hello was recorded
 * before this disconnect was, and stays open. Each worker at most once.
 */
export async function closeWorkerSessions(tx: DatabaseTransaction, sessions: readonly WorkerSessionMark[]): Promise<void> {
  if (sessions.length === 0) return;
  const closed = await tx.$queryRaw<ClosedSession[]>`
    DELETE FROM "AnalyticsWorkerSession" AS s
    USING unnest(${sessions.map((session) => session.workerId)}::uuid[], ${sessions.map((session) => session.at.toISOString())}::timestamptz[]) AS v("workerId", "until")
    WHERE s."workerId" = v."workerId" AND s."since" <= v."until"
    RETURNING s."tenantId"::text AS "tenantId", s."pool", s."capacity", analytics_epoch_ms(s."since")::float8 AS "sinceMs", analytics_epoch_ms(v."until")::float8 AS "untilMs"`;
  await addSessionTime(tx, closed);
}

/**
 * Closes every open session, each at its worker's last heartbeat (the last time it was known
 * to be there): at start, when no stream is open whatever the last run left.
 */
export async function closeAllWorkerSessions(tx: DatabaseTransaction): Promise<void> {
  const closed = await tx.$queryRaw<ClosedSession[]>`
    DELETE FROM "AnalyticsWorkerSession" AS s
    USING "Worker" AS w
    WHERE w."id" = s."workerId"
    RETURNING s."tenantId"::text AS "tenantId", s."pool", s."capacity", analytics_epoch_ms(s."since")::float8 AS "sinceMs",
              analytics_epoch_ms(GREATEST(s."since", COALESCE(w."lastSeenAt", s."since")))::float8 AS "untilMs"`;
  await addSessionTime(tx, closed);
}

/** Adds the slot time of closed sessions, of any tenants, to the fleet rollup with one statement. */
async function addSessionTime(tx: DatabaseTransaction, closed: readonly ClosedSession[]): Promise<void> {
  const fleet = new RowDeltas<FleetKey, SlotTimeColumn>();
  addSlotTime(
    fleet,
    closed.map((session) => ({ tenantId: session.tenantId, pool: session.pool, fromMs: session.sinceMs, untilMs: session.untilMs, slots: session.capacity, column: 'onlineSlotMs' as const })),
  );
  await writeFleetDeltas(tx, fleet.rows());
}
