-- A re-run delivers to the branch and merge request of the first job of its chain, and its
-- generation orders it after every job before it in that chain.
ALTER TABLE "Job" ADD COLUMN "deliveryJobId" UUID,
ADD COLUMN "deliveryGeneration" INTEGER NOT NULL DEFAULT 0;

-- Retries made before this migration: the first job of each chain, then the chain's jobs
-- numbered in the order they were created.
WITH RECURSIVE chain AS (
  SELECT "id", "id" AS "root", 0 AS "depth" FROM "Job" WHERE "retryOfJobId" IS NULL
  UNION ALL
  SELECT "Job"."id", chain."root", chain."depth" + 1 FROM "Job" JOIN chain ON "Job"."retryOfJobId" = chain."id"
)
UPDATE "Job" SET "deliveryJobId" = chain."root" FROM chain WHERE "Job"."id" = chain."id" AND chain."depth" > 0;

UPDATE "Job" SET "deliveryGeneration" = numbered."generation"
FROM (SELECT "id", ROW_NUMBER() OVER (PARTITION BY "deliveryJobId" ORDER BY "createdAt", "id") AS "generation" FROM "Job" WHERE "deliveryJobId" IS NOT NULL) AS numbered
WHERE "Job"."id" = numbered."id";
