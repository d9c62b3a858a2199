-- Rotating the instruction-signing key (docs/operations/key-rotation.md): a key is STAGED
-- (published for workers to pin, signing nothing), then ACTIVE (it signs), then RETIRED.
-- "activatedAt" says when a key began to sign; the state follows from the two dates.
ALTER TABLE "SigningKey" ADD COLUMN "activatedAt" TIMESTAMPTZ(3);

-- Until now the newest key not retired signed and any older one signed nothing: the newest
-- becomes the ACTIVE key, since it was created, and older ones (none was ever made by the
-- control plane itself) are retired now, so that at most one key is ACTIVE.
UPDATE "SigningKey" SET "activatedAt" = "createdAt" WHERE "retiredAt" IS NULL;
UPDATE "SigningKey" SET "retiredAt" = CURRENT_TIMESTAMP(3)
WHERE "retiredAt" IS NULL
  AND "keyId" <> (SELECT "keyId" FROM "SigningKey" WHERE "retiredAt" IS NULL ORDER BY "createdAt" DESC, "keyId" DESC LIMIT 1);

-- A retired key had been active: only a key that signed is retired (a staged one is not).
UPDATE "SigningKey" SET "activatedAt" = LEAST("createdAt", "retiredAt") WHERE "activatedAt" IS NULL AND "retiredAt" IS NOT NULL;
ALTER TABLE "SigningKey" ADD CONSTRAINT "SigningKey_retired_after_active" CHECK ("retiredAt" IS NULL OR "activatedAt" IS NOT NULL);

-- Every replica signs with the one ACTIVE key, and a rotation stages one key at a time.
CREATE UNIQUE INDEX "SigningKey_one_active" ON "SigningKey" ((true)) WHERE "activatedAt" IS NOT NULL AND "retiredAt" IS NULL;
CREATE UNIQUE INDEX "SigningKey_one_staged" ON "SigningKey" ((true)) WHERE "activatedAt" IS NULL AND "retiredAt" IS NULL;
