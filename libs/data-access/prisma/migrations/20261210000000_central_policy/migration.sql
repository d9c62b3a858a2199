-- CreateEnum
CREATE TYPE "PolicyScope" AS ENUM ('TENANT', 'POOL', 'REPOSITORY');

-- CreateEnum
CREATE TYPE "PolicyMode" AS ENUM ('ENFORCE', 'SHADOW');

-- CreateEnum
CREATE TYPE "PolicyRevisionChange" AS ENUM ('PUBLISHED', 'WITHDRAWN');

-- AlterTable
ALTER TABLE "Tenant" ADD COLUMN     "policyRevision" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "Worker" ADD COLUMN     "labels" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "narrowedRules" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "policyAppliedAt" TIMESTAMPTZ(3),
ADD COLUMN     "policyRefusalCode" TEXT,
ADD COLUMN     "policyRefusedAt" TIMESTAMPTZ(3),
ADD COLUMN     "policyRefusedRevision" INTEGER,
ADD COLUMN     "policyRevision" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "Policy" (
    "id" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Policy_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PolicyVersion" (
    "id" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "policyId" UUID NOT NULL,
    "number" INTEGER NOT NULL,
    "document" JSONB NOT NULL,
    "comment" TEXT,
    "authorTokenId" UUID NOT NULL,
    "authorName" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PolicyVersion_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PolicyLayer" (
    "tenantId" UUID NOT NULL,
    "scope" "PolicyScope" NOT NULL,
    "key" TEXT NOT NULL,
    "mode" "PolicyMode" NOT NULL,
    "versionId" UUID NOT NULL,
    "revision" INTEGER NOT NULL,
    "publishedAt" TIMESTAMPTZ(3) NOT NULL,
    "publishedByTokenId" UUID NOT NULL,
    "publishedByName" TEXT NOT NULL,

    CONSTRAINT "PolicyLayer_pkey" PRIMARY KEY ("tenantId","scope","key","mode")
);

-- CreateTable
CREATE TABLE "PolicyRevision" (
    "tenantId" UUID NOT NULL,
    "revision" INTEGER NOT NULL,
    "change" "PolicyRevisionChange" NOT NULL,
    "scope" "PolicyScope" NOT NULL,
    "key" TEXT NOT NULL,
    "mode" "PolicyMode" NOT NULL,
    "versionId" UUID NOT NULL,
    "layers" JSONB NOT NULL,
    "actorTokenId" UUID NOT NULL,
    "actorName" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "PolicyRevision_pkey" PRIMARY KEY ("tenantId","revision")
);

-- CreateTable
CREATE TABLE "PolicyDecision" (
    "id" BIGSERIAL NOT NULL,
    "tenantId" UUID NOT NULL,
    "jobId" UUID NOT NULL,
    "attempt" INTEGER NOT NULL,
    "rule" TEXT NOT NULL,
    "level" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "revision" INTEGER NOT NULL,
    "shadowRevision" INTEGER NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "PolicyDecision_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AdminAuditEntry" (
    "tenantId" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "actorTokenId" UUID NOT NULL,
    "actorName" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "target" TEXT NOT NULL,
    "details" JSONB NOT NULL,
    "sourceIp" TEXT,
    "prevHash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "AdminAuditEntry_pkey" PRIMARY KEY ("tenantId","seq")
);

-- CreateIndex
CREATE UNIQUE INDEX "Policy_tenantId_name_key" ON "Policy"("tenantId", "name");

-- CreateIndex
CREATE INDEX "PolicyVersion_tenantId_idx" ON "PolicyVersion"("tenantId");

-- CreateIndex
CREATE UNIQUE INDEX "PolicyVersion_policyId_number_key" ON "PolicyVersion"("policyId", "number");

-- CreateIndex
CREATE INDEX "PolicyLayer_versionId_idx" ON "PolicyLayer"("versionId");

-- CreateIndex
CREATE INDEX "PolicyDecision_tenantId_id_idx" ON "PolicyDecision"("tenantId", "id");

-- CreateIndex
CREATE INDEX "PolicyDecision_tenantId_rule_id_idx" ON "PolicyDecision"("tenantId", "rule", "id");

-- CreateIndex
CREATE INDEX "PolicyDecision_jobId_idx" ON "PolicyDecision"("jobId");

-- AddForeignKey
ALTER TABLE "Policy" ADD CONSTRAINT "Policy_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PolicyVersion" ADD CONSTRAINT "PolicyVersion_policyId_fkey" FOREIGN KEY ("policyId") REFERENCES "Policy"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PolicyLayer" ADD CONSTRAINT "PolicyLayer_versionId_fkey" FOREIGN KEY ("versionId") REFERENCES "PolicyVersion"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PolicyRevision" ADD CONSTRAINT "PolicyRevision_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PolicyRevision" ADD CONSTRAINT "PolicyRevision_versionId_fkey" FOREIGN KEY ("versionId") REFERENCES "PolicyVersion"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PolicyDecision" ADD CONSTRAINT "PolicyDecision_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AdminAuditEntry" ADD CONSTRAINT "AdminAuditEntry_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;


-- The admin audit log is append-only: nothing, not even the control plane's own role,
-- may rewrite or remove an entry. Verification recomputes the hash chain; these triggers
-- keep an honest database from ever needing it.
CREATE FUNCTION "airlock_refuse_audit_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'AdminAuditEntry is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER "AdminAuditEntry_append_only"
BEFORE UPDATE OR DELETE ON "AdminAuditEntry"
FOR EACH ROW EXECUTE FUNCTION "airlock_refuse_audit_change"();

CREATE TRIGGER "AdminAuditEntry_no_truncate"
BEFORE TRUNCATE ON "AdminAuditEntry"
FOR EACH STATEMENT EXECUTE FUNCTION "airlock_refuse_audit_change"();

-- A policy version is immutable once written: bundles, revisions and decisions point at it.
CREATE FUNCTION "airlock_refuse_policy_version_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'PolicyVersion is immutable: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER "PolicyVersion_immutable"
BEFORE UPDATE OR DELETE ON "PolicyVersion"
FOR EACH ROW EXECUTE FUNCTION "airlock_refuse_policy_version_change"();
