-- Analytics for managers (docs/analytics.md). Rollups are kept current in the transaction of
-- every job transition by libs/data-access/src/repositories/analytics-rollup.ts; this file
-- defines the tables, the per-job facts both that code and the rebuild read, and the
-- rebuild itself, which it runs for the data already there.

-- ───────────── Settings: what the manager assumes (prices, budget, hours saved) ─────────────

CREATE TABLE "AnalyticsSettings" (
    "tenantId" UUID NOT NULL,
    "currency" TEXT NOT NULL,
    "pricePer1kTokens" NUMERIC(12, 6) NOT NULL,
    -- [{model, pricePer1kTokens}]: prices that override the tenant's for one model.
    "modelPrices" JSONB NOT NULL,
    "monthlyBudget" NUMERIC(16, 2),
    -- {FIX: hours, NOOP: hours}: engineering hours one delivered change saves, per job kind.
    "hoursSavedPerChange" JSONB NOT NULL,
    "minimumGroupSize" INTEGER NOT NULL,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "AnalyticsSettings_pkey" PRIMARY KEY ("tenantId")
);

-- ───────────── What each job contributes now, so a transition can move it exactly ─────────────

CREATE TABLE "AnalyticsJobState" (
    "jobId" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "pool" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "created" SMALLINT NOT NULL,
    "ran" SMALLINT NOT NULL,
    "testsPassed" SMALLINT NOT NULL,
    "delivered" SMALLINT NOT NULL,
    "deliveredUntested" SMALLINT NOT NULL,
    "implausible" SMALLINT NOT NULL,
    -- Whether its finish-day figures (outcome, tokens, policy) are in the rollups.
    "finished" BOOLEAN NOT NULL,
    -- The highest attempt whose slot time is in the fleet rollup (attempts end in order).
    "busyThroughAttempt" INTEGER NOT NULL,
    CONSTRAINT "AnalyticsJobState_pkey" PRIMARY KEY ("jobId")
);
CREATE INDEX "AnalyticsJobState_tenantId_idx" ON "AnalyticsJobState"("tenantId");

-- ───────────── Rollups ─────────────
-- Every rollup is a cube over its filter dimensions: each job adds to the row of its own values
-- and to every row where some of them are replaced by '*' (all). "grain" is the bit mask of the
-- '*' dimensions, as GROUPING() numbers them (the first dimension is the highest bit), so a
-- request reads exactly the rows of one grain: no filter reads the all-'*' rows.

-- Per creation day (a cohort): how far the jobs created that day got.
CREATE TABLE "AnalyticsCohortRollup" (
    "tenantId" UUID NOT NULL,
    "grain" SMALLINT NOT NULL,
    "kind" TEXT NOT NULL,
    "repoAlias" TEXT NOT NULL,
    "pool" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "created" INTEGER NOT NULL,
    "ran" INTEGER NOT NULL,
    "testsPassed" INTEGER NOT NULL,
    "delivered" INTEGER NOT NULL,
    "deliveredUntested" INTEGER NOT NULL,
    "implausible" INTEGER NOT NULL,
    -- The counters ride in the key's index: a breakdown over a year reads ~15,000 rows of it
    -- without touching the table (an index-only scan: 3× faster, docs/benchmarks.md).
    CONSTRAINT "AnalyticsCohortRollup_pkey" PRIMARY KEY ("tenantId", "grain", "kind", "repoAlias", "pool", "model", "day")
        INCLUDE ("created", "ran", "testsPassed", "delivered", "deliveredUntested", "implausible")
);

-- Per finish day ("day" rows) and per finish month ("month" rows, so a year reads 12 rows and
-- the days at its edges): outcomes and secondary counts.
CREATE TABLE "AnalyticsOutcomeRollup" (
    "tenantId" UUID NOT NULL,
    "grain" SMALLINT NOT NULL,
    "kind" TEXT NOT NULL,
    "repoAlias" TEXT NOT NULL,
    "pool" TEXT NOT NULL,
    "period" TEXT NOT NULL,
    "start" DATE NOT NULL,
    "finished" INTEGER NOT NULL,
    "succeeded" INTEGER NOT NULL,
    "failed" INTEGER NOT NULL,
    "cancelled" INTEGER NOT NULL,
    "delivered" INTEGER NOT NULL,
    "testsPassed" INTEGER NOT NULL,
    "implausible" INTEGER NOT NULL,
    "jobsWithModelUsage" INTEGER NOT NULL,
    "jobsWithFallback" INTEGER NOT NULL,
    "linesAdded" BIGINT NOT NULL,
    "linesRemoved" BIGINT NOT NULL,
    "filesChanged" BIGINT NOT NULL,
    CONSTRAINT "AnalyticsOutcomeRollup_pkey" PRIMARY KEY ("tenantId", "grain", "kind", "repoAlias", "pool", "period", "start")
);

-- Per finish day and month: the duration histograms of finished fix jobs (noop jobs are probes
-- with no phases). Kept per repository and per pool, not per pair of them: a histogram per
-- repository, pool and day is about as large as the jobs it counts (see docs/benchmarks.md),
-- so grain 0 is never written and a request filtered by both reads no percentiles.
CREATE TABLE "AnalyticsDurationRollup" (
    "tenantId" UUID NOT NULL,
    "grain" SMALLINT NOT NULL,
    "repoAlias" TEXT NOT NULL,
    "pool" TEXT NOT NULL,
    "period" TEXT NOT NULL,
    "start" DATE NOT NULL,
    -- {"<metric>.<bucket>": count}, only buckets that are not empty (see analytics_bucket).
    "histogram" JSONB NOT NULL,
    CONSTRAINT "AnalyticsDurationRollup_pkey" PRIMARY KEY ("tenantId", "grain", "repoAlias", "pool", "period", "start")
);

-- Per finish day: tokens by inference endpoint and model.
CREATE TABLE "AnalyticsTokenRollup" (
    "tenantId" UUID NOT NULL,
    "grain" SMALLINT NOT NULL,
    "kind" TEXT NOT NULL,
    "repoAlias" TEXT NOT NULL,
    "pool" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "endpoint" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "jobs" INTEGER NOT NULL,
    "requests" BIGINT NOT NULL,
    "promptTokens" BIGINT NOT NULL,
    "completionTokens" BIGINT NOT NULL,
    CONSTRAINT "AnalyticsTokenRollup_pkey" PRIMARY KEY ("tenantId", "grain", "kind", "repoAlias", "pool", "day", "endpoint", "model")
        INCLUDE ("jobs", "requests", "promptTokens", "completionTokens")
);

-- Per finish day: policy decisions by rule, level and outcome.
CREATE TABLE "AnalyticsPolicyRollup" (
    "tenantId" UUID NOT NULL,
    "grain" SMALLINT NOT NULL,
    "kind" TEXT NOT NULL,
    "repoAlias" TEXT NOT NULL,
    "pool" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "rule" TEXT NOT NULL,
    "level" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "decisions" INTEGER NOT NULL,
    -- Jobs with at least one such decision.
    "jobs" INTEGER NOT NULL,
    -- Jobs counted once per rule (on the row of their first level and outcome), so the rows of
    -- one rule add up to the jobs the rule fired on.
    "ruleJobs" INTEGER NOT NULL,
    CONSTRAINT "AnalyticsPolicyRollup_pkey" PRIMARY KEY ("tenantId", "grain", "kind", "repoAlias", "pool", "day", "rule", "level", "outcome")
        INCLUDE ("decisions", "jobs", "ruleJobs")
);

-- Per UTC day and worker pool ('*': every pool): slot time busy with attempts, and slot time
-- online (connected time × capacity). The rebuild recomputes the busy time only: there is no
-- connection history to recompute the other from.
CREATE TABLE "AnalyticsFleetRollup" (
    "tenantId" UUID NOT NULL,
    "pool" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "busyMs" BIGINT NOT NULL,
    "onlineSlotMs" BIGINT NOT NULL,
    CONSTRAINT "AnalyticsFleetRollup_pkey" PRIMARY KEY ("tenantId", "pool", "day")
);

-- A worker's open connection: its online time is added to the fleet rollup when it closes.
CREATE TABLE "AnalyticsWorkerSession" (
    "workerId" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "pool" TEXT NOT NULL,
    "capacity" INTEGER NOT NULL,
    "since" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "AnalyticsWorkerSession_pkey" PRIMARY KEY ("workerId")
);
CREATE INDEX "AnalyticsWorkerSession_tenantId_idx" ON "AnalyticsWorkerSession"("tenantId");

-- ───────────── Functions ─────────────

-- The histogram bucket of a duration in milliseconds: 0 below 100 ms, then one bucket per
-- factor 2^(1/4) (each bound rounded up to a whole millisecond), 101 from 2^25 × 100 ms
-- (about 38.8 days). The same bounds as HISTOGRAM_BUCKET_LOWER_BOUNDS_MS in analytics-histogram.ts.
CREATE FUNCTION analytics_bucket(duration_ms BIGINT) RETURNS INTEGER
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT width_bucket(duration_ms, '{100,119,142,169,200,238,283,337,400,476,566,673,800,952,1132,1346,1600,1903,2263,2691,3200,3806,4526,5382,6400,7611,9051,10764,12800,15222,18102,21527,25600,30444,36204,43054,51200,60888,72408,86108,102400,121775,144816,172216,204800,243550,289631,344432,409600,487100,579262,688863,819200,974199,1158524,1377725,1638400,1948397,2317048,2755450,3276800,3896794,4634096,5510899,6553600,7793588,9268191,11021798,13107200,15587176,18536381,22043595,26214400,31174351,37072761,44087190,52428800,62348702,74145521,88174380,104857600,124697404,148291041,176348760,209715200,249394808,296582081,352697520,419430400,498789616,593164161,705395040,838860800,997579232,1186328321,1410790080,1677721600,1995158464,2372656641,2821580159,3355443200}'::BIGINT[])
$$;

-- Two sparse histograms added key by key.
CREATE FUNCTION analytics_add_counts(a JSONB, b JSONB) RETURNS JSONB
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT COALESCE(jsonb_object_agg(key, total), '{}'::jsonb)
  FROM (
    SELECT key, sum(value::bigint) AS total
    FROM (SELECT key, value FROM jsonb_each_text(a) UNION ALL SELECT key, value FROM jsonb_each_text(b)) AS entries
    GROUP BY key
  ) AS sums
  WHERE total <> 0
$$;

CREATE FUNCTION analytics_epoch_ms(at TIMESTAMPTZ) RETURNS BIGINT
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT floor(extract(epoch FROM at) * 1000)::bigint $$;

-- ───────────── The facts of one job, as every rollup counts it ─────────────
-- The one definition of what a job is (ran, tests passed, delivered, its pool and model, its
-- durations, tokens and decisions): the incremental writer reads it for one job, the rebuild
-- and the benchmark's scan for many. docs/analytics.md explains each column.
CREATE VIEW "AnalyticsJobFacts" AS
SELECT
  d."jobId", d."tenantId", d."kind", d."repoAlias", d."status", d."terminal", d."implausible", d."createdAt", d."finishedAt", d."createdDay", d."finishedDay",
  d."createdAtMs", d."finishedAtMs", d."firstDispatchedAtMs", d."ran", d."pool", d."endedAttempts",
  d."delivered", d."testsPassed", d."model", d."usage", d."hasModelUsage", d."usedFallback", d."linesAdded", d."linesRemoved", d."filesChanged", d."decisions",
  -- What the job's finish adds to the duration histograms: 'ttc.<bucket>' (created → delivered),
  -- 'qw.<bucket>' (created → first dispatch), '<PHASE_…>.<bucket>' per phase duration it reports.
  ARRAY(
    SELECT 'ttc.' || analytics_bucket(d."finishedAtMs" - d."createdAtMs") WHERE d."delivered"
    UNION ALL
    SELECT 'qw.' || analytics_bucket(d."firstDispatchedAtMs" - d."createdAtMs") WHERE d."firstDispatchedAtMs" IS NOT NULL
    UNION ALL
    SELECT p."phase" || '.' || analytics_bucket(p."durationMs")
    FROM jsonb_to_recordset(d."phaseDurations") AS p("phase" TEXT, "durationMs" BIGINT)
    WHERE starts_with(p."phase", 'PHASE_') AND p."phase" <> 'PHASE_UNSPECIFIED' AND p."durationMs" IS NOT NULL
  ) AS "histogramKeys"
FROM (
  SELECT
    b.*,
    (b."status" = 'SUCCEEDED' AND b."kind" = 'FIX' AND b."result" IS NOT NULL
      AND (b."result"->>'deliveryMac' IS NOT NULL OR b."result"->>'metadataLevel' = 'METADATA_LEVEL_MINIMAL')) AS "delivered",
    (b."kind" = 'FIX' AND b."result" IS NOT NULL
      AND (b."status" = 'SUCCEEDED' OR b."result"->>'failedPhase' = 'PHASE_DELIVER')
      AND NOT jsonb_path_exists(b."result", '$.policy.decisions[*] ? (@.rule == "tests-must-pass")')
      AND (b."result"->>'metadataLevel' = 'METADATA_LEVEL_MINIMAL'
           OR (b."result"->'verification'->>'testsRan' = 'true' AND COALESCE(b."result"->'verification'->>'testsRegressed', '0') = '0'))) AS "testsPassed",
    CASE WHEN NOT b."terminal" THEN '(not finished)' WHEN b."result" IS NULL THEN '(no result)' ELSE COALESCE(u."principalModel", '(unreported)') END AS "model",
    CASE
      WHEN COALESCE(u."entries", 0) > 0 THEN u."usage"
      WHEN b."requests" + b."promptTokens" + b."completionTokens" > 0 THEN
        jsonb_build_array(jsonb_build_object('endpoint', '(unreported)', 'model', '(unreported)',
          'requests', b."requests", 'promptTokens', b."promptTokens", 'completionTokens', b."completionTokens"))
      ELSE '[]'::jsonb
    END AS "usage",
    COALESCE(u."entries", 0) > 0 AS "hasModelUsage",
    COALESCE(u."usedFallback", false) AS "usedFallback",
    COALESCE(pd."decisions", '[]'::jsonb) AS "decisions"
  FROM (
    SELECT
      j."id" AS "jobId",
      j."tenantId",
      j."kind"::text AS "kind",
      COALESCE(j."repoAlias", '(none)') AS "repoAlias",
      j."status"::text AS "status",
      j."status" IN ('SUCCEEDED', 'FAILED', 'CANCELLED') AS "terminal",
      cardinality(j."resultImplausible") > 0 AS "implausible",
      j."result",
      j."createdAt",
      j."finishedAt",
      (j."createdAt" AT TIME ZONE 'UTC')::date AS "createdDay",
      (j."finishedAt" AT TIME ZONE 'UTC')::date AS "finishedDay",
      analytics_epoch_ms(j."createdAt") AS "createdAtMs",
      analytics_epoch_ms(j."finishedAt") AS "finishedAtMs",
      analytics_epoch_ms(att."firstDispatchedAt") AS "firstDispatchedAtMs",
      COALESCE(att."ran", false) AS "ran",
      COALESCE(att."ranPool", att."endedPool", '(not dispatched)') AS "pool",
      COALESCE(att."endedAttempts", '[]'::jsonb) AS "endedAttempts",
      CASE WHEN jsonb_typeof(j."result"->'phaseDurations') = 'array' THEN j."result"->'phaseDurations' ELSE '[]'::jsonb END AS "phaseDurations",
      CASE WHEN jsonb_typeof(j."result"->'modelUsage') = 'array' THEN j."result"->'modelUsage' ELSE '[]'::jsonb END AS "modelUsage",
      COALESCE((j."result"->'tokens'->>'requests')::bigint, 0) AS "requests",
      COALESCE((j."result"->'tokens'->>'promptTokens')::bigint, 0) AS "promptTokens",
      COALESCE((j."result"->'tokens'->>'completionTokens')::bigint, 0) AS "completionTokens",
      COALESCE((j."result"->'change'->>'linesAdded')::bigint, 0) AS "linesAdded",
      COALESCE((j."result"->'change'->>'linesRemoved')::bigint, 0) AS "linesRemoved",
      COALESCE((j."result"->'change'->>'filesChanged')::bigint, 0) AS "filesChanged"
    FROM "Job" AS j
    -- Grouped subqueries rather than per-job lookups: a query for one job pushes its id into
    -- them (an index lookup), a query for a tenant joins them whole.
    LEFT JOIN (
      SELECT
        a."jobId",
        a."tenantId",
        bool_or(a."ackedAt" IS NOT NULL OR a."status" IN ('SUCCEEDED', 'FAILED', 'CANCELLED')) AS "ran",
        (array_agg(COALESCE(w."pool", '(none)') ORDER BY a."attempt" DESC)
          FILTER (WHERE a."ackedAt" IS NOT NULL OR a."status" IN ('SUCCEEDED', 'FAILED', 'CANCELLED')))[1] AS "ranPool",
        (array_agg(COALESCE(w."pool", '(none)') ORDER BY a."attempt" DESC) FILTER (WHERE a."status" NOT IN ('DISPATCHED', 'RUNNING')))[1] AS "endedPool",
        min(a."dispatchedAt") AS "firstDispatchedAt",
        jsonb_agg(
          jsonb_build_object('attempt', a."attempt", 'fromMs', analytics_epoch_ms(a."dispatchedAt"), 'untilMs', analytics_epoch_ms(a."finishedAt"), 'pool', COALESCE(w."pool", '(none)'))
          ORDER BY a."attempt"
        ) FILTER (WHERE a."status" NOT IN ('DISPATCHED', 'RUNNING') AND a."finishedAt" IS NOT NULL) AS "endedAttempts"
      FROM "JobAttempt" AS a
      JOIN "Worker" AS w ON w."id" = a."workerId"
      GROUP BY a."jobId", a."tenantId"
    ) AS att ON att."jobId" = j."id" AND att."tenantId" = j."tenantId"
  ) AS b
  LEFT JOIN LATERAL (
    SELECT
      count(*) AS "entries",
      (array_agg(COALESCE(e."model", '(unreported)')
         ORDER BY COALESCE(e."promptTokens", 0) + COALESCE(e."completionTokens", 0) DESC, COALESCE(e."requests", 0) DESC, COALESCE(e."endpointIndex", 0), e.n))[1] AS "principalModel",
      COALESCE(bool_or(COALESCE(e."endpointIndex", 0) > 0), false) AS "usedFallback",
      jsonb_agg(jsonb_build_object('endpoint', COALESCE(e."endpoint", '(unreported)'), 'model', COALESCE(e."model", '(unreported)'),
                                   'requests', COALESCE(e."requests", 0), 'promptTokens', COALESCE(e."promptTokens", 0), 'completionTokens', COALESCE(e."completionTokens", 0))
                ORDER BY e.n) AS "usage"
    FROM ROWS FROM (jsonb_to_recordset(b."modelUsage") AS ("endpointIndex" INTEGER, "endpoint" TEXT, "model" TEXT, "requests" BIGINT, "promptTokens" BIGINT, "completionTokens" BIGINT))
         WITH ORDINALITY AS e("endpointIndex", "endpoint", "model", "requests", "promptTokens", "completionTokens", n)
  ) AS u ON b."result" IS NOT NULL
  LEFT JOIN (
    SELECT g."jobId", g."tenantId",
           jsonb_agg(jsonb_build_object('rule', g."rule", 'level', g."level", 'outcome', g."outcome", 'count', g.n, 'firstOfRule', g.first_of_rule)
                     ORDER BY g."rule" COLLATE "C", g."level" COLLATE "C", g."outcome" COLLATE "C") AS "decisions"
    FROM (
      SELECT pdr."jobId", pdr."tenantId", pdr."rule", pdr."level", pdr."outcome", count(*)::int AS n,
             row_number() OVER (PARTITION BY pdr."jobId", pdr."rule" ORDER BY pdr."level" COLLATE "C", pdr."outcome" COLLATE "C") = 1 AS first_of_rule
      FROM "PolicyDecision" AS pdr
      GROUP BY pdr."jobId", pdr."tenantId", pdr."rule", pdr."level", pdr."outcome"
    ) AS g
    GROUP BY g."jobId", g."tenantId"
  ) AS pd ON pd."jobId" = b."jobId" AND pd."tenantId" = b."tenantId"
) AS d;

-- The facts of one job, for the writer that keeps the rollups current. A PL/pgSQL function
-- keeps its plan across calls: planning the view afresh costs more than running it (~3 ms
-- against ~1 ms), and it runs in the transaction of every job transition.
CREATE FUNCTION analytics_job_facts(p_job UUID, p_tenant UUID) RETURNS SETOF "AnalyticsJobFacts"
LANGUAGE plpgsql STABLE
AS $$
BEGIN
  RETURN QUERY SELECT * FROM "AnalyticsJobFacts" WHERE "jobId" = p_job AND "tenantId" = p_tenant;
END;
$$;

-- ───────────── The rebuild ─────────────
-- Replaces a tenant's rollups (and job states) with what its jobs table says now; the online
-- slot time of the fleet rollup is kept (nothing else records it). Holds the tenant's
-- analytics lock for its whole transaction: incremental writers take it shared, so none
-- interleaves with a rebuild.
CREATE FUNCTION analytics_rebuild_tenant(p_tenant UUID) RETURNS VOID
LANGUAGE plpgsql
AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(1095650393, hashtext(p_tenant::text));

  DELETE FROM "AnalyticsCohortRollup" WHERE "tenantId" = p_tenant;
  DELETE FROM "AnalyticsOutcomeRollup" WHERE "tenantId" = p_tenant;
  DELETE FROM "AnalyticsDurationRollup" WHERE "tenantId" = p_tenant;
  DELETE FROM "AnalyticsTokenRollup" WHERE "tenantId" = p_tenant;
  DELETE FROM "AnalyticsPolicyRollup" WHERE "tenantId" = p_tenant;
  DELETE FROM "AnalyticsJobState" WHERE "tenantId" = p_tenant;
  UPDATE "AnalyticsFleetRollup" SET "busyMs" = 0 WHERE "tenantId" = p_tenant AND "busyMs" <> 0;

  DROP TABLE IF EXISTS analytics_rebuild_facts;
  CREATE TEMP TABLE analytics_rebuild_facts ON COMMIT DROP AS
  SELECT "jobId", "kind", "repoAlias", "pool", "model", "status", "terminal", "implausible", "createdDay", "finishedDay",
         "ran", "testsPassed", "delivered", "hasModelUsage", "usedFallback", "linesAdded", "linesRemoved", "filesChanged",
         "histogramKeys", "usage", "decisions"
  FROM "AnalyticsJobFacts"
  WHERE "tenantId" = p_tenant;

  -- The attempts that ended, with the slot time each held (the view's endedAttempts, set-based).
  DROP TABLE IF EXISTS analytics_rebuild_attempts;
  CREATE TEMP TABLE analytics_rebuild_attempts ON COMMIT DROP AS
  SELECT a."jobId", a."attempt", COALESCE(w."pool", '(none)') AS "pool",
         analytics_epoch_ms(a."dispatchedAt") AS "fromMs", analytics_epoch_ms(a."finishedAt") AS "untilMs"
  FROM "JobAttempt" AS a
  JOIN "Worker" AS w ON w."id" = a."workerId"
  WHERE a."tenantId" = p_tenant AND a."status" NOT IN ('DISPATCHED', 'RUNNING') AND a."finishedAt" IS NOT NULL;

  INSERT INTO "AnalyticsJobState" ("jobId", "tenantId", "pool", "model", "created", "ran", "testsPassed", "delivered", "deliveredUntested", "implausible", "finished", "busyThroughAttempt")
  SELECT f."jobId", p_tenant, f."pool", f."model",
         (NOT f."implausible")::int, (NOT f."implausible" AND f."ran")::int, (NOT f."implausible" AND f."testsPassed")::int,
         (NOT f."implausible" AND f."delivered")::int, (NOT f."implausible" AND f."delivered" AND NOT f."testsPassed")::int, f."implausible"::int,
         f."terminal", COALESCE(e."busyThroughAttempt", 0)
  FROM analytics_rebuild_facts AS f
  LEFT JOIN (SELECT "jobId", max("attempt") AS "busyThroughAttempt" FROM analytics_rebuild_attempts GROUP BY "jobId") AS e ON e."jobId" = f."jobId";

  INSERT INTO "AnalyticsCohortRollup" ("tenantId", "grain", "kind", "repoAlias", "pool", "model", "day", "created", "ran", "testsPassed", "delivered", "deliveredUntested", "implausible")
  SELECT p_tenant, GROUPING(fine."kind", fine."repoAlias", fine."pool", fine."model"),
         COALESCE(fine."kind", '*'), COALESCE(fine."repoAlias", '*'), COALESCE(fine."pool", '*'), COALESCE(fine."model", '*'), fine."day",
         sum(fine."created"), sum(fine."ran"), sum(fine."testsPassed"), sum(fine."delivered"), sum(fine."deliveredUntested"), sum(fine."implausible")
  FROM (
    SELECT f."createdDay" AS "day", f."kind", f."repoAlias", f."pool", f."model",
           count(*) FILTER (WHERE NOT f."implausible") AS "created",
           count(*) FILTER (WHERE NOT f."implausible" AND f."ran") AS "ran",
           count(*) FILTER (WHERE NOT f."implausible" AND f."testsPassed") AS "testsPassed",
           count(*) FILTER (WHERE NOT f."implausible" AND f."delivered") AS "delivered",
           count(*) FILTER (WHERE NOT f."implausible" AND f."delivered" AND NOT f."testsPassed") AS "deliveredUntested",
           count(*) FILTER (WHERE f."implausible") AS "implausible"
    FROM analytics_rebuild_facts AS f
    GROUP BY 1, 2, 3, 4, 5
  ) AS fine
  GROUP BY fine."day", CUBE(fine."kind", fine."repoAlias", fine."pool", fine."model");

  WITH fine AS (
    SELECT f."finishedDay" AS "day", f."kind", f."repoAlias", f."pool",
           count(*) FILTER (WHERE NOT f."implausible") AS "finished",
           count(*) FILTER (WHERE NOT f."implausible" AND f."status" = 'SUCCEEDED') AS "succeeded",
           count(*) FILTER (WHERE NOT f."implausible" AND f."status" = 'FAILED') AS "failed",
           count(*) FILTER (WHERE NOT f."implausible" AND f."status" = 'CANCELLED') AS "cancelled",
           count(*) FILTER (WHERE NOT f."implausible" AND f."delivered") AS "delivered",
           count(*) FILTER (WHERE NOT f."implausible" AND f."testsPassed") AS "testsPassed",
           count(*) FILTER (WHERE f."implausible") AS "implausible",
           count(*) FILTER (WHERE NOT f."implausible" AND f."hasModelUsage") AS "jobsWithModelUsage",
           count(*) FILTER (WHERE NOT f."implausible" AND f."usedFallback") AS "jobsWithFallback",
           COALESCE(sum(f."linesAdded") FILTER (WHERE NOT f."implausible" AND f."delivered"), 0) AS "linesAdded",
           COALESCE(sum(f."linesRemoved") FILTER (WHERE NOT f."implausible" AND f."delivered"), 0) AS "linesRemoved",
           COALESCE(sum(f."filesChanged") FILTER (WHERE NOT f."implausible" AND f."delivered"), 0) AS "filesChanged"
    FROM analytics_rebuild_facts AS f
    WHERE f."terminal"
    GROUP BY 1, 2, 3, 4
  ),
  counts AS (
    SELECT p."period", p."start", GROUPING(fine."kind", fine."repoAlias", fine."pool") AS "grain",
           COALESCE(fine."kind", '*') AS "kind", COALESCE(fine."repoAlias", '*') AS "repoAlias", COALESCE(fine."pool", '*') AS "pool",
           sum(fine."finished") AS "finished", sum(fine."succeeded") AS "succeeded", sum(fine."failed") AS "failed", sum(fine."cancelled") AS "cancelled",
           sum(fine."delivered") AS "delivered", sum(fine."testsPassed") AS "testsPassed", sum(fine."implausible") AS "implausible",
           sum(fine."jobsWithModelUsage") AS "jobsWithModelUsage", sum(fine."jobsWithFallback") AS "jobsWithFallback",
           sum(fine."linesAdded") AS "linesAdded", sum(fine."linesRemoved") AS "linesRemoved", sum(fine."filesChanged") AS "filesChanged"
    FROM fine CROSS JOIN LATERAL (VALUES ('day', fine."day"), ('month', date_trunc('month', fine."day")::date)) AS p("period", "start")
    GROUP BY p."period", p."start", CUBE(fine."kind", fine."repoAlias", fine."pool")
  )
  INSERT INTO "AnalyticsOutcomeRollup" ("tenantId", "grain", "kind", "repoAlias", "pool", "period", "start", "finished", "succeeded", "failed", "cancelled",
    "delivered", "testsPassed", "implausible", "jobsWithModelUsage", "jobsWithFallback", "linesAdded", "linesRemoved", "filesChanged")
  SELECT p_tenant, c."grain", c."kind", c."repoAlias", c."pool", c."period", c."start", c."finished", c."succeeded", c."failed", c."cancelled",
         c."delivered", c."testsPassed", c."implausible", c."jobsWithModelUsage", c."jobsWithFallback", c."linesAdded", c."linesRemoved", c."filesChanged"
  FROM counts AS c;

  -- Per repository and per pool straight from the jobs' keys, for all from the pools' counts,
  -- then days into months: one pass each (a cube of the keys would be as large as the jobs).
  WITH by_repo AS (
    SELECT f."finishedDay" AS "day", f."repoAlias", k.key, count(*) AS n
    FROM analytics_rebuild_facts AS f, unnest(f."histogramKeys") AS k(key)
    WHERE f."terminal" AND NOT f."implausible" AND f."kind" = 'FIX'
    GROUP BY 1, 2, 3
  ),
  by_pool AS (
    SELECT f."finishedDay" AS "day", f."pool", k.key, count(*) AS n
    FROM analytics_rebuild_facts AS f, unnest(f."histogramKeys") AS k(key)
    WHERE f."terminal" AND NOT f."implausible" AND f."kind" = 'FIX'
    GROUP BY 1, 2, 3
  ),
  counted AS (
    SELECT 1 AS "grain", r."repoAlias", '*' AS "pool", r."day", r.key, r.n FROM by_repo AS r
    UNION ALL SELECT 2, '*', p."pool", p."day", p.key, p.n FROM by_pool AS p
    UNION ALL SELECT 3, '*', '*', p."day", p.key, sum(p.n) FROM by_pool AS p GROUP BY p."day", p.key
  )
  INSERT INTO "AnalyticsDurationRollup" ("tenantId", "grain", "repoAlias", "pool", "period", "start", "histogram")
  SELECT p_tenant, c."grain", c."repoAlias", c."pool", 'day', c."day", jsonb_object_agg(c.key, c.n)
  FROM counted AS c
  GROUP BY c."grain", c."repoAlias", c."pool", c."day"
  UNION ALL
  SELECT p_tenant, m."grain", m."repoAlias", m."pool", 'month', m."month", jsonb_object_agg(m.key, m.n)
  FROM (
    SELECT c."grain", c."repoAlias", c."pool", date_trunc('month', c."day")::date AS "month", c.key, sum(c.n) AS n
    FROM counted AS c
    GROUP BY 1, 2, 3, 4, 5
  ) AS m
  GROUP BY m."grain", m."repoAlias", m."pool", m."month";

  INSERT INTO "AnalyticsTokenRollup" ("tenantId", "grain", "kind", "repoAlias", "pool", "day", "endpoint", "model", "jobs", "requests", "promptTokens", "completionTokens")
  SELECT p_tenant, GROUPING(fine."kind", fine."repoAlias", fine."pool"),
         COALESCE(fine."kind", '*'), COALESCE(fine."repoAlias", '*'), COALESCE(fine."pool", '*'), fine."day", fine."endpoint", fine."model",
         sum(fine."jobs"), sum(fine."requests"), sum(fine."promptTokens"), sum(fine."completionTokens")
  FROM (
    SELECT f."finishedDay" AS "day", f."kind", f."repoAlias", f."pool", u."endpoint", u."model",
           count(*) AS "jobs", sum(u."requests") AS "requests", sum(u."promptTokens") AS "promptTokens", sum(u."completionTokens") AS "completionTokens"
    FROM analytics_rebuild_facts AS f,
         jsonb_to_recordset(f."usage") AS u("endpoint" TEXT, "model" TEXT, "requests" BIGINT, "promptTokens" BIGINT, "completionTokens" BIGINT)
    WHERE f."terminal" AND NOT f."implausible"
    GROUP BY 1, 2, 3, 4, 5, 6
  ) AS fine
  GROUP BY fine."day", fine."endpoint", fine."model", CUBE(fine."kind", fine."repoAlias", fine."pool");

  INSERT INTO "AnalyticsPolicyRollup" ("tenantId", "grain", "kind", "repoAlias", "pool", "day", "rule", "level", "outcome", "decisions", "jobs", "ruleJobs")
  SELECT p_tenant, GROUPING(fine."kind", fine."repoAlias", fine."pool"),
         COALESCE(fine."kind", '*'), COALESCE(fine."repoAlias", '*'), COALESCE(fine."pool", '*'), fine."day", fine."rule", fine."level", fine."outcome",
         sum(fine."decisions"), sum(fine."jobs"), sum(fine."ruleJobs")
  FROM (
    SELECT f."finishedDay" AS "day", f."kind", f."repoAlias", f."pool", d."rule", d."level", d."outcome",
           sum(d."count") AS "decisions", count(*) AS "jobs", count(*) FILTER (WHERE d."firstOfRule") AS "ruleJobs"
    FROM analytics_rebuild_facts AS f,
         jsonb_to_recordset(f."decisions") AS d("rule" TEXT, "level" TEXT, "outcome" TEXT, "count" INTEGER, "firstOfRule" BOOLEAN)
    WHERE f."terminal" AND NOT f."implausible"
    GROUP BY 1, 2, 3, 4, 5, 6, 7
  ) AS fine
  GROUP BY fine."day", fine."rule", fine."level", fine."outcome", CUBE(fine."kind", fine."repoAlias", fine."pool");

  INSERT INTO "AnalyticsFleetRollup" ("tenantId", "pool", "day", "busyMs", "onlineSlotMs")
  SELECT p_tenant, COALESCE(s."pool", '*'), s."day", sum(s."ms"), 0
  FROM (
    SELECT a."pool", DATE '1970-01-01' + d.n::int AS "day",
           LEAST(a."untilMs", (d.n + 1) * 86400000) - GREATEST(a."fromMs", d.n * 86400000) AS "ms"
    FROM analytics_rebuild_attempts AS a,
         generate_series(a."fromMs" / 86400000, (a."untilMs" - 1) / 86400000) AS d(n)
    WHERE a."untilMs" > a."fromMs"
  ) AS s
  GROUP BY s."day", ROLLUP(s."pool")
  ON CONFLICT ("tenantId", "pool", "day") DO UPDATE SET "busyMs" = "AnalyticsFleetRollup"."busyMs" + EXCLUDED."busyMs";
END;
$$;

-- The jobs already recorded.
DO $$
BEGIN
  PERFORM analytics_rebuild_tenant("id") FROM "Tenant";
END;
$$;
