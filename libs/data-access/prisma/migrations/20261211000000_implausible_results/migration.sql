-- Results whose figures no worker could have measured are recorded as such, and counted per worker.
ALTER TABLE "Job" ADD COLUMN "resultImplausible" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[];
ALTER TABLE "Worker" ADD COLUMN "implausibleResults" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "Worker" ADD COLUMN "lastImplausibleAt" TIMESTAMPTZ(3);
