-- People log in to the dashboard; API tokens carry scopes and expire; admins revoke and drain
-- workers and give enrollment tokens a pool. Actor columns name a user or a token.

CREATE TYPE "Role" AS ENUM ('ADMIN', 'MANAGER', 'VIEWER');

CREATE TABLE "User" (
    "id" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "displayName" TEXT NOT NULL,
    "role" "Role" NOT NULL,
    "passwordHash" TEXT,
    "oidcIssuer" TEXT,
    "oidcSubject" TEXT,
    "failedLogins" INTEGER NOT NULL DEFAULT 0,
    "lockedUntil" TIMESTAMPTZ(3),
    "lastLoginAt" TIMESTAMPTZ(3),
    "disabledAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
CREATE UNIQUE INDEX "User_oidcIssuer_oidcSubject_key" ON "User"("oidcIssuer", "oidcSubject");
CREATE INDEX "User_tenantId_idx" ON "User"("tenantId");
ALTER TABLE "User" ADD CONSTRAINT "User_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

CREATE TABLE "UserSession" (
    "id" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL,
    "lastSeenAt" TIMESTAMPTZ(3) NOT NULL,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,
    "revokedAt" TIMESTAMPTZ(3),
    "sourceIp" TEXT,
    "userAgent" TEXT,
    CONSTRAINT "UserSession_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "UserSession_tokenHash_key" ON "UserSession"("tokenHash");
CREATE INDEX "UserSession_userId_idx" ON "UserSession"("userId");
CREATE INDEX "UserSession_tenantId_idx" ON "UserSession"("tenantId");
ALTER TABLE "UserSession" ADD CONSTRAINT "UserSession_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "UserSession" ADD CONSTRAINT "UserSession_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- A token's role becomes the scopes that role grants (the same table as auth/access.ts).
ALTER TABLE "ApiToken" ADD COLUMN "scopes" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[];
UPDATE "ApiToken" SET "scopes" = CASE "role"
    WHEN 'ADMIN' THEN ARRAY['jobs:read','jobs:write','analytics:read','analytics:write','fleet:read','fleet:write','policy:read','policy:write','audit:read','people:read','people:write']
    WHEN 'MANAGER' THEN ARRAY['jobs:read','jobs:write','analytics:read','analytics:write','fleet:read','policy:read']
    ELSE ARRAY['jobs:read','analytics:read','fleet:read','policy:read']
END;
ALTER TABLE "ApiToken" ALTER COLUMN "scopes" DROP DEFAULT;
ALTER TABLE "ApiToken" DROP COLUMN "role";
DROP TYPE "ApiTokenRole";
ALTER TABLE "ApiToken" ADD COLUMN "expiresAt" TIMESTAMPTZ(3);
ALTER TABLE "ApiToken" ADD COLUMN "revokedAt" TIMESTAMPTZ(3);
ALTER TABLE "ApiToken" ADD COLUMN "createdById" UUID;
ALTER TABLE "ApiToken" ADD COLUMN "createdByName" TEXT;

ALTER TABLE "EnrollmentToken" ADD COLUMN "pool" TEXT;
ALTER TABLE "EnrollmentToken" ADD COLUMN "revokedAt" TIMESTAMPTZ(3);
ALTER TABLE "EnrollmentToken" ADD COLUMN "createdById" UUID;
ALTER TABLE "EnrollmentToken" ADD COLUMN "createdByName" TEXT;

ALTER TABLE "Worker" ADD COLUMN "pool" TEXT;
ALTER TABLE "Worker" ADD COLUMN "drainingAt" TIMESTAMPTZ(3);
ALTER TABLE "Worker" ADD COLUMN "revokedAt" TIMESTAMPTZ(3);

-- Renames fire no row trigger, so the append-only audit log and immutable versions allow them.
ALTER TABLE "PolicyVersion" RENAME COLUMN "authorTokenId" TO "authorId";
ALTER TABLE "PolicyLayer" RENAME COLUMN "publishedByTokenId" TO "publishedById";
ALTER TABLE "PolicyRevision" RENAME COLUMN "actorTokenId" TO "actorId";
ALTER TABLE "AdminAuditEntry" RENAME COLUMN "actorTokenId" TO "actorId";
ALTER TABLE "AdminAuditEntry" ADD COLUMN "actorKind" TEXT NOT NULL DEFAULT 'API_TOKEN';

-- A retried job is a new job that names the one it retries.
ALTER TABLE "Job" ADD COLUMN "retryOfJobId" UUID;
