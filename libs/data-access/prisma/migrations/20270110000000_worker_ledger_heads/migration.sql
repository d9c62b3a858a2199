-- The head of each worker's egress audit log, as its heartbeats report it (docs/security.md,
-- "Ledger heads"): the last line's number and chain hash. The latest is kept on the worker;
-- one every few minutes is kept as a checkpoint, which the customer checks their local log
-- against (`airlock-worker audit verify --against`).
ALTER TABLE "Worker" ADD COLUMN "ledgerSeq" BIGINT;
ALTER TABLE "Worker" ADD COLUMN "ledgerHead" BYTEA;
ALTER TABLE "Worker" ADD COLUMN "ledgerHeadAt" TIMESTAMPTZ(3);
ALTER TABLE "Worker" ADD CONSTRAINT "Worker_ledgerHead_shape" CHECK (
    ("ledgerSeq" IS NULL AND "ledgerHead" IS NULL AND "ledgerHeadAt" IS NULL)
    OR ("ledgerSeq" > 0 AND octet_length("ledgerHead") = 32 AND "ledgerHeadAt" IS NOT NULL)
);

CREATE TABLE "WorkerLedgerHead" (
    "workerId" UUID NOT NULL,
    "seq" BIGINT NOT NULL,
    "head" BYTEA NOT NULL,
    "receivedAt" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "WorkerLedgerHead_pkey" PRIMARY KEY ("workerId", "seq"),
    CONSTRAINT "WorkerLedgerHead_shape" CHECK ("seq" > 0 AND octet_length("head") = 32)
);
ALTER TABLE "WorkerLedgerHead" ADD CONSTRAINT "WorkerLedgerHead_workerId_fkey" FOREIGN KEY ("workerId") REFERENCES "Worker"("id") ON DELETE CASCADE ON UPDATE CASCADE;
