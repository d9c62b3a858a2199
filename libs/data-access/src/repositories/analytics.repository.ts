import { Prisma, type AnalyticsSettings, type JobKind } from '@prisma/client';
import type { DatabaseClient } from '../database-client';
import { appendAuditEntry, lockTenantAdminActions, type AuditActor, type AuditDetails } from './admin-audit.repository';
import { ALL_VALUES, splitAcrossUtcDays } from './analytics-rollup';
import type { ReviewMetadata } from './job.repository';

/** Which jobs a request covers: a tenant, UTC days `from`..`to` (inclusive, `YYYY-MM-DD`), and optional filters. */
export interface AnalyticsScope {
  readonly tenantId: string;
  readonly from: string;
  readonly to: string;
  readonly kind?: JobKind;
  readonly repoAlias?: string;
  readonly pool?: string;
}

/** What a read needs besides its scope: the time (for connections and attempts still open) and the budget's days. */
export interface AnalyticsReadOptions {
  readonly now: Date;
  /** The tenant-wide spend is read for these UTC days, whatever the scope's filters. */
  readonly spendFrom: string;
  readonly spendTo: string;
}

/** How far the jobs of a cohort got (attributed to their creation day). */
export interface CohortCounts {
  readonly created: number;
  readonly ran: number;
  readonly testsPassed: number;
  readonly delivered: number;
  readonly deliveredUntested: number;
  readonly implausible: number;
}

export interface CohortDay extends CohortCounts {
  readonly day: string;
}

/** One repository, pool or model of a breakdown. */
export interface CohortSlice extends CohortCounts {
  readonly key: string;
}

/** How the jobs that finished in the scope ended (attributed to their finish day). */
export interface OutcomeCounts {
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

/** Tokens of one inference endpoint and model on one finish day. */
export interface TokenUsageDay {
  readonly day: string;
  readonly endpoint: string;
  readonly model: string;
  readonly jobs: number;
  readonly requests: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
}

/** Tokens (prompt and completion) of one model on one day, tenant-wide: what the budget is spent on. */
export interface SpendTokensDay {
  readonly day: string;
  readonly model: string;
  readonly tokens: number;
}

export interface PolicyDecisionCounts {
  readonly rule: string;
  readonly level: string;
  readonly outcome: string;
  readonly decisions: number;
  /** Jobs with at least one such decision. */
  readonly jobs: number;
  /** Jobs counted once per rule: these add up, over a rule's rows, to the jobs it fired on. */
  readonly ruleJobs: number;
}

/** Worker slot time of one UTC day, milliseconds: busy with attempts, and online (connected × capacity). */
export interface FleetDay {
  readonly day: string;
  readonly busyMs: number;
  readonly onlineSlotMs: number;
}

/**
 * What workers last reported of the merge requests of re-run chains whose first job was
 * created in the scope (DeliveryOutcome). State and `reverted` come at every metadata level;
 * counts and durations not at MINIMAL, so rework, reviews and times count only the chains
 * reported `withFigures`. Times are nearest-rank percentiles of the seconds reported.
 */
export interface MergeRequestCounts {
  /** Chains with an outcome reported. */
  readonly reported: number;
  readonly open: number;
  readonly merged: number;
  /** Closed without being merged. */
  readonly closedUnmerged: number;
  /** Merged, then reverted within the worker's revert window. */
  readonly reverted: number;
  /** Chains reported at a level that sends counts and durations. */
  readonly withFigures: number;
  /** Of those, requests people pushed commits onto. */
  readonly reworkedByPeople: number;
  /** Of those, requests a person reviewed. */
  readonly reviewed: number;
  /** Seconds from opening to the first human review, over the reviewed requests; null when none was. */
  readonly firstReviewP50S: number | null;
  readonly firstReviewP90S: number | null;
  /** Of those with figures, merged requests (whose time to merge is known). */
  readonly mergedWithFigures: number;
  /** Seconds from opening to merge, over mergedWithFigures; null when none. */
  readonly mergeP50S: number | null;
  readonly mergeP90S: number | null;
}

/**
 * The review jobs that finished in the scope (finish day), and the comments they counted. The
 * counts come from the results reported with figures: the MINIMAL level sends none, and
 * STANDARD_BUCKETED rounds each count down to 0 or a power of two, so sums are lower bounds.
 */
export interface ReviewCounts {
  readonly finished: number;
  readonly succeeded: number;
  /** Of the finished reviews, those whose result carried comment counts. */
  readonly withCounts: number;
  /** Comments posted, by severity, and comments the worker did not post. */
  readonly critical: number;
  readonly major: number;
  readonly minor: number;
  readonly info: number;
  readonly dropped: number;
}

/**
 * Every sum an analytics report is built from, for one scope. The same shape comes from the
 * rollups (`aggregate`) and from scanning the jobs table (`aggregateByScanning`), so the two
 * can be compared figure by figure. Lists are sorted by their keys.
 */
export interface AnalyticsAggregates {
  readonly cohortByDay: readonly CohortDay[];
  readonly cohortByRepository: readonly CohortSlice[];
  readonly cohortByPool: readonly CohortSlice[];
  readonly cohortByModel: readonly CohortSlice[];
  readonly outcome: OutcomeCounts;
  /**
   * The durations of finished fix jobs: `<metric>.<bucket>` → count (analytics-histogram.ts).
   * Null when the scope filters by both a repository and a pool: histograms are kept per
   * repository and per pool, not per pair (analytics-rollup.ts DURATION_GRAINS).
   */
  readonly histogram: Readonly<Record<string, number>> | null;
  readonly deliveredByKind: readonly { readonly kind: string; readonly delivered: number }[];
  readonly deliveredByDay: readonly { readonly day: string; readonly delivered: number }[];
  readonly tokens: readonly TokenUsageDay[];
  readonly spendTokens: readonly SpendTokensDay[];
  readonly policy: readonly PolicyDecisionCounts[];
  /** Slot time per day, open connections and running attempts counted up to `now`. */
  readonly fleet: readonly FleetDay[];
  /** Kept in no rollup: read from the outcomes table by both ways of reading. */
  readonly mergeRequests: MergeRequestCounts;
  /** Kept in no rollup: read from the review jobs' results by both ways of reading. */
  readonly reviews: ReviewCounts;
}

/** A price that overrides the tenant's for one model. */
export interface ModelPrice {
  readonly model: string;
  readonly pricePer1kTokens: number;
}

/** What a tenant's manager assumes. */
export interface AnalyticsSettingsValues {
  /** ISO 4217. */
  readonly currency: string;
  readonly pricePer1kTokens: number;
  readonly modelPrices: readonly ModelPrice[];
  /** Per calendar month (UTC); null: none. */
  readonly monthlyBudget: number | null;
  readonly hoursSavedPerDeliveredChange: Readonly<Record<HoursSavedKind, number>>;
  readonly minimumGroupSize: number;
}

export interface AnalyticsSettingsView extends AnalyticsSettingsValues {
  /** When a manager last changed them; null while they are the defaults. */
  readonly updatedAt: Date | null;
}

/** The settings of a tenant no manager has set yet: nothing costs anything, nothing is assumed saved. */
export const DEFAULT_ANALYTICS_SETTINGS: AnalyticsSettingsValues = {
  currency: 'USD',
  pricePer1kTokens: 0,
  modelPrices: [],
  monthlyBudget: null,
  hoursSavedPerDeliveredChange: { FIX: 0, NOOP: 0 },
  minimumGroupSize: 5,
};

/** What saving settings did: the settings now, and which fields changed (none: nothing was written or audited). */
export interface AnalyticsSettingsChange {
  readonly settings: AnalyticsSettingsView;
  readonly changedFields: readonly string[];
}

/**
 * The job kinds a manager sets hours saved per delivered change for. Review and index jobs
 * deliver no change by design, so no assumption is asked for them.
 */
export type HoursSavedKind = Extract<JobKind, 'FIX' | 'NOOP'>;
export const HOURS_SAVED_KINDS: readonly HoursSavedKind[] = ['FIX', 'NOOP'];

/**
 * The kinds the funnel and the success rates count when no kind is asked for. Review and
 * index jobs run but never deliver a change by design: counting them would only sink the
 * success rate of the fixes. Noop probes count as they always have (they run, never deliver).
 * A kind filter counts the jobs of that kind, whatever it is.
 */
export const FUNNEL_KINDS: readonly JobKind[] = ['FIX', 'NOOP'];

// Bits of the grain, as GROUPING() numbers the dimensions (the first is the highest bit).
const COHORT_BITS = { kind: 8, repoAlias: 4, pool: 2, model: 1 } as const;
const OUTCOME_BITS = { kind: 4, repoAlias: 2, pool: 1 } as const;
const DURATION_BITS = { repoAlias: 2, pool: 1 } as const;

type Dimension = 'kind' | 'repoAlias' | 'pool' | 'model';

/**
 * Reads analytics for managers: from the rollups that analytics-rollup.ts keeps current, or,
 * for comparison, by scanning the jobs table. Also the tenant's settings and the rebuild.
 * Every query is scoped by the tenant.
 */
export class AnalyticsRepository {
  constructor(private readonly db: DatabaseClient) {}

  /** The figures of a scope, read from the rollups only. */
  async aggregate(scope: AnalyticsScope, options: AnalyticsReadOptions): Promise<AnalyticsAggregates> {
    const periods = periodsCovering(scope.from, scope.to);
    const [cohortByDay, cohortByRepository, cohortByPool, cohortByModel, outcome, histogram, deliveredByKind, deliveredByDay, tokens, spendTokens, policy, fleet, mergeRequests, reviews] =
      await Promise.all([
        this.cohortRows(scope, null),
        this.cohortRows(scope, 'repoAlias'),
        this.cohortRows(scope, 'pool'),
        this.cohortRows(scope, 'model'),
        this.outcomeCounts(scope, periods),
        this.durationHistogram(scope, periods),
        this.deliveredByKind(scope, periods),
        this.deliveredByDay(scope),
        this.tokenRows(scope),
        this.spendTokens(scope.tenantId, options.spendFrom, options.spendTo),
        this.policyRows(scope),
        this.fleetDays(scope, options.now, 'rollup'),
        this.mergeRequestCounts(scope),
        this.reviewCounts(scope),
      ]);
    return {
      cohortByDay: cohortByDay.map(({ key, ...counts }) => ({ day: key, ...counts })),
      cohortByRepository,
      cohortByPool,
      cohortByModel,
      outcome,
      histogram,
      deliveredByKind,
      deliveredByDay,
      tokens,
      spendTokens,
      policy,
      fleet,
      mergeRequests,
      reviews,
    };
  }

  /**
   * The same figures computed from the jobs table (through the AnalyticsJobFacts view, the
   * definition the rollups are kept from) without the rollups: what a request would cost
   * without them, and a check that they hold what the jobs say. Online slot time has no
   * record but the fleet rollup, so it is read from there.
   */
  async aggregateByScanning(scope: AnalyticsScope, options: AnalyticsReadOptions): Promise<AnalyticsAggregates> {
    const fromAt = `${scope.from}T00:00:00Z`;
    const toAt = `${nextDay(scope.to)}T00:00:00Z`;
    const spendFromAt = `${options.spendFrom}T00:00:00Z`;
    const spendToAt = `${nextDay(options.spendTo)}T00:00:00Z`;
    const matches = Prisma.sql`true ${optionalEquals('kind', scope.kind)} ${optionalEquals('repoAlias', scope.repoAlias)} ${optionalEquals('pool', scope.pool)}`;
    const funnelKind = scope.kind === undefined ? Prisma.sql`"kind" = ANY(${[...FUNNEL_KINDS]}::text[])` : Prisma.sql`true`;
    // One pass over the jobs: the scope's (filtered) and the budget's (tenant-wide) alike.
    const [scanned] = await this.db.$queryRaw<[{ document: ScannedDocument }]>`
      WITH f AS MATERIALIZED (
        SELECT "kind", "repoAlias", "pool", "model", "status", "terminal", "implausible", "createdDay"::text AS "createdDay", "finishedDay"::text AS "finishedDay",
               "createdAt" >= ${fromAt}::timestamptz AND "createdAt" < ${toAt}::timestamptz AS "createdInScope",
               "finishedAt" >= ${fromAt}::timestamptz AND "finishedAt" < ${toAt}::timestamptz AS "finishedInScope",
               "finishedAt" >= ${spendFromAt}::timestamptz AND "finishedAt" < ${spendToAt}::timestamptz AS "finishedInSpend",
               ${matches} AS "matches", ${funnelKind} AS "funnelKind",
               "ran", "testsPassed", "delivered", "hasModelUsage", "usedFallback", "linesAdded", "linesRemoved", "filesChanged", "histogramKeys", "usage", "decisions"
        FROM "AnalyticsJobFacts"
        WHERE "tenantId" = ${scope.tenantId}::uuid
          AND (("createdAt" >= ${fromAt}::timestamptz AND "createdAt" < ${toAt}::timestamptz)
               OR ("finishedAt" >= ${fromAt}::timestamptz AND "finishedAt" < ${toAt}::timestamptz)
               OR ("finishedAt" >= ${spendFromAt}::timestamptz AND "finishedAt" < ${spendToAt}::timestamptz))
      ),
      cohort AS (SELECT * FROM f WHERE "createdInScope" AND "matches" AND "funnelKind"),
      finished AS (SELECT * FROM f WHERE "finishedInScope" AND "terminal" AND "matches"),
      plausible AS (SELECT * FROM finished WHERE NOT "implausible"),
      spend AS (SELECT * FROM f WHERE "finishedInSpend" AND "terminal" AND NOT "implausible")
      SELECT jsonb_build_object(
        'cohort', (SELECT COALESCE(jsonb_agg(jsonb_build_object('dimension', g.dimension, 'key', g.key, 'created', g.created, 'ran', g.ran, 'testsPassed', g.tests,
                     'delivered', g.delivered, 'deliveredUntested', g.untested, 'implausible', g.implausible)), '[]'::jsonb)
                   FROM (SELECT CASE WHEN GROUPING("createdDay") = 0 THEN 'day' WHEN GROUPING("repoAlias") = 0 THEN 'repoAlias' WHEN GROUPING("pool") = 0 THEN 'pool' ELSE 'model' END AS dimension,
                                COALESCE("createdDay", "repoAlias", "pool", "model") AS key,
                                count(*) FILTER (WHERE NOT "implausible") AS created, count(*) FILTER (WHERE NOT "implausible" AND "ran") AS ran,
                                count(*) FILTER (WHERE NOT "implausible" AND "testsPassed") AS tests, count(*) FILTER (WHERE NOT "implausible" AND "delivered") AS delivered,
                                count(*) FILTER (WHERE NOT "implausible" AND "delivered" AND NOT "testsPassed") AS untested, count(*) FILTER (WHERE "implausible") AS implausible
                         FROM cohort GROUP BY GROUPING SETS (("createdDay"), ("repoAlias"), ("pool"), ("model"))) AS g),
        'outcome', (SELECT jsonb_build_object(
                      'finished', count(*) FILTER (WHERE NOT "implausible"), 'succeeded', count(*) FILTER (WHERE NOT "implausible" AND "status" = 'SUCCEEDED'),
                      'failed', count(*) FILTER (WHERE NOT "implausible" AND "status" = 'FAILED'), 'cancelled', count(*) FILTER (WHERE NOT "implausible" AND "status" = 'CANCELLED'),
                      'delivered', count(*) FILTER (WHERE NOT "implausible" AND "delivered"), 'testsPassed', count(*) FILTER (WHERE NOT "implausible" AND "testsPassed"),
                      'implausible', count(*) FILTER (WHERE "implausible"),
                      'jobsWithModelUsage', count(*) FILTER (WHERE NOT "implausible" AND "hasModelUsage"), 'jobsWithFallback', count(*) FILTER (WHERE NOT "implausible" AND "usedFallback"),
                      'linesAdded', COALESCE(sum("linesAdded") FILTER (WHERE NOT "implausible" AND "delivered"), 0),
                      'linesRemoved', COALESCE(sum("linesRemoved") FILTER (WHERE NOT "implausible" AND "delivered"), 0),
                      'filesChanged', COALESCE(sum("filesChanged") FILTER (WHERE NOT "implausible" AND "delivered"), 0))
                    FROM finished),
        'histogram', (SELECT COALESCE(jsonb_object_agg(h.key, h.n), '{}'::jsonb)
                      FROM (SELECT k.key, count(*) AS n FROM plausible, unnest("histogramKeys") AS k(key) WHERE "kind" = 'FIX' GROUP BY k.key) AS h),
        'deliveredByKind', (SELECT COALESCE(jsonb_agg(jsonb_build_object('kind', "kind", 'delivered', n)), '[]'::jsonb)
                            FROM (SELECT "kind", count(*) FILTER (WHERE "delivered") AS n FROM plausible GROUP BY "kind") AS k),
        'deliveredByDay', (SELECT COALESCE(jsonb_agg(jsonb_build_object('day', "finishedDay", 'delivered', n)), '[]'::jsonb)
                           FROM (SELECT "finishedDay", count(*) FILTER (WHERE "delivered") AS n FROM plausible GROUP BY "finishedDay") AS d),
        'tokens', (SELECT COALESCE(jsonb_agg(jsonb_build_object('day', t.day, 'endpoint', t.endpoint, 'model', t.model, 'jobs', t.jobs, 'requests', t.requests,
                     'promptTokens', t.prompt, 'completionTokens', t.completion)), '[]'::jsonb)
                   FROM (SELECT p."finishedDay" AS day, u.endpoint, u.model, count(*) AS jobs, sum(u.requests) AS requests, sum(u."promptTokens") AS prompt, sum(u."completionTokens") AS completion
                         FROM plausible AS p, jsonb_to_recordset(p."usage") AS u(endpoint TEXT, model TEXT, requests BIGINT, "promptTokens" BIGINT, "completionTokens" BIGINT)
                         GROUP BY 1, 2, 3) AS t),
        'policy', (SELECT COALESCE(jsonb_agg(jsonb_build_object('rule', r.rule, 'level', r.level, 'outcome', r.outcome, 'decisions', r.decisions, 'jobs', r.jobs, 'ruleJobs', r.rule_jobs)), '[]'::jsonb)
                   FROM (SELECT d.rule, d.level, d.outcome, sum(d.count) AS decisions, count(*) AS jobs, count(*) FILTER (WHERE d."firstOfRule") AS rule_jobs
                         FROM plausible AS p, jsonb_to_recordset(p."decisions") AS d(rule TEXT, level TEXT, outcome TEXT, count INTEGER, "firstOfRule" BOOLEAN)
                         GROUP BY 1, 2, 3) AS r),
        'spendTokens', (SELECT COALESCE(jsonb_agg(jsonb_build_object('day', t.day, 'model', t.model, 'tokens', t.tokens)), '[]'::jsonb)
                        FROM (SELECT s."finishedDay" AS day, u.model, sum(u."promptTokens" + u."completionTokens") AS tokens
                              FROM spend AS s, jsonb_to_recordset(s."usage") AS u(model TEXT, "promptTokens" BIGINT, "completionTokens" BIGINT)
                              GROUP BY 1, 2) AS t)
      ) AS document`;
    const document = scanned.document;
    const [fleet, mergeRequests, reviews] = await Promise.all([this.fleetDays(scope, options.now, 'scan'), this.mergeRequestCounts(scope), this.reviewCounts(scope)]);
    const slices = (dimension: string): CohortSlice[] => sortByKey(document.cohort.filter((row) => row.dimension === dimension).map(toCohortSlice));
    return {
      cohortByDay: slices('day').map(({ key, ...counts }) => ({ day: key, ...counts })),
      cohortByRepository: slices('repoAlias'),
      cohortByPool: slices('pool'),
      cohortByModel: slices('model'),
      outcome: toOutcomeCounts(document.outcome),
      histogram:
        scope.repoAlias !== undefined && scope.pool !== undefined ? null : Object.fromEntries(Object.entries(document.histogram).map(([key, count]) => [key, Number(count)])),
      deliveredByKind: document.deliveredByKind
        .map((row) => ({ kind: row.kind, delivered: Number(row.delivered) }))
        .filter((row) => row.delivered > 0)
        .sort((a, b) => compare(a.kind, b.kind)),
      deliveredByDay: document.deliveredByDay.map((row) => ({ day: row.day, delivered: Number(row.delivered) })).sort((a, b) => compare(a.day, b.day)),
      tokens: sortTokens(document.tokens.map(toTokenUsageDay)),
      spendTokens: sortSpend(document.spendTokens.map((row) => ({ day: row.day, model: row.model, tokens: Number(row.tokens) }))),
      policy: sortPolicy(document.policy.map(toPolicyCounts)),
      fleet,
      mergeRequests,
      reviews,
    };
  }

  /** Replaces the tenant's rollups with what its jobs table says (analytics_rebuild_tenant); online slot time is kept. */
  async rebuild(tenantId: string): Promise<void> {
    await this.db.$executeRaw`SELECT analytics_rebuild_tenant(${tenantId}::uuid)`;
  }

  async getSettings(tenantId: string): Promise<AnalyticsSettingsView> {
    const row = await this.db.analyticsSettings.findUnique({ where: { tenantId } });
    return row ? toSettingsView(row) : { ...DEFAULT_ANALYTICS_SETTINGS, updatedAt: null };
  }

  /**
   * Replaces the tenant's settings and, when anything changed, appends
   * `analytics.settings-changed` (the changed fields and their new values) to the audit log in
   * the same transaction. Saving what is already there writes nothing.
   */
  async putSettings(input: { tenantId: string; settings: AnalyticsSettingsValues; actor: AuditActor; now: Date }): Promise<AnalyticsSettingsChange> {
    const { tenantId, settings, actor, now } = input;
    return this.db.$transaction(async (tx) => {
      await lockTenantAdminActions(tx, tenantId);
      const current = await tx.analyticsSettings.findUnique({ where: { tenantId } });
      const before = current ? toSettingsView(current) : { ...DEFAULT_ANALYTICS_SETTINGS, updatedAt: null };
      const changes = changedSettings(before, settings);
      if (changes.fields.length === 0) return { settings: before, changedFields: [] };
      const data = {
        currency: settings.currency,
        pricePer1kTokens: new Prisma.Decimal(settings.pricePer1kTokens),
        modelPrices: settings.modelPrices.map((price) => ({ model: price.model, pricePer1kTokens: price.pricePer1kTokens })),
        monthlyBudget: settings.monthlyBudget === null ? null : new Prisma.Decimal(settings.monthlyBudget),
        hoursSavedPerChange: { ...settings.hoursSavedPerDeliveredChange },
        minimumGroupSize: settings.minimumGroupSize,
        updatedAt: now,
      };
      const saved = await tx.analyticsSettings.upsert({ where: { tenantId }, create: { tenantId, ...data }, update: data });
      await appendAuditEntry(tx, tenantId, actor, { action: 'analytics.settings-changed', target: 'analytics-settings', details: changes.details }, now);
      return { settings: toSettingsView(saved), changedFields: changes.fields };
    });
  }

  private async cohortRows(scope: AnalyticsScope, free: Exclude<Dimension, 'kind'> | null): Promise<CohortSlice[]> {
    const fixed = cubeSelection(COHORT_BITS, { kind: scope.kind ?? FUNNEL_KINDS, repoAlias: scope.repoAlias, pool: scope.pool, model: undefined }, free);
    const groupColumn = free === null ? Prisma.sql`"day"::text` : Prisma.raw(`"${free}"`);
    const rows = await this.db.$queryRaw<CohortRow[]>`
      SELECT ${groupColumn} AS "key", sum("created")::int AS "created", sum("ran")::int AS "ran", sum("testsPassed")::int AS "testsPassed",
             sum("delivered")::int AS "delivered", sum("deliveredUntested")::int AS "deliveredUntested", sum("implausible")::int AS "implausible"
      FROM "AnalyticsCohortRollup"
      WHERE "tenantId" = ${scope.tenantId}::uuid AND "grain" = ${fixed.grain} ${fixed.conditions}
        AND "day" BETWEEN ${scope.from}::date AND ${scope.to}::date
      GROUP BY 1`;
    return sortByKey(rows.map(toCohortSlice).filter((row) => !isEmptyCohort(row)));
  }

  private async outcomeCounts(scope: AnalyticsScope, periods: Periods): Promise<OutcomeCounts> {
    const fixed = cubeSelection(OUTCOME_BITS, { kind: scope.kind, repoAlias: scope.repoAlias, pool: scope.pool }, null);
    const [row] = await this.db.$queryRaw<[Record<keyof OutcomeCounts, number | null>]>`
      SELECT sum("finished")::int AS "finished", sum("succeeded")::int AS "succeeded", sum("failed")::int AS "failed", sum("cancelled")::int AS "cancelled",
             sum("delivered")::int AS "delivered", sum("testsPassed")::int AS "testsPassed", sum("implausible")::int AS "implausible",
             sum("jobsWithModelUsage")::int AS "jobsWithModelUsage", sum("jobsWithFallback")::int AS "jobsWithFallback",
             sum("linesAdded")::float8 AS "linesAdded", sum("linesRemoved")::float8 AS "linesRemoved", sum("filesChanged")::float8 AS "filesChanged"
      FROM "AnalyticsOutcomeRollup"
      WHERE "tenantId" = ${scope.tenantId}::uuid AND "grain" = ${fixed.grain} ${fixed.conditions} ${periodCondition(periods)}`;
    return toOutcomeCounts(row);
  }

  private async durationHistogram(scope: AnalyticsScope, periods: Periods): Promise<Record<string, number> | null> {
    if (scope.repoAlias !== undefined && scope.pool !== undefined) return null;
    // Durations are kept for fix jobs only: the kind filter either keeps all of them or none.
    if (scope.kind !== undefined && scope.kind !== 'FIX') return {};
    const fixed = cubeSelection(DURATION_BITS, { repoAlias: scope.repoAlias, pool: scope.pool }, null);
    const rows = await this.db.$queryRaw<{ key: string; count: number }[]>`
      SELECT h.key, sum(h.value::bigint)::float8 AS "count"
      FROM "AnalyticsDurationRollup" AS r, jsonb_each_text(r."histogram") AS h
      WHERE r."tenantId" = ${scope.tenantId}::uuid AND r."grain" = ${fixed.grain} ${fixed.conditions} ${periodCondition(periods)}
      GROUP BY h.key`;
    return Object.fromEntries(rows.filter((row) => row.count !== 0).map((row) => [row.key, row.count]));
  }

  private async deliveredByKind(scope: AnalyticsScope, periods: Periods): Promise<{ kind: string; delivered: number }[]> {
    const fixed = cubeSelection(OUTCOME_BITS, { kind: scope.kind, repoAlias: scope.repoAlias, pool: scope.pool }, 'kind');
    const rows = await this.db.$queryRaw<{ kind: string; delivered: number }[]>`
      SELECT "kind", sum("delivered")::int AS "delivered"
      FROM "AnalyticsOutcomeRollup"
      WHERE "tenantId" = ${scope.tenantId}::uuid AND "grain" = ${fixed.grain} ${fixed.conditions} ${periodCondition(periods)}
      GROUP BY "kind"`;
    return rows.filter((row) => row.delivered > 0).sort((a, b) => compare(a.kind, b.kind));
  }

  private async deliveredByDay(scope: AnalyticsScope): Promise<{ day: string; delivered: number }[]> {
    const fixed = cubeSelection(OUTCOME_BITS, { kind: scope.kind, repoAlias: scope.repoAlias, pool: scope.pool }, null);
    const rows = await this.db.$queryRaw<{ day: string; delivered: number; finished: number; implausible: number }[]>`
      SELECT "start"::text AS "day", "delivered", "finished", "implausible"
      FROM "AnalyticsOutcomeRollup"
      WHERE "tenantId" = ${scope.tenantId}::uuid AND "grain" = ${fixed.grain} ${fixed.conditions}
        AND "period" = 'day' AND "start" BETWEEN ${scope.from}::date AND ${scope.to}::date`;
    // A day on which only implausible results finished has a row, but no plausible job to show.
    return rows
      .filter((row) => row.finished > 0)
      .map((row) => ({ day: row.day, delivered: row.delivered }))
      .sort((a, b) => compare(a.day, b.day));
  }

  private async tokenRows(scope: AnalyticsScope): Promise<TokenUsageDay[]> {
    const fixed = cubeSelection(OUTCOME_BITS, { kind: scope.kind, repoAlias: scope.repoAlias, pool: scope.pool }, null);
    const rows = await this.db.$queryRaw<TokenUsageDay[]>`
      SELECT "day"::text AS "day", "endpoint", "model", "jobs", "requests"::float8 AS "requests", "promptTokens"::float8 AS "promptTokens", "completionTokens"::float8 AS "completionTokens"
      FROM "AnalyticsTokenRollup"
      WHERE "tenantId" = ${scope.tenantId}::uuid AND "grain" = ${fixed.grain} ${fixed.conditions}
        AND "day" BETWEEN ${scope.from}::date AND ${scope.to}::date`;
    return sortTokens(rows);
  }

  private async spendTokens(tenantId: string, from: string, to: string): Promise<SpendTokensDay[]> {
    const rows = await this.db.$queryRaw<SpendTokensDay[]>`
      SELECT "day"::text AS "day", "model", sum("promptTokens" + "completionTokens")::float8 AS "tokens"
      FROM "AnalyticsTokenRollup"
      WHERE "tenantId" = ${tenantId}::uuid AND "grain" = ${OUTCOME_BITS.kind | OUTCOME_BITS.repoAlias | OUTCOME_BITS.pool}
        AND "kind" = ${ALL_VALUES} AND "repoAlias" = ${ALL_VALUES} AND "pool" = ${ALL_VALUES} AND "day" BETWEEN ${from}::date AND ${to}::date
      GROUP BY 1, 2`;
    return sortSpend(rows);
  }

  private async policyRows(scope: AnalyticsScope): Promise<PolicyDecisionCounts[]> {
    const fixed = cubeSelection(OUTCOME_BITS, { kind: scope.kind, repoAlias: scope.repoAlias, pool: scope.pool }, null);
    const rows = await this.db.$queryRaw<PolicyDecisionCounts[]>`
      SELECT "rule", "level", "outcome", sum("decisions")::int AS "decisions", sum("jobs")::int AS "jobs", sum("ruleJobs")::int AS "ruleJobs"
      FROM "AnalyticsPolicyRollup"
      WHERE "tenantId" = ${scope.tenantId}::uuid AND "grain" = ${fixed.grain} ${fixed.conditions}
        AND "day" BETWEEN ${scope.from}::date AND ${scope.to}::date
      GROUP BY 1, 2, 3`;
    return sortPolicy(rows);
  }

  /**
   * The merge requests of the chains whose first job was created in the scope's days and
   * matches its filters (its repository and kind; its pool as the rollups keep it). A plain
   * query over the outcomes: there is one row per chain, and no rollup of them.
   */
  private async mergeRequestCounts(scope: AnalyticsScope): Promise<MergeRequestCounts> {
    const withFigures = Prisma.sql`o."metadataLevel" <> 'METADATA_LEVEL_MINIMAL'`;
    const [row] = await this.db.$queryRaw<[Record<keyof MergeRequestCounts, number | null>]>`
      SELECT count(*)::int AS "reported",
             count(*) FILTER (WHERE o."state" = 'OPEN')::int AS "open",
             count(*) FILTER (WHERE o."state" = 'MERGED')::int AS "merged",
             count(*) FILTER (WHERE o."state" = 'CLOSED')::int AS "closedUnmerged",
             count(*) FILTER (WHERE o."reverted")::int AS "reverted",
             count(*) FILTER (WHERE ${withFigures})::int AS "withFigures",
             count(*) FILTER (WHERE ${withFigures} AND o."humanCommits" > 0)::int AS "reworkedByPeople",
             count(*) FILTER (WHERE ${withFigures} AND o."reviewRounds" > 0)::int AS "reviewed",
             percentile_disc(0.5) WITHIN GROUP (ORDER BY o."firstReviewAfterS") FILTER (WHERE ${withFigures} AND o."reviewRounds" > 0) AS "firstReviewP50S",
             percentile_disc(0.9) WITHIN GROUP (ORDER BY o."firstReviewAfterS") FILTER (WHERE ${withFigures} AND o."reviewRounds" > 0) AS "firstReviewP90S",
             count(*) FILTER (WHERE ${withFigures} AND o."state" = 'MERGED')::int AS "mergedWithFigures",
             percentile_disc(0.5) WITHIN GROUP (ORDER BY o."mergedAfterS") FILTER (WHERE ${withFigures} AND o."state" = 'MERGED') AS "mergeP50S",
             percentile_disc(0.9) WITHIN GROUP (ORDER BY o."mergedAfterS") FILTER (WHERE ${withFigures} AND o."state" = 'MERGED') AS "mergeP90S"
      FROM "DeliveryOutcome" AS o
      JOIN "Job" AS j ON j."id" = o."deliveryJobId" AND j."tenantId" = o."tenantId"
      WHERE o."tenantId" = ${scope.tenantId}::uuid
        AND j."createdAt" >= ${`${scope.from}T00:00:00Z`}::timestamptz AND j."createdAt" < ${`${nextDay(scope.to)}T00:00:00Z`}::timestamptz
        ${scope.repoAlias === undefined ? Prisma.empty : Prisma.sql`AND j."repoAlias" = ${scope.repoAlias}`}
        ${scope.kind === undefined ? Prisma.empty : Prisma.sql`AND j."kind" = ${scope.kind}::"JobKind"`}
        ${scope.pool === undefined ? Prisma.empty : Prisma.sql`AND EXISTS (SELECT 1 FROM "AnalyticsJobState" AS s WHERE s."jobId" = j."id" AND s."pool" = ${scope.pool})`}`;
    const count = (name: keyof MergeRequestCounts): number => Number(row[name] ?? 0);
    const seconds = (name: keyof MergeRequestCounts): number | null => (row[name] === null ? null : Number(row[name]));
    return {
      reported: count('reported'),
      open: count('open'),
      merged: count('merged'),
      closedUnmerged: count('closedUnmerged'),
      reverted: count('reverted'),
      withFigures: count('withFigures'),
      reworkedByPeople: count('reworkedByPeople'),
      reviewed: count('reviewed'),
      firstReviewP50S: seconds('firstReviewP50S'),
      firstReviewP90S: seconds('firstReviewP90S'),
      mergedWithFigures: count('mergedWithFigures'),
      mergeP50S: seconds('mergeP50S'),
      mergeP90S: seconds('mergeP90S'),
    };
  }

  /**
   * The review jobs that finished in the scope's days and match its filters, with the comment
   * counts of their results. A plain query over the jobs, by the index on kind and finish
   * time: there is no rollup of review counts. Implausible results are left out, as everywhere.
   */
  private async reviewCounts(scope: AnalyticsScope): Promise<ReviewCounts> {
    const none: ReviewCounts = { finished: 0, succeeded: 0, withCounts: 0, critical: 0, major: 0, minor: 0, info: 0, dropped: 0 };
    if (scope.kind !== undefined && scope.kind !== 'REVIEW') return none;
    const count = (severity: keyof ReviewMetadata) => Prisma.sql`COALESCE(sum((j."result"->'review'->>${severity})::bigint), 0)::float8`;
    const [row] = await this.db.$queryRaw<[Record<keyof ReviewCounts, number>]>`
      SELECT count(*)::int AS "finished",
             count(*) FILTER (WHERE j."status" = 'SUCCEEDED')::int AS "succeeded",
             count(*) FILTER (WHERE jsonb_typeof(j."result"->'review') = 'object')::int AS "withCounts",
             ${count('critical')} AS "critical", ${count('major')} AS "major", ${count('minor')} AS "minor", ${count('info')} AS "info", ${count('dropped')} AS "dropped"
      FROM "Job" AS j
      WHERE j."tenantId" = ${scope.tenantId}::uuid AND j."kind" = 'REVIEW'
        AND j."finishedAt" >= ${`${scope.from}T00:00:00Z`}::timestamptz AND j."finishedAt" < ${`${nextDay(scope.to)}T00:00:00Z`}::timestamptz
        AND j."status" IN ('SUCCEEDED', 'FAILED', 'CANCELLED') AND cardinality(j."resultImplausible") = 0
        ${scope.repoAlias === undefined ? Prisma.empty : Prisma.sql`AND j."repoAlias" = ${scope.repoAlias}`}
        ${scope.pool === undefined ? Prisma.empty : Prisma.sql`AND EXISTS (SELECT 1 FROM "AnalyticsJobState" AS s WHERE s."jobId" = j."id" AND s."pool" = ${scope.pool})`}`;
    return row;
  }

  /**
   * Slot time per day of the scope's pool ('*': every pool). Busy time comes from the rollup
   * (`rollup`) or from the attempts table (`scan`); online time always from the rollup. Both
   * add what is still open at `now`: connections not yet closed, attempts not yet ended.
   */
  private async fleetDays(scope: AnalyticsScope, now: Date, source: 'rollup' | 'scan'): Promise<FleetDay[]> {
    const pool = scope.pool ?? ALL_VALUES;
    const poolCondition = scope.pool === undefined ? Prisma.empty : Prisma.sql`AND COALESCE(w."pool", '(none)') = ${scope.pool}`;
    const fromMs = Date.parse(`${scope.from}T00:00:00Z`);
    const untilMs = Math.min(Date.parse(`${nextDay(scope.to)}T00:00:00Z`), now.getTime());
    const [stored, sessions, running, ended] = await Promise.all([
      this.db.$queryRaw<FleetDay[]>`
        SELECT "day"::text AS "day", "busyMs"::float8 AS "busyMs", "onlineSlotMs"::float8 AS "onlineSlotMs"
        FROM "AnalyticsFleetRollup"
        WHERE "tenantId" = ${scope.tenantId}::uuid AND "pool" = ${pool} AND "day" BETWEEN ${scope.from}::date AND ${scope.to}::date`,
      this.db.$queryRaw<{ capacity: number; sinceMs: number }[]>`
        SELECT "capacity", analytics_epoch_ms("since")::float8 AS "sinceMs"
        FROM "AnalyticsWorkerSession"
        WHERE "tenantId" = ${scope.tenantId}::uuid ${scope.pool === undefined ? Prisma.empty : Prisma.sql`AND "pool" = ${scope.pool}`}`,
      this.db.$queryRaw<{ dispatchedAtMs: number }[]>`
        SELECT analytics_epoch_ms(a."dispatchedAt")::float8 AS "dispatchedAtMs"
        FROM "JobAttempt" AS a JOIN "Worker" AS w ON w."id" = a."workerId"
        WHERE a."status" IN ('DISPATCHED', 'RUNNING') AND a."tenantId" = ${scope.tenantId}::uuid ${poolCondition}`,
      source === 'rollup'
        ? Promise.resolve([])
        : this.db.$queryRaw<{ fromMs: number; untilMs: number }[]>`
            SELECT analytics_epoch_ms(a."dispatchedAt")::float8 AS "fromMs", analytics_epoch_ms(a."finishedAt")::float8 AS "untilMs"
            FROM "JobAttempt" AS a JOIN "Worker" AS w ON w."id" = a."workerId"
            WHERE a."tenantId" = ${scope.tenantId}::uuid AND a."status" NOT IN ('DISPATCHED', 'RUNNING') AND a."finishedAt" IS NOT NULL
              AND a."finishedAt" > ${`${scope.from}T00:00:00Z`}::timestamptz AND a."dispatchedAt" < ${`${nextDay(scope.to)}T00:00:00Z`}::timestamptz ${poolCondition}`,
    ]);
    const days = new Map<string, { busyMs: number; onlineSlotMs: number }>();
    const add = (day: string, column: 'busyMs' | 'onlineSlotMs', ms: number): void => {
      if (day < scope.from || day > scope.to) return;
      const entry = days.get(day) ?? { busyMs: 0, onlineSlotMs: 0 };
      entry[column] += ms;
      days.set(day, entry);
    };
    for (const row of stored) {
      if (source === 'rollup') add(row.day, 'busyMs', row.busyMs);
      add(row.day, 'onlineSlotMs', row.onlineSlotMs);
    }
    for (const attempt of ended) for (const segment of splitAcrossUtcDays(attempt.fromMs, attempt.untilMs)) add(segment.day, 'busyMs', segment.ms);
    for (const session of sessions) {
      for (const segment of splitAcrossUtcDays(Math.max(session.sinceMs, fromMs), untilMs)) add(segment.day, 'onlineSlotMs', segment.ms * session.capacity);
    }
    for (const attempt of running) for (const segment of splitAcrossUtcDays(Math.max(attempt.dispatchedAtMs, fromMs), untilMs)) add(segment.day, 'busyMs', segment.ms);
    return [...days.entries()]
      .filter(([, entry]) => entry.busyMs !== 0 || entry.onlineSlotMs !== 0)
      .map(([day, entry]) => ({ day, ...entry }))
      .sort((a, b) => compare(a.day, b.day));
  }
}

interface CohortRow extends CohortCounts {
  readonly key: string;
}

interface ScannedDocument {
  readonly cohort: (Record<keyof CohortCounts, number> & { readonly dimension: string; readonly key: string })[];
  readonly outcome: Record<keyof OutcomeCounts, number | null>;
  readonly histogram: Record<string, number>;
  readonly deliveredByKind: { readonly kind: string; readonly delivered: number }[];
  readonly deliveredByDay: { readonly day: string; readonly delivered: number }[];
  readonly tokens: Record<keyof TokenUsageDay, string | number>[];
  readonly policy: Record<keyof PolicyDecisionCounts, string | number>[];
  readonly spendTokens: { readonly day: string; readonly model: string; readonly tokens: number | string }[];
}

/**
 * Which rows of a cube to read: the grain, and a condition for every dimension that is not
 * free. A dimension is matched to one value, or to a set of values (read value by value, its
 * bit clear, and summed by the caller's grouping), or, left undefined, read as "all" ('*').
 */
function cubeSelection<D extends string>(
  bits: Readonly<Record<D, number>>,
  values: Readonly<Record<NoInfer<D>, string | readonly string[] | undefined>>,
  free: NoInfer<D> | null,
): { grain: number; conditions: Prisma.Sql } {
  let grain = 0;
  const conditions: Prisma.Sql[] = [];
  for (const dimension of Object.keys(bits) as D[]) {
    const value = values[dimension];
    const column = Prisma.raw(`"${dimension}"`);
    if (typeof value === 'object') {
      conditions.push(Prisma.sql`AND ${column} = ANY(${[...value]}::text[])`);
      continue;
    }
    // A free dimension is read value by value (its bit stays clear); only a filter narrows it.
    if (dimension === free) {
      if (value !== undefined) conditions.push(Prisma.sql`AND ${column} = ${value}`);
      continue;
    }
    if (value === undefined) grain |= bits[dimension];
    conditions.push(Prisma.sql`AND ${column} = ${value ?? ALL_VALUES}`);
  }
  return { grain, conditions: Prisma.join(conditions, ' ') };
}

function optionalEquals(column: 'kind' | 'repoAlias' | 'pool', value: string | undefined): Prisma.Sql {
  return value === undefined ? Prisma.empty : Prisma.sql`AND ${Prisma.raw(`"${column}"`)} = ${value}`;
}

/** A range of days as whole calendar months (read from "month" rows) and the days around them. */
interface Periods {
  readonly months: readonly string[];
  readonly days: readonly string[];
}

/** The months wholly inside `from`..`to` and the days of the range outside them. */
export function periodsCovering(from: string, to: string): Periods {
  const months: string[] = [];
  const days: string[] = [];
  for (let day = from; day <= to; ) {
    const monthEnd = lastDayOfMonth(day);
    if (day.endsWith('-01') && monthEnd <= to) {
      months.push(day);
      day = nextDay(monthEnd);
    } else {
      days.push(day);
      day = nextDay(day);
    }
  }
  return { months, days };
}

function periodCondition(periods: Periods): Prisma.Sql {
  return Prisma.sql`AND (("period" = 'month' AND "start" = ANY(${[...periods.months]}::date[])) OR ("period" = 'day' AND "start" = ANY(${[...periods.days]}::date[])))`;
}

/** The day after a `YYYY-MM-DD` day. */
export function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

function lastDayOfMonth(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).toISOString().slice(0, 10);
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function sortByKey<T extends { readonly key: string }>(rows: T[]): T[] {
  return rows.sort((a, b) => compare(a.key, b.key));
}

function sortTokens(rows: TokenUsageDay[]): TokenUsageDay[] {
  return rows.sort((a, b) => compare(a.day, b.day) || compare(a.endpoint, b.endpoint) || compare(a.model, b.model));
}

function sortSpend(rows: SpendTokensDay[]): SpendTokensDay[] {
  return rows.filter((row) => row.tokens !== 0).sort((a, b) => compare(a.day, b.day) || compare(a.model, b.model));
}

function sortPolicy(rows: PolicyDecisionCounts[]): PolicyDecisionCounts[] {
  return rows.sort((a, b) => compare(a.rule, b.rule) || compare(a.level, b.level) || compare(a.outcome, b.outcome));
}

function isEmptyCohort(row: CohortCounts): boolean {
  return row.created === 0 && row.ran === 0 && row.testsPassed === 0 && row.delivered === 0 && row.deliveredUntested === 0 && row.implausible === 0;
}

function toCohortSlice(row: Record<keyof CohortCounts, number | string> & { readonly key: string }): CohortSlice {
  return {
    key: row.key,
    created: Number(row.created),
    ran: Number(row.ran),
    testsPassed: Number(row.testsPassed),
    delivered: Number(row.delivered),
    deliveredUntested: Number(row.deliveredUntested),
    implausible: Number(row.implausible),
  };
}

function toOutcomeCounts(row: Record<keyof OutcomeCounts, number | string | null> | undefined): OutcomeCounts {
  const value = (name: keyof OutcomeCounts): number => Number(row?.[name] ?? 0);
  return {
    finished: value('finished'),
    succeeded: value('succeeded'),
    failed: value('failed'),
    cancelled: value('cancelled'),
    delivered: value('delivered'),
    testsPassed: value('testsPassed'),
    implausible: value('implausible'),
    jobsWithModelUsage: value('jobsWithModelUsage'),
    jobsWithFallback: value('jobsWithFallback'),
    linesAdded: value('linesAdded'),
    linesRemoved: value('linesRemoved'),
    filesChanged: value('filesChanged'),
  };
}

function toTokenUsageDay(row: Record<keyof TokenUsageDay, string | number>): TokenUsageDay {
  return {
    day: String(row.day),
    endpoint: String(row.endpoint),
    model: String(row.model),
    jobs: Number(row.jobs),
    requests: Number(row.requests),
    promptTokens: Number(row.promptTokens),
    completionTokens: Number(row.completionTokens),
  };
}

function toPolicyCounts(row: Record<keyof PolicyDecisionCounts, string | number>): PolicyDecisionCounts {
  return {
    rule: String(row.rule),
    level: String(row.level),
    outcome: String(row.outcome),
    decisions: Number(row.decisions),
    jobs: Number(row.jobs),
    ruleJobs: Number(row.ruleJobs),
  };
}

function toSettingsView(row: AnalyticsSettings): AnalyticsSettingsView {
  const hours = (row.hoursSavedPerChange ?? {}) as Partial<Record<HoursSavedKind, unknown>>;
  const prices = Array.isArray(row.modelPrices) ? row.modelPrices : [];
  return {
    currency: row.currency,
    pricePer1kTokens: row.pricePer1kTokens.toNumber(),
    modelPrices: prices.flatMap((entry) => {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return [];
      const { model, pricePer1kTokens } = entry as Record<string, unknown>;
      return typeof model === 'string' && typeof pricePer1kTokens === 'number' ? [{ model, pricePer1kTokens }] : [];
    }),
    monthlyBudget: row.monthlyBudget === null ? null : row.monthlyBudget.toNumber(),
    hoursSavedPerDeliveredChange: Object.fromEntries(HOURS_SAVED_KINDS.map((kind) => [kind, typeof hours[kind] === 'number' ? hours[kind] : 0])) as Record<HoursSavedKind, number>,
    minimumGroupSize: row.minimumGroupSize,
    updatedAt: row.updatedAt,
  };
}

/** The fields that differ, and the audit details that name them with their new values (model prices by count: a list could be long). */
function changedSettings(before: AnalyticsSettingsValues, after: AnalyticsSettingsValues): { fields: string[]; details: AuditDetails } {
  const details: Record<string, string | number | boolean | null> = {};
  const fields: string[] = [];
  const note = (field: string, value: string | number | null): void => {
    fields.push(field);
    details[field] = value;
  };
  if (before.currency !== after.currency) note('currency', after.currency);
  if (before.pricePer1kTokens !== after.pricePer1kTokens) note('pricePer1kTokens', after.pricePer1kTokens);
  if (JSON.stringify(before.modelPrices) !== JSON.stringify(after.modelPrices)) note('modelPrices', after.modelPrices.length);
  if (before.monthlyBudget !== after.monthlyBudget) note('monthlyBudget', after.monthlyBudget);
  for (const kind of HOURS_SAVED_KINDS) {
    if (before.hoursSavedPerDeliveredChange[kind] !== after.hoursSavedPerDeliveredChange[kind]) {
      note(`hoursSavedPerDeliveredChange.${kind}`, after.hoursSavedPerDeliveredChange[kind]);
    }
  }
  if (before.minimumGroupSize !== after.minimumGroupSize) note('minimumGroupSize', after.minimumGroupSize);
  return { fields, details: { changedFields: fields.join(','), ...details } };
}
