import type { DatabaseClient } from '../database-client';
import { appendAuditEntry, lockTenantAdminActions, type AuditActor } from './admin-audit.repository';
import { toBytesColumn } from './bytes';

/** The identity a successful enrollment created. */
export interface EnrolledWorker {
  readonly workerId: string;
  readonly tenantId: string;
  /** The pool the token named, now the worker's; null when none. */
  readonly pool: string | null;
}

/** Where an enrollment token stands: usable, used by a worker, past its expiry, or revoked by an admin. */
export type EnrollmentTokenState = 'ACTIVE' | 'USED' | 'EXPIRED' | 'REVOKED';

/** An enrollment token as admins see it: never the token, never its hash. */
export interface EnrollmentTokenView {
  readonly id: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly pool: string | null;
  readonly state: EnrollmentTokenState;
  /** The worker it enrolled, once used. */
  readonly workerId: string | null;
  readonly usedAt: Date | null;
  readonly revokedAt: Date | null;
  /** Who created it, by name at the time; null for tokens created before that was recorded. */
  readonly createdByName: string | null;
}

/** What revoking a token did; null from the repository when the tenant has no such token. */
export type EnrollmentTokenRevocation =
  | { readonly kind: 'REVOKED' | 'ALREADY_REVOKED'; readonly token: EnrollmentTokenView }
  | { readonly kind: 'ALREADY_USED'; readonly token: EnrollmentTokenView };

const VIEW_SELECT = {
  id: true,
  createdAt: true,
  expiresAt: true,
  pool: true,
  workerId: true,
  usedAt: true,
  revokedAt: true,
  createdByName: true,
} as const;

type TokenRow = Omit<EnrollmentTokenView, 'state'>;

/** A used token stays USED whatever came after; a revoked one is REVOKED even once past its expiry. */
export function enrollmentTokenState(token: Pick<TokenRow, 'usedAt' | 'revokedAt' | 'expiresAt'>, now: Date): EnrollmentTokenState {
  if (token.usedAt !== null) return 'USED';
  if (token.revokedAt !== null) return 'REVOKED';
  return token.expiresAt.getTime() <= now.getTime() ? 'EXPIRED' : 'ACTIVE';
}

const toView = (row: TokenRow, now: Date): EnrollmentTokenView => ({ ...row, state: enrollmentTokenState(row, now) });

/** Thrown inside an enrollment's transaction to roll it back when the token was claimed or revoked meanwhile. */
class EnrollmentTokenAlreadyUsed extends Error {
  override readonly name = 'EnrollmentTokenAlreadyUsed';
}

/** One-time enrollment tokens and the enrollment that consumes them. */
export class EnrollmentRepository {
  constructor(private readonly db: DatabaseClient) {}

  async createToken(input: { tenantId: string; tokenHash: string; expiresAt: Date }): Promise<{ id: string; expiresAt: Date }> {
    return this.db.enrollmentToken.create({ data: input, select: { id: true, expiresAt: true } });
  }

  /**
   * Creates a token an admin asked for — naming the pool its worker joins, and who created
   * it — and its audit entry (the token's id, expiry and pool, never the token) in the same
   * transaction.
   */
  async createAuditedToken(input: {
    tenantId: string;
    tokenHash: string;
    expiresAt: Date;
    pool?: string | null;
    actor: AuditActor;
    now: Date;
  }): Promise<{ id: string; expiresAt: Date; pool: string | null }> {
    const { tenantId, tokenHash, expiresAt, actor, now } = input;
    const pool = input.pool ?? null;
    return this.db.$transaction(async (tx) => {
      await lockTenantAdminActions(tx, tenantId);
      const token = await tx.enrollmentToken.create({
        data: { tenantId, tokenHash, expiresAt, pool, createdAt: now, createdById: actor.id, createdByName: actor.name },
        select: { id: true, expiresAt: true, pool: true },
      });
      await appendAuditEntry(tx, tenantId, actor, { action: 'enrollment-token.created', target: `enrollment-token:${token.id}`, details: { expiresAt: expiresAt.toISOString(), pool } }, now);
      return token;
    });
  }

  /** The tenant's tokens, newest first, at most `limit`; `now` decides which have expired. */
  async listForTenant(tenantId: string, limit: number, now: Date): Promise<EnrollmentTokenView[]> {
    const rows = await this.db.enrollmentToken.findMany({ where: { tenantId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: limit, select: VIEW_SELECT });
    return rows.map((row) => toView(row, now));
  }

  /**
   * Revokes an unused token of the tenant, so it enrolls nothing, and appends
   * `enrollment-token.revoked` to the audit log in the same transaction. A token already
   * revoked is left as it is (ALREADY_REVOKED, not audited again); a used one cannot be
   * revoked (ALREADY_USED: revoke its worker instead). Null when the tenant has no such token.
   */
  async revokeAudited(input: { tenantId: string; tokenId: string; actor: AuditActor; now: Date }): Promise<EnrollmentTokenRevocation | null> {
    const { tenantId, tokenId, actor, now } = input;
    return this.db.$transaction(async (tx) => {
      await lockTenantAdminActions(tx, tenantId);
      // Conditional, so an enrollment claiming the token concurrently and this revocation cannot both win.
      const revoked = await tx.enrollmentToken.updateMany({ where: { id: tokenId, tenantId, usedAt: null, revokedAt: null }, data: { revokedAt: now } });
      const row = await tx.enrollmentToken.findFirst({ where: { id: tokenId, tenantId }, select: VIEW_SELECT });
      if (!row) return null;
      const token = toView(row, now);
      if (revoked.count === 1) {
        await appendAuditEntry(tx, tenantId, actor, { action: 'enrollment-token.revoked', target: `enrollment-token:${tokenId}`, details: { pool: row.pool } }, now);
        return { kind: 'REVOKED', token };
      }
      return { kind: row.usedAt !== null ? 'ALREADY_USED' : 'ALREADY_REVOKED', token };
    });
  }

  /**
   * Consumes an unused, unrevoked, unexpired token and creates the worker — in the token's
   * pool — in one transaction, so a token enrolls exactly one worker even under concurrent
   * use. Returns null when the token is unknown, used, revoked or expired (deliberately
   * indistinguishable to the caller).
   */
  async enroll(input: { tokenHash: string; publicKey: Buffer; version: string; now: Date }): Promise<EnrolledWorker | null> {
    try {
      return await this.db.$transaction(async (tx) => {
        const token = await tx.enrollmentToken.findUnique({ where: { tokenHash: input.tokenHash } });
        if (!token || token.usedAt || token.revokedAt || token.expiresAt.getTime() <= input.now.getTime()) return null;
        const worker = await tx.worker.create({
          data: { tenantId: token.tenantId, publicKey: toBytesColumn(input.publicKey), version: input.version, enrolledAt: input.now, pool: token.pool },
          select: { id: true, tenantId: true, pool: true },
        });
        const claimed = await tx.enrollmentToken.updateMany({
          where: { id: token.id, usedAt: null, revokedAt: null },
          data: { usedAt: input.now, workerId: worker.id },
        });
        // A concurrent enrollment won the token, or a revocation did: roll back the worker created here.
        if (claimed.count !== 1) throw new EnrollmentTokenAlreadyUsed();
        return { workerId: worker.id, tenantId: worker.tenantId, pool: worker.pool };
      });
    } catch (error) {
      if (error instanceof EnrollmentTokenAlreadyUsed) return null;
      throw error;
    }
  }
}
