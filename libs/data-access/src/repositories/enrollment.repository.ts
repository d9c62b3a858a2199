import type { DatabaseClient } from '../database-client';
import { appendAuditEntry, lockTenantAdminActions, type AuditActor } from './admin-audit.repository';
import { toBytesColumn } from './bytes';

/** The identity a successful enrollment created. */
export interface EnrolledWorker {
  readonly workerId: string;
  readonly tenantId: string;
}

class EnrollmentTokenAlreadyUsed extends Error {
  override readonly name = 'EnrollmentTokenAlreadyUsed';
}

/** One-time enrollment tokens and the enrollment that consumes them. */
export class EnrollmentRepository {
  constructor(private readonly db: DatabaseClient) {}

  async createToken(input: { tenantId: string; tokenHash: string; expiresAt: Date }): Promise<{ id: string; expiresAt: Date }> {
    return this.db.enrollmentToken.create({ data: input, select: { id: true, expiresAt: true } });
  }

  /** Creates a token an admin asked for, and its audit entry (the token's id and expiry, never the token) in the same transaction. */
  async createAuditedToken(input: { tenantId: string; tokenHash: string; expiresAt: Date; actor: AuditActor; now: Date }): Promise<{ id: string; expiresAt: Date }> {
    const { tenantId, tokenHash, expiresAt, actor, now } = input;
    return this.db.$transaction(async (tx) => {
      await lockTenantAdminActions(tx, tenantId);
      const token = await tx.enrollmentToken.create({ data: { tenantId, tokenHash, expiresAt, createdAt: now }, select: { id: true, expiresAt: true } });
      await appendAuditEntry(tx, tenantId, actor, { action: 'enrollment-token.created', target: `enrollment-token:${token.id}`, details: { expiresAt: expiresAt.toISOString() } }, now);
      return token;
    });
  }

  /**
   * Consumes an unused, unexpired token and creates the worker in one transaction, so a
   * token enrolls exactly one worker even under concurrent use. Returns null when the
   * token is unknown, used or expired (deliberately indistinguishable to the caller).
   */
  async enroll(input: { tokenHash: string; publicKey: Buffer; version: string; now: Date }): Promise<EnrolledWorker | null> {
    try {
      return await this.db.$transaction(async (tx) => {
        const token = await tx.enrollmentToken.findUnique({ where: { tokenHash: input.tokenHash } });
        if (!token || token.usedAt || token.expiresAt.getTime() <= input.now.getTime()) return null;
        const worker = await tx.worker.create({
          data: { tenantId: token.tenantId, publicKey: toBytesColumn(input.publicKey), version: input.version, enrolledAt: input.now },
          select: { id: true, tenantId: true },
        });
        const claimed = await tx.enrollmentToken.updateMany({
          where: { id: token.id, usedAt: null },
          data: { usedAt: input.now, workerId: worker.id },
        });
        // A concurrent enrollment won the token: roll back the worker created here.
        if (claimed.count !== 1) throw new EnrollmentTokenAlreadyUsed();
        return { workerId: worker.id, tenantId: worker.tenantId };
      });
    } catch (error) {
      if (error instanceof EnrollmentTokenAlreadyUsed) return null;
      throw error;
    }
  }
}
