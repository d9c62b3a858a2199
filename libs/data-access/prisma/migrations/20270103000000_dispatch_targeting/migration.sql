-- Targeting and limits of dispatch (docs/scaling.md, "Pools, priorities and limits").
-- A job may name the worker pool that is to run it, and carries a priority (0-9, higher first).
ALTER TABLE "Job" ADD COLUMN "pool" TEXT;
ALTER TABLE "Job" ADD COLUMN "priority" INTEGER NOT NULL DEFAULT 5;
ALTER TABLE "Job" ADD CONSTRAINT "Job_priority_range" CHECK ("priority" BETWEEN 0 AND 9);

-- A claim takes a tenant's queued jobs of one pool, best priority first, oldest first among equals.
CREATE INDEX "Job_tenantId_status_pool_priority_createdAt_idx" ON "Job" ("tenantId", "status", "pool", "priority" DESC, "createdAt");

-- The most jobs of a tenant dispatched or running at once; null: no limit.
ALTER TABLE "Tenant" ADD COLUMN "maxRunningJobs" INTEGER;
ALTER TABLE "Tenant" ADD CONSTRAINT "Tenant_maxRunningJobs_positive" CHECK ("maxRunningJobs" IS NULL OR "maxRunningJobs" > 0);

-- The most jobs targeted at one pool of a tenant dispatched or running at once.
CREATE TABLE "PoolLimit" (
    "tenantId" UUID NOT NULL,
    "pool" TEXT NOT NULL,
    "maxRunningJobs" INTEGER NOT NULL,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "PoolLimit_pkey" PRIMARY KEY ("tenantId", "pool"),
    CONSTRAINT "PoolLimit_maxRunningJobs_positive" CHECK ("maxRunningJobs" > 0)
);
ALTER TABLE "PoolLimit" ADD CONSTRAINT "PoolLimit_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
