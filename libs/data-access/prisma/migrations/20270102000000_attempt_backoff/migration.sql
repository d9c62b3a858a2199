-- A job whose attempt lost its lease is queued again, but not dispatched before "notBefore":
-- attempts back off (docs/scaling.md). Null: dispatchable now.
ALTER TABLE "Job" ADD COLUMN "notBefore" TIMESTAMPTZ(3);
