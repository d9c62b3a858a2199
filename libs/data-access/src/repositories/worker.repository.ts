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
}

/** Enrolled workers and their connection state. */
export class WorkerRepository {
  constructor(private readonly db: DatabaseClient) {}

  /** Looks a worker up by the id it claims in Hello; its tenant comes from the row. */
  async findIdentity(workerId: string): Promise<WorkerIdentity | null> {
    const worker = await this.db.worker.findUnique({ where: { id: workerId }, select: { id: true, tenantId: true, publicKey: true } });
    return worker ? { id: worker.id, tenantId: worker.tenantId, publicKey: Buffer.from(worker.publicKey) } : null;
  }

  async markOnline(workerId: string, hello: { version: string; capacity: number; localPolicyDigest: Buffer; now: Date }): Promise<void> {
    await this.db.worker.update({
      where: { id: workerId },
      data: {
        status: 'ONLINE',
        version: hello.version,
        capacity: hello.capacity,
        localPolicyDigest: toBytesColumn(hello.localPolicyDigest),
        lastSeenAt: hello.now,
      },
    });
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
      select: { id: true, name: true, status: true, version: true, capacity: true, lastSeenAt: true, enrolledAt: true },
    });
  }
}
