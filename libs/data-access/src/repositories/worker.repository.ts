import type { WorkerStatus } from '@prisma/client';
import type { DatabaseClient } from '../database-client';
import { toBytesColumn } from './bytes';

/** What the gateway needs to authenticate a worker's Hello. */
export interface WorkerIdentity {
  readonly id: string;
  readonly tenantId: string;
  readonly publicKey: Buffer;
}

/** A worker as operators see it. */
export interface WorkerSummary {
  readonly id: string;
  readonly name: string | null;
  readonly status: WorkerStatus;
  readonly version: string;
  readonly capacity: number;
  readonly lastSeenAt: Date | null;
  readonly enrolledAt: Date;
  /** Results it reported with figures that cannot be true, and when the last one came. */
  readonly implausibleResults: number;
  readonly lastImplausibleAt: Date | null;
}

/** Where a worker stands with its tenant's central policy. */
export interface WorkerPolicyState {
  readonly id: string;
  readonly name: string | null;
  readonly status: WorkerStatus;
  readonly labels: readonly string[];
  /** The revision in force on the worker (0: none). */
  readonly appliedRevision: number;
  /** When it acknowledged applying it; null when only its Hello said so. */
  readonly appliedAt: Date | null;
  /** Rule ids its local policy keeps stricter than the bundle. */
  readonly narrowedRules: readonly string[];
  readonly lastRefusal: { readonly revision: number; readonly failureCode: string; readonly at: Date } | null;
}

/** Enrolled workers and their connection state. */
export class WorkerRepository {
  constructor(private readonly db: DatabaseClient) {}

  /** Looks a worker up by the id it claims in Hello; its tenant comes from the row. */
  async findIdentity(workerId: string): Promise<WorkerIdentity | null> {
    const worker = await this.db.worker.findUnique({ where: { id: workerId }, select: { id: true, tenantId: true, publicKey: true } });
    return worker ? { id: worker.id, tenantId: worker.tenantId, publicKey: Buffer.from(worker.publicKey) } : null;
  }

  /**
   * Records a Hello: the worker is online, with its labels and the policy revision it says
   * is in force. When that revision differs from the one recorded (an ack this control
   * plane never saw, or a worker that lost its bundle), when it was applied and what it
   * narrowed are no longer known and are cleared until the next ack.
   */
  async markOnline(
    workerId: string,
    hello: { version: string; capacity: number; localPolicyDigest: Buffer; labels: readonly string[]; policyRevision: number; now: Date },
  ): Promise<void> {
    await this.db.$transaction(async (tx) => {
      const before = await tx.worker.findUniqueOrThrow({ where: { id: workerId }, select: { policyRevision: true } });
      await tx.worker.update({
        where: { id: workerId },
        data: {
          status: 'ONLINE',
          version: hello.version,
          capacity: hello.capacity,
          localPolicyDigest: toBytesColumn(hello.localPolicyDigest),
          labels: [...hello.labels],
          lastSeenAt: hello.now,
          ...(before.policyRevision === hello.policyRevision ? {} : { policyRevision: hello.policyRevision, policyAppliedAt: null, narrowedRules: [] }),
        },
      });
    });
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
    await this.db.worker.updateMany({ where: { id: workerId }, data: { status: 'OFFLINE', lastSeenAt: now } });
  }

  async touch(workerId: string, now: Date): Promise<void> {
    await this.db.worker.updateMany({ where: { id: workerId }, data: { lastSeenAt: now } });
  }

  /** Marks every worker offline: at start no stream is open, whatever the last run left. */
  async markAllOffline(): Promise<void> {
    await this.db.worker.updateMany({ where: { status: 'ONLINE' }, data: { status: 'OFFLINE' } });
  }

  async listForTenant(tenantId: string): Promise<WorkerSummary[]> {
    return this.db.worker.findMany({
      where: { tenantId },
      orderBy: { enrolledAt: 'asc' },
      select: { id: true, name: true, status: true, version: true, capacity: true, lastSeenAt: true, enrolledAt: true, implausibleResults: true, lastImplausibleAt: true },
    });
  }
}
