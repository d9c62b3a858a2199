-- Review jobs (a merge request reviewed by the model, its comments posted on the forge) and index
-- jobs (a repository's context index built at a ref ahead of fix jobs). A review names its merge
-- request by number or by branch; an index job keeps its ref in "baseRef". Analytics reads a
-- tenant's finished reviews by kind and finish time.
ALTER TYPE "JobKind" ADD VALUE 'REVIEW';
ALTER TYPE "JobKind" ADD VALUE 'INDEX';

ALTER TABLE "Job" ADD COLUMN "reviewBranch" TEXT,
ADD COLUMN "reviewMergeRequest" INTEGER;

CREATE INDEX "Job_tenantId_kind_finishedAt_idx" ON "Job"("tenantId", "kind", "finishedAt");
