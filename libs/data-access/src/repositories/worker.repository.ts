import type { AttemptStatus, PolicyMode, PolicyScope, WorkerStatus } from '@prisma/client';
import type { DatabaseClient, DatabaseTransaction } from '../database-client';
import { appendAuditEntry, lockTenantAdminActions, type AuditActor } from './admin-audit.repository';
import { closeAllWorkerSessions, closeWorkerSessions, openWorkerSessions } from './analytics-rollup';

/** What the gateway needs to authenticate a worker's Hello. */
export interface WorkerIdentity {
  readonly id: string;
  readonly tenantId: string;
  readonly publicKey: Buffer;
  /** An admin revoked it: its Hello is refused, whatever it signs. */
  readonly revoked: boolean;
}

/**
 * Where a worker stands, as the gateway reads it at each Hello, heartbeat and result: taking
 * work, draining (keeps what it runs, is given nothing new) or revoked (refused from now on).
 */
export type WorkerStanding = 'ACTIVE' | 'DRAINING' | 'REVOKED';

/** What a Hello says of the worker, as `markOnline` records it. */
export interface HelloRecord {
  readonly version: string;
  readonly capacity: number;
  readonly localPolicyDigest: Buffer;
  readonly labels: readonly string[];
  readonly policyRevision: number;
  readonly now: Date;
}

/** What a Hello did: the worker is online (with its enrolled pool and whether it drains), or it is revoked and nothing changed. */
export type WorkerConnection = { readonly kind: 'ONLINE'; readonly pool: string | null; readonly draining: boolean } | { readonly kind: 'REVOKED' };

/** A worker as operators see it. */
export interface WorkerSummary {
  readonly id: string;
  readonly name: string | null;
  readonly status: WorkerStatus;
  readonly version: string;
  readonly capacity: number;
  /** The pools of its last Hello, as its config names them. */
  readonly labels: readonly string[];
  /** The pool its enrollment token named; null when none. */
  readonly pool: string | null;
  /** Since when it drains (given nothing new), or null. */
  readonly drainingAt: Date | null;
  /** When an admin revoked it, or null. */
  readonly revokedAt: Date | null;
  /** Attempts DISPATCHED or RUNNING on it. */
  readonly activeAttempts: number;
  readonly lastSeenAt: Date | null;
  readonly enrolledAt: Date;
  /** SHA-256 of its local policy from its last Hello, lowercase hex; null before its first Hello. */
  readonly localPolicyDigest: string | null;
  /** The central policy revision in force on it (0: none), and when it acknowledged applying it. */
  readonly policyRevision: number;
  readonly policyAppliedAt: Date | null;
  /** Rule ids its local policy keeps stricter than that revision. */
  readonly narrowedRules: readonly string[];
  /** Results it reported with figures that cannot be true, and when the last one came. */
  readonly implausibleResults: number;
  readonly lastImplausibleAt: Date | null;
}

/** A layer of the central policy revision a worker applied, with the policy's name. */
export interface AppliedPolicyLayer {
  readonly scope: PolicyScope;
  /** '' for TENANT, the pool for POOL, the repository alias for REPOSITORY. */
  readonly key: string;
  readonly mode: PolicyMode;
  readonly policyId: string;
  /** The policy's name; null if the policy is no longer found. */
  readonly policyName: string | null;
  readonly version: number;
}

/** A worker with what its trust view is built from. */
export interface WorkerDetail extends WorkerSummary {
  /** The MetadataLevel name (METADATA_LEVEL_…) of the last result it reported that was recorded, or null. */
  readonly lastResultMetadataLevel: string | null;
  /** Every layer in force after the revision it applied (none for revision 0). */
  readonly appliedRevisionLayers: readonly AppliedPolicyLayer[];
}

/** What revoking did; null from the repository when the tenant has no such worker. */
export type WorkerRevocation = { readonly kind: 'REVOKED'; readonly revokedAt: Date } | { readonly kind: 'ALREADY_REVOKED'; readonly revokedAt: Date };

/** What draining or undraining did; null from the repository when the tenant has no such worker. */
export type WorkerDrainChange = { readonly kind: 'CHANGED' | 'UNCHANGED' } | { readonly kind: 'REVOKED' };

/** An attempt whose lease ended with its worker's revocation. */
export interface EndedLease {
  readonly jobId: string;
  readonly attempt: number;
}

const ACTIVE_ATTEMPT_STATUSES: AttemptStatus[] = ['DISPATCHED', 'RUNNING'];
/** A worker id as the database stores it; anything else names no worker (and PostgreSQL would refuse to compare it). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Attempt statuses only a recorded result sets (JobRepository.recordResult). */
const RESULT_ATTEMPT_STATUSES: AttemptStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

const SUMMARY_SELECT = {
  id: true,
  name: true,
  status: true,
  version: true,
  capacity: true,
  labels: true,
  pool: true,
  drainingAt: true,
  revokedAt: true,
  lastSeenAt: true,
  enrolledAt: true,
  localPolicyDigest: true,
  policyRevision: true,
  policyAppliedAt: true,
  narrowedRules: true,
  implausibleResults: true,
  lastImplausibleAt: true,
} as const;

interface LockedWorker {
  readonly policyRevision: number;
  readonly pool: string | null;
  readonly drainingAt: Date | null;
  readonly revokedAt: Date | null;
}

/** Where a worker stands with its tenant's central policy. */
export interface WorkerPolicyState {
  readonly id: string;
  readonly name: string | null;
  readonly status: WorkerStatus;
  readonly labels: readonly string[];
  /** The pool its enrollment token named (null: none); its pool layers reach it like those of its labels. */
  readonly pool: string | null;
  /** The revision in force on the worker (0: none). */
  readonly appliedRevision: number;
  /** When it acknowledged applying it; null when only its Hello said so. */
  readonly appliedAt: Date | null;
  /** Rule ids its local policy keeps stricter than the bundle. */
  readonly narrowedRules: readonly string[];
  readonly lastRefusal: { readonly revision: number; readonly failureCode: string; readonly at: Date } | null;
}

/** Enrolled workers and their connection state. */
/** The head of a worker's egress audit log, as one of its heartbeats reported it. */
export interface LedgerHeadReport {
  readonly workerId: string;
  /** The number of the last line written; a new line only ever raises it. */
  readonly seq: number;
  /** That line's chain hash (32 bytes). */
  readonly head: Buffer;
}

/**
 * What the control plane made of a reported head, against the latest one it holds:
 * RECORDED (it moved forward), UNCHANGED (the same head again), REGRESSED (a lower line
 * number: the log was cut back or replaced), FORKED (the same number with another hash: the
 * line was rewritten), UNKNOWN (no such worker, or a malformed report). REGRESSED and FORKED
 * are kept out: the head held stays the last consistent one.
 */
export type LedgerHeadVerdict = 'RECORDED' | 'UNCHANGED' | 'REGRESSED' | 'FORKED' | 'UNKNOWN';

/** One checkpoint of a worker's ledger head: what the control plane received, and when. */
export interface LedgerCheckpoint {
  readonly seq: number;
  readonly head: Buffer;
  readonly receivedAt: Date;
}

export class WorkerRepository {
  constructor(private readonly db: DatabaseClient) {}

  /** Looks a worker up by the id it claims in Hello; its tenant comes from the row. */
  async findIdentity(workerId: string): Promise<WorkerIdentity | null> {
    const [identity] = await this.findIdentities([workerId]);
    return identity ?? null;
  }

  /** `findIdentity` for many ids in one query: an answer for each id, in order (null: no such worker). */
  async findIdentities(workerIds: readonly string[]): Promise<(WorkerIdentity | null)[]> {
    const ids = distinctWorkerIds(workerIds);
    const rows = ids.length === 0 ? [] : await this.db.worker.findMany({ where: { id: { in: ids } }, select: { id: true, tenantId: true, publicKey: true, revokedAt: true } });
    const found = new Map(rows.map((row) => [row.id, { id: row.id, tenantId: row.tenantId, publicKey: Buffer.from(row.publicKey), revoked: row.revokedAt !== null }]));
    return workerIds.map((id) => found.get(id) ?? null);
  }

  /**
   * Records a Hello: the worker is online, with its labels and the policy revision it says
   * is in force. When that revision differs from the one recorded (an ack this control
   * plane never saw, or a worker that lost its bundle), when it was applied and what it
   * narrowed are no longer known and are cleared until the next ack. A revoked worker is
   * left as it is (REVOKED): the row is locked first, so a revocation committing meanwhile
   * is seen.
   */
  async markOnline(workerId: string, hello: HelloRecord): Promise<WorkerConnection> {
    const [connection] = await this.markOnlineMany([{ workerId, ...hello }]);
    return connection!;
  }

  /**
   * `markOnline` for many Hellos in one transaction of a fixed number of statements: an
   * answer for each, in order. A worker named more than once is recorded as its last Hello
   * says, as if they had been recorded one after another, and each gets the same answer. An
   * id that names no worker is answered REVOKED, as an unknown worker is.
   */
  async markOnlineMany(hellos: readonly (HelloRecord & { readonly workerId: string })[]): Promise<WorkerConnection[]> {
    const latest = new Map(hellos.filter((hello) => UUID.test(hello.workerId)).map((hello) => [hello.workerId, hello]));
    const recorded = [...latest.values()].sort((a, b) => (a.workerId < b.workerId ? -1 : 1));
    const online =
      recorded.length === 0
        ? new Map<string, WorkerConnection>()
        : await this.db.$transaction(async (tx) => {
            const ids = recorded.map((hello) => hello.workerId);
            // In id order, as every statement that locks several workers does, so that batches
            // of several replicas cannot deadlock; a revocation committing meanwhile is seen.
            await tx.$queryRaw`SELECT 1 FROM "Worker" WHERE "id" = ANY(${ids}::uuid[]) ORDER BY "id" FOR UPDATE`;
            const rows = await tx.$queryRaw<{ id: string; pool: string | null; draining: boolean }[]>`
              UPDATE "Worker" AS w SET
                "status" = 'ONLINE',
                "version" = v."version",
                "capacity" = v."capacity",
                "localPolicyDigest" = decode(v."digest", 'hex'),
                "labels" = ARRAY(SELECT jsonb_array_elements_text(v."labels")),
                "lastSeenAt" = v."now",
                "policyRevision" = v."revision",
                "policyAppliedAt" = CASE WHEN w."policyRevision" = v."revision" THEN w."policyAppliedAt" END,
                "narrowedRules" = CASE WHEN w."policyRevision" = v."revision" THEN w."narrowedRules" ELSE '{}'::text[] END
              FROM unnest(
                ${ids}::uuid[],
                ${recorded.map((hello) => hello.version)}::text[],
                ${recorded.map((hello) => hello.capacity)}::int[],
                ${recorded.map((hello) => hello.localPolicyDigest.toString('hex'))}::text[],
                ${recorded.map((hello) => JSON.stringify(hello.labels))}::jsonb[],
                ${recorded.map((hello) => hello.policyRevision)}::int[],
                ${recorded.map((hello) => hello.now.toISOString())}::timestamptz[]
              ) AS v("id", "version", "capacity", "digest", "labels", "revision", "now")
              WHERE w."id" = v."id" AND w."revokedAt" IS NULL
              RETURNING w."id"::text AS "id", w."pool", w."drainingAt" IS NOT NULL AS "draining"`;
            // Fleet utilisation counts the slots each brings from now on (analytics).
            await openWorkerSessions(
              tx,
              rows.map((row) => ({ workerId: row.id, at: latest.get(row.id)!.now })),
            );
            return new Map<string, WorkerConnection>(rows.map((row) => [row.id, { kind: 'ONLINE', pool: row.pool, draining: row.draining }]));
          });
    return hellos.map((hello) => online.get(hello.workerId) ?? { kind: 'REVOKED' });
  }

  /**
   * The worker applied a bundle. Recorded only when it moves the worker forward (or confirms
   * the revision its Hello reported) and names a revision its tenant has reached: a late
   * ack of an older bundle changes nothing.
   */
  async recordPolicyApplied(workerId: string, ack: { revision: number; narrowedRules: readonly string[]; now: Date }): Promise<boolean> {
    const updated = await this.db.$executeRaw`
      UPDATE "Worker" AS w
      SET "policyRevision" = ${ack.revision}, "policyAppliedAt" = ${ack.now}, "narrowedRules" = ${[...ack.narrowedRules]}::text[]
      FROM "Tenant" AS t
      WHERE w."id" = ${workerId}::uuid AND t."id" = w."tenantId"
        AND ${ack.revision} <= t."policyRevision"
        AND (${ack.revision} > w."policyRevision" OR (${ack.revision} = w."policyRevision" AND w."policyAppliedAt" IS NULL))`;
    return updated === 1;
  }

  /** The worker refused a bundle: the revision in force stays, the refusal is kept as the last one. */
  async recordPolicyRefused(workerId: string, refusal: { revision: number; failureCode: string; now: Date }): Promise<void> {
    await this.db.worker.updateMany({
      where: { id: workerId },
      data: { policyRefusedRevision: refusal.revision, policyRefusalCode: refusal.failureCode, policyRefusedAt: refusal.now },
    });
  }

  /** Every worker of the tenant with its policy state, oldest enrollment first. */
  async listPolicyStates(tenantId: string): Promise<WorkerPolicyState[]> {
    const workers = await this.db.worker.findMany({
      where: { tenantId },
      orderBy: { enrolledAt: 'asc' },
      select: {
        id: true,
        name: true,
        status: true,
        labels: true,
        pool: true,
        policyRevision: true,
        policyAppliedAt: true,
        narrowedRules: true,
        policyRefusedRevision: true,
        policyRefusalCode: true,
        policyRefusedAt: true,
      },
    });
    return workers.map((worker) => ({
      id: worker.id,
      name: worker.name,
      status: worker.status,
      labels: worker.labels,
      pool: worker.pool,
      appliedRevision: worker.policyRevision,
      appliedAt: worker.policyAppliedAt,
      narrowedRules: worker.narrowedRules,
      lastRefusal:
        worker.policyRefusedRevision !== null && worker.policyRefusalCode !== null && worker.policyRefusedAt !== null
          ? { revision: worker.policyRefusedRevision, failureCode: worker.policyRefusalCode, at: worker.policyRefusedAt }
          : null,
    }));
  }

  async markOffline(workerId: string, now: Date): Promise<void> {
    await this.db.$transaction(async (tx) => {
      await tx.worker.updateMany({ where: { id: workerId }, data: { status: 'OFFLINE', lastSeenAt: now } });
      // Its online slot time of this connection goes into fleet utilisation (analytics).
      await closeWorkerSessions(tx, [{ workerId, at: now }]);
    });
  }

  /**
   * Records that the worker was heard from (a heartbeat, a result) unless it is revoked, and
   * says where it stands: how a stream learns of a revocation or a drain decided elsewhere
   * (another replica, or while the stream was being opened).
   */
  async touch(workerId: string, now: Date): Promise<WorkerStanding> {
    const [standing] = await this.touchMany([workerId], now);
    return standing!;
  }

  /**
   * `touch` for many workers in one statement: each is heard from at `now`, and the answer
   * is each one's standing, in order (an id named twice is answered twice; an unknown one
   * REVOKED).
   */
  async touchMany(workerIds: readonly string[], now: Date): Promise<WorkerStanding[]> {
    const ids = distinctWorkerIds(workerIds);
    // ONLINE too: a stream whose worker paused past the staleness sweep is online again once heard from.
    // Locked in id order first, as markOnlineMany locks, so that the two cannot deadlock.
    const touched =
      ids.length === 0
        ? []
        : await this.db.$queryRaw<{ id: string; draining: boolean }[]>`
            WITH locked AS (SELECT "id" FROM "Worker" WHERE "id" = ANY(${ids}::uuid[]) AND "revokedAt" IS NULL ORDER BY "id" FOR UPDATE)
            UPDATE "Worker" AS w SET "lastSeenAt" = ${now}::timestamptz, "status" = 'ONLINE'
            FROM locked WHERE w."id" = locked."id" AND w."revokedAt" IS NULL
            RETURNING w."id"::text AS "id", w."drainingAt" IS NOT NULL AS "draining"`;
    const draining = new Map(touched.map((row) => [row.id, row.draining]));
    return workerIds.map((id) => standingOf(draining.get(id)));
  }

  /**
   * Records the egress-log heads that heartbeats reported, many workers in one transaction:
   * each worker's latest head, and a checkpoint (WorkerLedgerHead) when its last checkpoint
   * is at least `checkpointEveryMs` old. A head is judged against the latest one held
   * (see LedgerHeadVerdict); a worker named twice in a batch has its reports judged in order.
   */
  async recordLedgerHeads(reports: readonly LedgerHeadReport[], now: Date, checkpointEveryMs: number): Promise<LedgerHeadVerdict[]> {
    const ids = distinctWorkerIds(reports.map((report) => report.workerId));
    if (ids.length === 0) return reports.map(() => 'UNKNOWN');
    return this.db.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<{ id: string; ledgerSeq: bigint | null; ledgerHead: Uint8Array | null; checkpointAt: Date | null }[]>`
        SELECT w."id"::text AS "id", w."ledgerSeq", w."ledgerHead",
               (SELECT c."receivedAt" FROM "WorkerLedgerHead" c WHERE c."workerId" = w."id" ORDER BY c."seq" DESC LIMIT 1) AS "checkpointAt"
        FROM "Worker" w WHERE w."id" = ANY(${ids}::uuid[]) ORDER BY w."id" FOR UPDATE OF w`;
      const held = new Map<string, { seq: number; head: Buffer | null; checkpointAt: Date | null }>(
        rows.map((row) => [row.id, { seq: row.ledgerSeq === null ? 0 : Number(row.ledgerSeq), head: row.ledgerHead === null ? null : Buffer.from(row.ledgerHead), checkpointAt: row.checkpointAt }]),
      );
      // The newest head of each worker that moved forward, and those due a checkpoint.
      const moved = new Map<string, LedgerHeadReport>();
      const checkpoints = new Map<string, LedgerHeadReport>();
      const verdicts = reports.map((report): LedgerHeadVerdict => {
        const current = held.get(report.workerId);
        if (current === undefined || !isLedgerReport(report)) return 'UNKNOWN';
        if (report.seq < current.seq) return 'REGRESSED';
        if (report.seq === current.seq) return current.head !== null && current.head.equals(report.head) ? 'UNCHANGED' : 'FORKED';
        const checkpointDue = current.checkpointAt === null || now.getTime() - current.checkpointAt.getTime() >= checkpointEveryMs;
        if (checkpointDue) checkpoints.set(report.workerId, report);
        moved.set(report.workerId, report);
        held.set(report.workerId, { seq: report.seq, head: report.head, checkpointAt: checkpointDue ? now : current.checkpointAt });
        return 'RECORDED';
      });
      const latest = [...moved.values()];
      if (latest.length > 0) {
        await tx.$executeRaw`
          UPDATE "Worker" AS w SET "ledgerSeq" = m.seq, "ledgerHead" = m.head, "ledgerHeadAt" = ${now}::timestamptz
          FROM unnest(${latest.map((report) => report.workerId)}::uuid[], ${latest.map((report) => BigInt(report.seq))}::bigint[], ${latest.map((report) => report.head)}::bytea[]) AS m(id, seq, head)
          WHERE w."id" = m.id`;
      }
      const due = [...checkpoints.values()];
      if (due.length > 0) {
        await tx.$executeRaw`
          INSERT INTO "WorkerLedgerHead" ("workerId", "seq", "head", "receivedAt")
          SELECT c.id, c.seq, c.head, ${now}::timestamptz
          FROM unnest(${due.map((report) => report.workerId)}::uuid[], ${due.map((report) => BigInt(report.seq))}::bigint[], ${due.map((report) => report.head)}::bytea[]) AS c(id, seq, head)
          ON CONFLICT DO NOTHING`;
      }
      return verdicts;
    });
  }

  /**
   * A worker's ledger checkpoints (oldest first, at most `limit` of the newest) and its latest
   * head, for the customer to verify their local log against. Null when the tenant has no such worker.
   */
  async ledgerHeads(tenantId: string, workerId: string, limit: number): Promise<{ readonly latest: LedgerCheckpoint | null; readonly checkpoints: LedgerCheckpoint[] } | null> {
    if (!UUID.test(workerId)) return null;
    const worker = await this.db.worker.findFirst({ where: { id: workerId, tenantId }, select: { ledgerSeq: true, ledgerHead: true, ledgerHeadAt: true } });
    if (worker === null) return null;
    const rows = await this.db.workerLedgerHead.findMany({ where: { workerId }, orderBy: { seq: 'desc' }, take: limit });
    const latest = worker.ledgerSeq !== null && worker.ledgerHead !== null && worker.ledgerHeadAt !== null ? { seq: Number(worker.ledgerSeq), head: Buffer.from(worker.ledgerHead), receivedAt: worker.ledgerHeadAt } : null;
    return { latest, checkpoints: rows.reverse().map((row) => ({ seq: Number(row.seq), head: Buffer.from(row.head), receivedAt: row.receivedAt })) };
  }

  /** Where the worker stands now (REVOKED for an unknown id), without recording anything. */
  async standing(workerId: string): Promise<WorkerStanding> {
    const [standing] = await this.standings([workerId]);
    return standing!;
  }

  /** `standing` for many workers in one query, in order. */
  async standings(workerIds: readonly string[]): Promise<WorkerStanding[]> {
    const ids = distinctWorkerIds(workerIds);
    const rows = ids.length === 0 ? [] : await this.db.worker.findMany({ where: { id: { in: ids }, revokedAt: null }, select: { id: true, drainingAt: true } });
    const draining = new Map(rows.map((row) => [row.id, row.drainingAt !== null]));
    return workerIds.map((id) => standingOf(draining.get(id)));
  }

  /**
   * Revokes a worker of the tenant, and appends `worker.revoked` to the audit log in the
   * same transaction. Final: nothing un-revokes. Revoking again changes nothing and is not
   * audited again (ALREADY_REVOKED, with the first revocation's time). Null when the tenant
   * has no such worker.
   */
  async revoke(input: { tenantId: string; workerId: string; actor: AuditActor; now: Date }): Promise<WorkerRevocation | null> {
    const { tenantId, workerId, actor, now } = input;
    return this.db.$transaction(async (tx) => {
      await lockTenantAdminActions(tx, tenantId);
      const worker = await lockWorker(tx, workerId, tenantId);
      if (!worker) return null;
      if (worker.revokedAt !== null) return { kind: 'ALREADY_REVOKED', revokedAt: worker.revokedAt };
      await tx.worker.update({ where: { id: workerId }, data: { revokedAt: now } });
      const liveAttempts = await tx.jobAttempt.count({ where: { workerId, status: { in: ACTIVE_ATTEMPT_STATUSES } } });
      await appendAuditEntry(tx, tenantId, actor, { action: 'worker.revoked', target: `worker:${workerId}`, details: { liveAttempts } }, now);
      return { kind: 'REVOKED', revokedAt: now };
    });
  }

  /**
   * Ends, as of now, the leases of every attempt still live on a revoked worker, and returns
   * them: each is then expired like any lease that ran out (JobRepository.expireLease), so
   * its job goes back to the queue at once instead of when the lease would have run out.
   * Nothing for a worker that is not revoked.
   */
  async endLeasesOfRevoked(workerId: string, now: Date): Promise<EndedLease[]> {
    // Just before now: expireLease takes a lease that ended before the time it is given.
    const ended = new Date(now.getTime() - 1);
    return this.db.jobAttempt.updateManyAndReturn({
      where: { workerId, status: { in: ACTIVE_ATTEMPT_STATUSES }, worker: { revokedAt: { not: null } } },
      data: { leaseExpiresAt: ended },
      select: { jobId: true, attempt: true },
    });
  }

  /**
   * Starts (`draining`) or ends a drain of a worker of the tenant and appends
   * `worker.drained` or `worker.undrained` to the audit log in the same transaction. Asking
   * for the state it is in changes nothing and is not audited (UNCHANGED); a revoked worker
   * cannot be drained or undrained (REVOKED). Null when the tenant has no such worker.
   */
  async setDraining(input: { tenantId: string; workerId: string; draining: boolean; actor: AuditActor; now: Date }): Promise<WorkerDrainChange | null> {
    const { tenantId, workerId, draining, actor, now } = input;
    return this.db.$transaction(async (tx) => {
      await lockTenantAdminActions(tx, tenantId);
      const worker = await lockWorker(tx, workerId, tenantId);
      if (!worker) return null;
      if (worker.revokedAt !== null) return { kind: 'REVOKED' };
      if ((worker.drainingAt !== null) === draining) return { kind: 'UNCHANGED' };
      await tx.worker.update({ where: { id: workerId }, data: { drainingAt: draining ? now : null } });
      await appendAuditEntry(tx, tenantId, actor, { action: draining ? 'worker.drained' : 'worker.undrained', target: `worker:${workerId}`, details: {} }, now);
      return { kind: 'CHANGED' };
    });
  }

  /**
   * Marks offline the workers marked online that no replica has heard from since `before`:
   * their stream was on a replica that died (its own close never ran). Each one's online time
   * is counted up to when it was last heard from. Returns how many; at most `limit` a call.
   */
  async markStaleOffline(before: Date, limit = 100): Promise<number> {
    return this.db.$transaction(async (tx) => {
      const stale = await tx.$queryRaw<{ id: string; lastSeenAt: Date }[]>`
        SELECT "id", "lastSeenAt" FROM "Worker"
        WHERE "status" = 'ONLINE' AND "lastSeenAt" < ${before}::timestamptz
        ORDER BY "id" LIMIT ${limit}
        FOR UPDATE SKIP LOCKED`;
      if (stale.length > 0) await tx.worker.updateMany({ where: { id: { in: stale.map((worker) => worker.id) } }, data: { status: 'OFFLINE' } });
      await closeWorkerSessions(tx, stale.map((worker) => ({ workerId: worker.id, at: worker.lastSeenAt })));
      return stale.length;
    });
  }

  /** Marks every worker offline: at start of the single process no stream is open, whatever the last run left. */
  async markAllOffline(): Promise<void> {
    await this.db.$transaction(async (tx) => {
      // Connections the last run never saw end are counted up to each worker's last heartbeat (analytics).
      await closeAllWorkerSessions(tx);
      await tx.worker.updateMany({ where: { status: 'ONLINE' }, data: { status: 'OFFLINE' } });
    });
  }

  /** The tenant's workers, oldest enrollment first, at most `limit`. */
  async listForTenant(tenantId: string, limit: number): Promise<WorkerSummary[]> {
    const workers = await this.db.worker.findMany({ where: { tenantId }, orderBy: [{ enrolledAt: 'asc' }, { id: 'asc' }], take: limit, select: SUMMARY_SELECT });
    const active = await this.activeAttemptCounts(tenantId, workers.map((worker) => worker.id));
    return workers.map((worker) => toSummary(worker, active.get(worker.id) ?? 0));
  }

  /** One worker of the tenant with what its trust view needs; null when the tenant has no such worker. */
  async findForTenant(tenantId: string, workerId: string): Promise<WorkerDetail | null> {
    const worker = await this.db.worker.findFirst({ where: { id: workerId, tenantId }, select: SUMMARY_SELECT });
    if (!worker) return null;
    const active = await this.activeAttemptCounts(tenantId, [worker.id]);
    const lastResult = await this.db.jobAttempt.findFirst({
      where: { tenantId, workerId, status: { in: RESULT_ATTEMPT_STATUSES } },
      orderBy: [{ finishedAt: 'desc' }, { id: 'desc' }],
      select: { job: { select: { result: true } } },
    });
    return {
      ...toSummary(worker, active.get(worker.id) ?? 0),
      lastResultMetadataLevel: metadataLevelOf(lastResult?.job.result),
      appliedRevisionLayers: await this.revisionLayers(tenantId, worker.policyRevision),
    };
  }

  private async activeAttemptCounts(tenantId: string, workerIds: readonly string[]): Promise<Map<string, number>> {
    if (workerIds.length === 0) return new Map();
    const groups = await this.db.jobAttempt.groupBy({
      by: ['workerId'],
      where: { tenantId, workerId: { in: [...workerIds] }, status: { in: ACTIVE_ATTEMPT_STATUSES } },
      _count: { _all: true },
    });
    return new Map(groups.map((group) => [group.workerId, group._count._all]));
  }

  /** The layers the tenant's PolicyRevision row of `revision` left in force, with their policies' names. */
  private async revisionLayers(tenantId: string, revision: number): Promise<AppliedPolicyLayer[]> {
    if (revision === 0) return [];
    const row = await this.db.policyRevision.findUnique({ where: { tenantId_revision: { tenantId, revision } }, select: { layers: true } });
    const layers = Array.isArray(row?.layers) ? row.layers.flatMap(toLayerRef) : [];
    const policies = await this.db.policy.findMany({ where: { tenantId, id: { in: [...new Set(layers.map((layer) => layer.policyId))] } }, select: { id: true, name: true } });
    const names = new Map(policies.map((policy) => [policy.id, policy.name]));
    return layers.map((layer) => ({ ...layer, policyName: names.get(layer.policyId) ?? null }));
  }
}

/**
 * Locks the worker row for the rest of the transaction (of the tenant, when given), so a
 * Hello and a revocation or drain of the same worker are decided one after the other.
 */
async function lockWorker(tx: DatabaseTransaction, workerId: string, tenantId?: string): Promise<LockedWorker | null> {
  const rows =
    tenantId === undefined
      ? await tx.$queryRaw<LockedWorker[]>`
          SELECT "policyRevision", "pool", "drainingAt", "revokedAt" FROM "Worker" WHERE "id" = ${workerId}::uuid FOR UPDATE`
      : await tx.$queryRaw<LockedWorker[]>`
          SELECT "policyRevision", "pool", "drainingAt", "revokedAt" FROM "Worker" WHERE "id" = ${workerId}::uuid AND "tenantId" = ${tenantId}::uuid FOR UPDATE`;
  return rows[0] ?? null;
}

/** The ids among `workerIds` that can name a worker, each once. */
function distinctWorkerIds(workerIds: readonly string[]): string[] {
  return [...new Set(workerIds.filter((id) => UUID.test(id)))];
}

/** The chain hash of a ledger line: SHA-256, 32 bytes. */
const LEDGER_HEAD_BYTES = 32;

function isLedgerReport(report: LedgerHeadReport): boolean {
  return UUID.test(report.workerId) && Number.isSafeInteger(report.seq) && report.seq > 0 && report.head.length === LEDGER_HEAD_BYTES;
}

/** A worker's standing from whether it drains; undefined: revoked, or no such worker. */
function standingOf(draining: boolean | undefined): WorkerStanding {
  if (draining === undefined) return 'REVOKED';
  return draining ? 'DRAINING' : 'ACTIVE';
}

type SummaryRow = Omit<WorkerSummary, 'localPolicyDigest' | 'activeAttempts'> & { readonly localPolicyDigest: Uint8Array | null };

function toSummary(row: SummaryRow, activeAttempts: number): WorkerSummary {
  return { ...row, localPolicyDigest: row.localPolicyDigest === null ? null : Buffer.from(row.localPolicyDigest).toString('hex'), activeAttempts };
}

/** The metadataLevel of a stored JobResultMetadata, when it names one (results before central policy do not). */
function metadataLevelOf(result: unknown): string | null {
  if (result === null || typeof result !== 'object' || Array.isArray(result)) return null;
  const level = (result as { metadataLevel?: unknown }).metadataLevel;
  return typeof level === 'string' ? level : null;
}

const SCOPES: readonly PolicyScope[] = ['TENANT', 'POOL', 'REPOSITORY'];
const MODES: readonly PolicyMode[] = ['ENFORCE', 'SHADOW'];

/** One entry of PolicyRevision.layers ({scope, key, mode, policyId, version}, as recordRevision writes it); nothing for an entry of another shape. */
function toLayerRef(entry: unknown): Omit<AppliedPolicyLayer, 'policyName'>[] {
  if (entry === null || typeof entry !== 'object') return [];
  const { scope, key, mode, policyId, version } = entry as Record<string, unknown>;
  const knownScope = SCOPES.find((known) => known === scope);
  const knownMode = MODES.find((known) => known === mode);
  if (!knownScope || !knownMode || typeof key !== 'string' || typeof policyId !== 'string' || typeof version !== 'number') return [];
  return [{ scope: knownScope, key, mode: knownMode, policyId, version }];
}
