-- What became of a delivered change's merge request, as a worker of its chain last reported it:
-- one row per re-run chain, keyed by the chain's first job.
CREATE TABLE "DeliveryOutcome" (
    "deliveryJobId" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "workerId" UUID NOT NULL,
    "state" TEXT NOT NULL,
    "humanCommits" INTEGER NOT NULL,
    "reverted" BOOLEAN NOT NULL,
    "firstReviewAfterS" INTEGER NOT NULL,
    "reviewRounds" INTEGER NOT NULL,
    "mergedAfterS" INTEGER NOT NULL,
    "final" BOOLEAN NOT NULL,
    "metadataLevel" TEXT NOT NULL,
    "firstReportedAt" TIMESTAMPTZ(3) NOT NULL,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "DeliveryOutcome_pkey" PRIMARY KEY ("deliveryJobId")
);
CREATE INDEX "DeliveryOutcome_tenantId_idx" ON "DeliveryOutcome"("tenantId");
ALTER TABLE "DeliveryOutcome" ADD CONSTRAINT "DeliveryOutcome_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "DeliveryOutcome" ADD CONSTRAINT "DeliveryOutcome_deliveryJobId_fkey" FOREIGN KEY ("deliveryJobId") REFERENCES "Job"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "DeliveryOutcome" ADD CONSTRAINT "DeliveryOutcome_workerId_fkey" FOREIGN KEY ("workerId") REFERENCES "Worker"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
