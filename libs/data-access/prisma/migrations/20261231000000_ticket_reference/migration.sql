-- A fix job may name its ticket by reference ("<tracker>:<key>") instead of carrying its text:
-- the worker reads it from the customer's tracker. The reference is held only until the job
-- ends; what is kept after is the worker's digest of it.
ALTER TABLE "Job" ADD COLUMN "ticketByReference" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN "ticketRef" TEXT,
ADD COLUMN "ticketRefMac" TEXT;
