-- The dashboard's job list filters a tenant's jobs by repository or by status, newest first.
CREATE INDEX "Job_tenantId_repoAlias_createdAt_idx" ON "Job"("tenantId", "repoAlias", "createdAt");
CREATE INDEX "Job_tenantId_status_createdAt_idx" ON "Job"("tenantId", "status", "createdAt");
