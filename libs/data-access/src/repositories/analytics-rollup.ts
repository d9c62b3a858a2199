import type { DatabaseTransaction } from '../database-client';

/**
 * Keeps the analytics rollups current, inside the transaction of the change that moves
 * them: JobRepository calls `syncJobAnalytics` at the end of every job transition and
 * WorkerRepository the session functions when a worker connects or goes away. Nothing here
 * scans jobs: each call reads the facts of one job (the AnalyticsJobFacts view, the same
 * definition the rebuild reads) and the contribution it has in the rollups now
 * (AnalyticsJobState), and adds the difference.
 *
 * Rows are written one table after another in a fixed order (cohort, outcome, durations,
 * tokens, policy, fleet, then the job's state) and, within a table, in key order, so two
 * transitions of different jobs that meet on a shared row (every job adds to the
 * tenant-wide '*' rows of its day) wait for each other instead of deadlocking.
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

interface StateRow {
  readonly pool: string;
  readonly model: string;
  readonly created: number;
  readonly ran: number;
  readonly testsPassed: number;
  readonly delivered: number;
  readonly deliveredUntested: number;
  readonly implausible: number;
  readonly finished: boolean;
  readonly busyThroughAttempt: number;
}

interface JobFactsRow {
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

/**
 * Brings the job's contribution to the tenant's rollups up to date with its current state:
 * call it in the transaction of every change of the job (creation, ack, result, rejection,
 * lease expiry, cancel). A call that finds nothing new writes nothing but the job's state.
 */
export async function syncJobAnalytics(tx: DatabaseTransaction, tenantId: string, jobId: string): Promise<void> {
  // Shared: transitions of the tenant's jobs go on together, but never while a rebuild runs.
  await tx.$executeRaw`SELECT pg_advisory_xact_lock_shared(${ANALYTICS_LOCK_CLASS}::int4, hashtext(${tenantId}::uuid::text))`;
  const rows = await tx.$queryRaw<JobFactsRow[]>`
    SELECT f."kind", f."repoAlias", f."status", f."terminal", f."implausible", f."createdDay"::text AS "createdDay", f."finishedDay"::text AS "finishedDay",
           f."ran", f."pool", f."model", f."testsPassed", f."delivered", f."hasModelUsage", f."usedFallback",
           f."linesAdded"::float8 AS "linesAdded", f."linesRemoved"::float8 AS "linesRemoved", f."filesChanged"::float8 AS "filesChanged",
           f."histogramKeys", f."usage", f."decisions", f."endedAttempts",
           CASE WHEN s."jobId" IS NULL THEN NULL ELSE to_jsonb(s) END AS "state"
    FROM analytics_job_facts(${jobId}::uuid, ${tenantId}::uuid) AS f
    LEFT JOIN "AnalyticsJobState" AS s ON s."jobId" = f."jobId"`;
  const facts = rows[0];
  if (!facts) return;
  const state = facts.state;

  const desired = cohortContribution(facts);
  const applied: CohortContribution | null = state ? { pool: state.pool, model: state.model, counters: pickCohortCounters(state) } : null;
  await addCohortDeltas(tx, tenantId, facts.createdDay, cohortDeltas(facts, applied, desired));

  const finishing = facts.terminal && facts.finishedDay !== null && !(state?.finished ?? false);
  if (finishing && facts.finishedDay !== null) {
    const dimensions = [facts.kind, facts.repoAlias, facts.pool] as const;
    await addOutcome(tx, tenantId, dimensions, facts.finishedDay, outcomeOf(facts));
    // Durations are of fix jobs: a noop job is a probe without phases.
    if (!facts.implausible && facts.kind === 'FIX') await addDurations(tx, tenantId, [facts.repoAlias, facts.pool], facts.finishedDay, facts.histogramKeys);
    if (!facts.implausible) {
      await addTokens(tx, tenantId, dimensions, facts.finishedDay, facts.usage);
      await addDecisions(tx, tenantId, dimensions, facts.finishedDay, facts.decisions);
    }
  }

  const busyThrough = state?.busyThroughAttempt ?? 0;
  const newlyEnded = facts.endedAttempts.filter((attempt) => attempt.attempt > busyThrough);
  await addFleetTime(
    tx,
    tenantId,
    newlyEnded.map((attempt) => ({ pool: attempt.pool, fromMs: attempt.fromMs, untilMs: attempt.untilMs, slots: 1, column: 'busyMs' as const })),
  );

  const stateData = {
    tenantId,
    pool: desired.pool,
    model: desired.model,
    ...desired.counters,
    finished: (state?.finished ?? false) || finishing,
    busyThroughAttempt: Math.max(busyThrough, ...newlyEnded.map((attempt) => attempt.attempt)),
  };
  await tx.analyticsJobState.upsert({ where: { jobId }, create: { jobId, ...stateData }, update: stateData });
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

function pickCohortCounters(state: StateRow): CohortCounters {
  return {
    created: state.created,
    ran: state.ran,
    testsPassed: state.testsPassed,
    delivered: state.delivered,
    deliveredUntested: state.deliveredUntested,
    implausible: state.implausible,
  };
}

interface CubeRow<Counters> {
  readonly grain: number;
  readonly dimensions: readonly string[];
  readonly counters: Counters;
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
 * What moving a job from `applied` to `desired` changes in the cohort rollup: the applied
 * counters taken off every cube row of its old key, the desired added to those of its new
 * one. Rows where both cancel out are left out.
 */
function cohortDeltas(facts: JobFactsRow, applied: CohortContribution | null, desired: CohortContribution): CubeRow<CohortCounters>[] {
  const deltas = new Map<string, { grain: number; dimensions: string[]; counters: Record<keyof CohortCounters, number> }>();
  const add = (contribution: CohortContribution, sign: 1 | -1): void => {
    for (const row of cubeOf([facts.kind, facts.repoAlias, contribution.pool, contribution.model])) {
      const key = JSON.stringify([row.grain, ...row.dimensions]);
      const entry = deltas.get(key) ?? { ...row, counters: { created: 0, ran: 0, testsPassed: 0, delivered: 0, deliveredUntested: 0, implausible: 0 } };
      for (const counter of COHORT_COUNTERS) entry.counters[counter] += sign * contribution.counters[counter];
      deltas.set(key, entry);
    }
  };
  if (applied) add(applied, -1);
  add(desired, 1);
  return [...deltas.values()].filter((row) => COHORT_COUNTERS.some((counter) => row.counters[counter] !== 0));
}


async function addCohortDeltas(tx: DatabaseTransaction, tenantId: string, day: string, rows: readonly CubeRow<CohortCounters>[]): Promise<void> {
  if (rows.length === 0) return;
  const dimension = (index: number) => rows.map((row) => row.dimensions[index] ?? ALL_VALUES);
  const counter = (name: keyof CohortCounters) => rows.map((row) => row.counters[name]);
  await tx.$executeRaw`
    INSERT INTO "AnalyticsCohortRollup" AS r ("tenantId", "grain", "kind", "repoAlias", "pool", "model", "day", "created", "ran", "testsPassed", "delivered", "deliveredUntested", "implausible")
    SELECT ${tenantId}::uuid, v.grain, v.kind, v.repo, v.pool, v.model, ${day}::date, v.created, v.ran, v.tests, v.delivered, v.untested, v.implausible
    FROM unnest(${rows.map((row) => row.grain)}::int[], ${dimension(0)}::text[], ${dimension(1)}::text[], ${dimension(2)}::text[], ${dimension(3)}::text[],
                ${counter('created')}::int[], ${counter('ran')}::int[], ${counter('testsPassed')}::int[], ${counter('delivered')}::int[],
                ${counter('deliveredUntested')}::int[], ${counter('implausible')}::int[])
         AS v(grain, kind, repo, pool, model, created, ran, tests, delivered, untested, implausible)
    ORDER BY v.grain, v.kind, v.repo, v.pool, v.model
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

async function addOutcome(tx: DatabaseTransaction, tenantId: string, values: readonly string[], finishedDay: string, figures: OutcomeFigures): Promise<void> {
  const rows = cubeOf(values).flatMap((row) => [
    { ...row, period: 'day', start: finishedDay },
    { ...row, period: 'month', start: monthStartOf(finishedDay) },
  ]);
  const dimension = (index: number) => rows.map((row) => row.dimensions[index] ?? ALL_VALUES);
  const counter = (name: keyof OutcomeFigures) => rows.map(() => figures[name]);
  await tx.$executeRaw`
    INSERT INTO "AnalyticsOutcomeRollup" AS r ("tenantId", "grain", "kind", "repoAlias", "pool", "period", "start", "finished", "succeeded", "failed", "cancelled",
      "delivered", "testsPassed", "implausible", "jobsWithModelUsage", "jobsWithFallback", "linesAdded", "linesRemoved", "filesChanged")
    SELECT ${tenantId}::uuid, v.grain, v.kind, v.repo, v.pool, v.period, v.start::date, v.finished, v.succeeded, v.failed, v.cancelled,
      v.delivered, v.tests, v.implausible, v.usage, v.fallback, v.added, v.removed, v.files
    FROM unnest(${rows.map((row) => row.grain)}::int[], ${dimension(0)}::text[], ${dimension(1)}::text[], ${dimension(2)}::text[],
                ${rows.map((row) => row.period)}::text[], ${rows.map((row) => row.start)}::text[],
                ${counter('finished')}::int[], ${counter('succeeded')}::int[], ${counter('failed')}::int[], ${counter('cancelled')}::int[],
                ${counter('delivered')}::int[], ${counter('testsPassed')}::int[], ${counter('implausible')}::int[], ${counter('jobsWithModelUsage')}::int[],
                ${counter('jobsWithFallback')}::int[], ${counter('linesAdded')}::bigint[], ${counter('linesRemoved')}::bigint[], ${counter('filesChanged')}::bigint[])
         AS v(grain, kind, repo, pool, period, start, finished, succeeded, failed, cancelled, delivered, tests, implausible, usage, fallback, added, removed, files)
    ORDER BY v.grain, v.kind, v.repo, v.pool, v.period, v.start
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
async function addDurations(tx: DatabaseTransaction, tenantId: string, values: readonly [string, string], finishedDay: string, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  const histogram: Record<string, number> = {};
  for (const key of keys) histogram[key] = (histogram[key] ?? 0) + 1;
  const rows = cubeOf(values)
    .filter((row) => (DURATION_GRAINS as readonly number[]).includes(row.grain))
    .flatMap((row) => [
      { ...row, period: 'day', start: finishedDay },
      { ...row, period: 'month', start: monthStartOf(finishedDay) },
    ]);
  await tx.$executeRaw`
    INSERT INTO "AnalyticsDurationRollup" AS r ("tenantId", "grain", "repoAlias", "pool", "period", "start", "histogram")
    SELECT ${tenantId}::uuid, v.grain, v.repo, v.pool, v.period, v.start::date, ${JSON.stringify(histogram)}::jsonb
    FROM unnest(${rows.map((row) => row.grain)}::int[], ${rows.map((row) => row.dimensions[0] ?? ALL_VALUES)}::text[], ${rows.map((row) => row.dimensions[1] ?? ALL_VALUES)}::text[],
                ${rows.map((row) => row.period)}::text[], ${rows.map((row) => row.start)}::text[])
         AS v(grain, repo, pool, period, start)
    ORDER BY v.grain, v.repo, v.pool, v.period, v.start
    ON CONFLICT ("tenantId", "grain", "repoAlias", "pool", "period", "start") DO UPDATE SET
      "histogram" = analytics_add_counts(r."histogram", EXCLUDED."histogram")`;
}

async function addTokens(tx: DatabaseTransaction, tenantId: string, values: readonly string[], day: string, usage: readonly UsageFact[]): Promise<void> {
  if (usage.length === 0) return;
  const rows = cubeOf(values).flatMap((row) => usage.map((entry) => ({ ...row, entry })));
  const dimension = (index: number) => rows.map((row) => row.dimensions[index] ?? ALL_VALUES);
  await tx.$executeRaw`
    INSERT INTO "AnalyticsTokenRollup" AS r ("tenantId", "grain", "kind", "repoAlias", "pool", "day", "endpoint", "model", "jobs", "requests", "promptTokens", "completionTokens")
    SELECT ${tenantId}::uuid, v.grain, v.kind, v.repo, v.pool, ${day}::date, v.endpoint, v.model, 1, v.requests, v.prompt, v.completion
    FROM unnest(${rows.map((row) => row.grain)}::int[], ${dimension(0)}::text[], ${dimension(1)}::text[], ${dimension(2)}::text[],
                ${rows.map((row) => row.entry.endpoint)}::text[], ${rows.map((row) => row.entry.model)}::text[], ${rows.map((row) => row.entry.requests)}::bigint[],
                ${rows.map((row) => row.entry.promptTokens)}::bigint[], ${rows.map((row) => row.entry.completionTokens)}::bigint[])
         AS v(grain, kind, repo, pool, endpoint, model, requests, prompt, completion)
    ORDER BY v.grain, v.kind, v.repo, v.pool, v.endpoint, v.model
    ON CONFLICT ("tenantId", "grain", "kind", "repoAlias", "pool", "day", "endpoint", "model") DO UPDATE SET
      "jobs" = r."jobs" + EXCLUDED."jobs",
      "requests" = r."requests" + EXCLUDED."requests",
      "promptTokens" = r."promptTokens" + EXCLUDED."promptTokens",
      "completionTokens" = r."completionTokens" + EXCLUDED."completionTokens"`;
}

async function addDecisions(tx: DatabaseTransaction, tenantId: string, values: readonly string[], day: string, decisions: readonly DecisionFact[]): Promise<void> {
  if (decisions.length === 0) return;
  const rows = cubeOf(values).flatMap((row) => decisions.map((decision) => ({ ...row, decision })));
  const dimension = (index: number) => rows.map((row) => row.dimensions[index] ?? ALL_VALUES);
  await tx.$executeRaw`
    INSERT INTO "AnalyticsPolicyRollup" AS r ("tenantId", "grain", "kind", "repoAlias", "pool", "day", "rule", "level", "outcome", "decisions", "jobs", "ruleJobs")
    SELECT ${tenantId}::uuid, v.grain, v.kind, v.repo, v.pool, ${day}::date, v.rule, v.level, v.outcome, v.decisions, 1, v.rule_jobs
    FROM unnest(${rows.map((row) => row.grain)}::int[], ${dimension(0)}::text[], ${dimension(1)}::text[], ${dimension(2)}::text[],
                ${rows.map((row) => row.decision.rule)}::text[], ${rows.map((row) => row.decision.level)}::text[], ${rows.map((row) => row.decision.outcome)}::text[],
                ${rows.map((row) => row.decision.count)}::int[], ${rows.map((row) => (row.decision.firstOfRule ? 1 : 0))}::int[])
         AS v(grain, kind, repo, pool, rule, level, outcome, decisions, rule_jobs)
    ORDER BY v.grain, v.kind, v.repo, v.pool, v.rule, v.level, v.outcome
    ON CONFLICT ("tenantId", "grain", "kind", "repoAlias", "pool", "day", "rule", "level", "outcome") DO UPDATE SET
      "decisions" = r."decisions" + EXCLUDED."decisions",
      "jobs" = r."jobs" + EXCLUDED."jobs",
      "ruleJobs" = r."ruleJobs" + EXCLUDED."ruleJobs"`;
}

/** Slot time held from `fromMs` to `untilMs` (epoch milliseconds) by `slots` slots of a pool. */
interface SlotTime {
  readonly pool: string;
  readonly fromMs: number;
  readonly untilMs: number;
  readonly slots: number;
  readonly column: 'busyMs' | 'onlineSlotMs';
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
async function addFleetTime(tx: DatabaseTransaction, tenantId: string, times: readonly SlotTime[]): Promise<void> {
  const totals = new Map<string, { pool: string; day: string; busyMs: number; onlineSlotMs: number }>();
  for (const time of times) {
    for (const segment of splitAcrossUtcDays(time.fromMs, time.untilMs)) {
      for (const pool of [time.pool, ALL_VALUES]) {
        const key = `${pool}\u0000${segment.day}`;
        const total = totals.get(key) ?? { pool, day: segment.day, busyMs: 0, onlineSlotMs: 0 };
        total[time.column] += segment.ms * time.slots;
        totals.set(key, total);
      }
    }
  }
  const rows = [...totals.values()];
  if (rows.length === 0) return;
  await tx.$executeRaw`
    INSERT INTO "AnalyticsFleetRollup" AS r ("tenantId", "pool", "day", "busyMs", "onlineSlotMs")
    SELECT ${tenantId}::uuid, v.pool, v.day::date, v.busy, v.online
    FROM unnest(${rows.map((row) => row.pool)}::text[], ${rows.map((row) => row.day)}::text[], ${rows.map((row) => row.busyMs)}::bigint[], ${rows.map((row) => row.onlineSlotMs)}::bigint[])
         AS v(pool, day, busy, online)
    ORDER BY v.pool, v.day
    ON CONFLICT ("tenantId", "pool", "day") DO UPDATE SET
      "busyMs" = r."busyMs" + EXCLUDED."busyMs",
      "onlineSlotMs" = r."onlineSlotMs" + EXCLUDED."onlineSlotMs"`;
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

/**
 * A worker connected: its online time is counted from now, at the capacity and pool it has
 * now. A session still open (a connection whose end was never recorded) is closed first, at now.
 */
export async function openWorkerSession(tx: DatabaseTransaction, workerId: string, now: Date): Promise<void> {
  await closeWorkerSession(tx, workerId, now);
  await tx.$executeRaw`
    INSERT INTO "AnalyticsWorkerSession" ("workerId", "tenantId", "pool", "capacity", "since")
    SELECT w."id", w."tenantId", COALESCE(w."pool", ${NO_POOL}), w."capacity", ${now}
    FROM "Worker" AS w WHERE w."id" = ${workerId}::uuid`;
}

/**
 * A worker went away at `until`: its session's slot time is added to the fleet rollup. A
 * session opened after `until` is a newer connection whose Hello was recorded before this
 * disconnect was, and stays open.
 */
export async function closeWorkerSession(tx: DatabaseTransaction, workerId: string, until: Date): Promise<void> {
  const closed = await tx.$queryRaw<ClosedSession[]>`
    DELETE FROM "AnalyticsWorkerSession"
    WHERE "workerId" = ${workerId}::uuid AND "since" <= ${until}
    RETURNING "tenantId"::text AS "tenantId", "pool", "capacity", analytics_epoch_ms("since")::float8 AS "sinceMs", ${until.getTime()}::float8 AS "untilMs"`;
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

async function addSessionTime(tx: DatabaseTransaction, closed: readonly ClosedSession[]): Promise<void> {
  const byTenant = new Map<string, SlotTime[]>();
  for (const session of closed) {
    const times = byTenant.get(session.tenantId) ?? [];
    times.push({ pool: session.pool, fromMs: session.sinceMs, untilMs: session.untilMs, slots: session.capacity, column: 'onlineSlotMs' });
    byTenant.set(session.tenantId, times);
  }
  for (const tenantId of [...byTenant.keys()].sort()) await addFleetTime(tx, tenantId, byTenant.get(tenantId) ?? []);
}
