import type { Prisma } from '@prisma/client';
import type { DatabaseClient } from '../database-client';
import { appendAuditEntry, lockTenantAdminActions, type AuditActor } from './admin-audit.repository';

/** What an authenticated API token grants. */
export interface ApiTokenGrant {
  readonly tokenId: string;
  /** The token's name, as the audit log records who acted. */
  readonly name: string;
  readonly tenantId: string;
  /** The scopes it was created with (auth/access.ts in the control plane names them). */
  readonly scopes: readonly string[];
}

/** An API token as the people pages list it. Never the token or its hash. */
export interface ApiTokenView {
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly string[];
  readonly createdAt: Date;
  /** Null only for the bootstrap token; every created token expires. */
  readonly expiresAt: Date | null;
  readonly revokedAt: Date | null;
  readonly lastUsedAt: Date | null;
  /** Who created it, by name then; null for the bootstrap token. */
  readonly createdByName: string | null;
}

const VIEW_SELECT = {
  id: true,
  name: true,
  scopes: true,
  createdAt: true,
  expiresAt: true,
  revokedAt: true,
  lastUsedAt: true,
  createdByName: true,
} as const satisfies Prisma.ApiTokenSelect;

// lastUsedAt is informational; refreshing it at most once a minute keeps reads from
// turning every API request into a write.
const LAST_USED_RESOLUTION_MS = 60_000;
const MAX_TOKENS_REMEMBERED = 10_000;

const TOKEN_SELECT = { id: true, name: true, tenantId: true, scopes: true, expiresAt: true, revokedAt: true } as const satisfies Prisma.ApiTokenSelect;
type TokenRow = Prisma.ApiTokenGetPayload<{ select: typeof TOKEN_SELECT }>;

/** API tokens for automation. Only the SHA-256 of a token is stored. */
export class ApiTokenRepository {
  /** When this process last refreshed each token's lastUsedAt, so a busy token is not written on every request. */
  private readonly lastUsedRefreshedAt = new Map<string, number>();
  /** Lookups of a token in flight, by its hash: the requests that arrive meanwhile share the one query. */
  private readonly lookups = new Map<string, Promise<TokenRow | null>>();

  constructor(private readonly db: DatabaseClient) {}

  async create(input: {
    tenantId: string;
    name: string;
    scopes: readonly string[];
    tokenHash: string;
    expiresAt?: Date | null;
    createdById?: string | null;
    createdByName?: string | null;
  }): Promise<{ id: string }> {
    return this.db.apiToken.create({ data: { ...input, scopes: [...input.scopes] }, select: { id: true } });
  }

  /** Whether the tenant holds any API token at all (the bootstrap token is made only when it holds none). */
  async anyForTenant(tenantId: string): Promise<boolean> {
    return (await this.db.apiToken.findFirst({ where: { tenantId }, select: { id: true } })) !== null;
  }

  /** Looks a live (unrevoked, unexpired) token up by its hash and records its use. */
  async authenticate(tokenHash: string, now: Date): Promise<ApiTokenGrant | null> {
    const token = await this.lookup(tokenHash);
    if (!token || token.revokedAt || (token.expiresAt && token.expiresAt.getTime() <= now.getTime())) return null;
    if (this.lastUsedRefreshDue(token.id, now)) {
      await this.db.apiToken.updateMany({
        where: { id: token.id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(now.getTime() - LAST_USED_RESOLUTION_MS) } }] },
        data: { lastUsedAt: now },
      });
    }
    return { tokenId: token.id, name: token.name, tenantId: token.tenantId, scopes: token.scopes };
  }

  /**
   * The token's row, read once for all the requests that present it while the read is in
   * flight: an automation sending many requests at once costs one query, not one each. A
   * request that joins a read started just before it sees the row as of then, as if it had
   * arrived a query's time earlier; the next request after the read reads again, so a
   * revocation is seen from then on.
   */
  private lookup(tokenHash: string): Promise<TokenRow | null> {
    let pending = this.lookups.get(tokenHash);
    if (!pending) {
      pending = this.db.apiToken.findUnique({ where: { tokenHash }, select: TOKEN_SELECT }).finally(() => this.lookups.delete(tokenHash));
      this.lookups.set(tokenHash, pending);
    }
    return pending;
  }

  /** Whether this process should write the token's lastUsedAt now (it did not within the resolution), noting that it does. */
  private lastUsedRefreshDue(tokenId: string, now: Date): boolean {
    const refreshedAt = this.lastUsedRefreshedAt.get(tokenId);
    if (refreshedAt !== undefined && now.getTime() - refreshedAt < LAST_USED_RESOLUTION_MS) return false;
    // Bounded: tokens are few, but a long run could see many come and go.
    if (this.lastUsedRefreshedAt.size >= MAX_TOKENS_REMEMBERED) this.lastUsedRefreshedAt.clear();
    this.lastUsedRefreshedAt.set(tokenId, now.getTime());
    return true;
  }

  /** The tenant's tokens, newest first, at most `limit`, revoked and expired ones included. */
  async list(tenantId: string, limit: number): Promise<ApiTokenView[]> {
    return this.db.apiToken.findMany({ where: { tenantId }, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }], take: limit, select: VIEW_SELECT });
  }

  /**
   * Creates a token a principal asked for, recording who (`actor`) by id and name, and its
   * audit entry api-token.created (id, name, scopes, expiry; never the token) in the same
   * transaction.
   */
  async createAudited(input: { tenantId: string; name: string; scopes: readonly string[]; tokenHash: string; expiresAt: Date; actor: AuditActor; now: Date }): Promise<ApiTokenView> {
    const { tenantId, actor, now } = input;
    return this.db.$transaction(async (tx) => {
      await lockTenantAdminActions(tx, tenantId);
      const token = await tx.apiToken.create({
        data: {
          tenantId,
          name: input.name,
          scopes: [...input.scopes],
          tokenHash: input.tokenHash,
          createdAt: now,
          expiresAt: input.expiresAt,
          createdById: actor.id,
          createdByName: actor.name,
        },
        select: VIEW_SELECT,
      });
      await appendAuditEntry(
        tx,
        tenantId,
        actor,
        {
          action: 'api-token.created',
          target: `api-token:${token.id}`,
          details: { name: token.name, scopes: token.scopes.join(','), expiresAt: input.expiresAt.toISOString() },
        },
        now,
      );
      return token;
    });
  }

  /**
   * Revokes a token of the tenant, audited as api-token.revoked. Null when the tenant has no
   * such token; revoking a revoked token changes nothing and writes no entry.
   */
  async revokeAudited(input: { tenantId: string; tokenId: string; actor: AuditActor; now: Date }): Promise<ApiTokenView | null> {
    const { tenantId, tokenId, actor, now } = input;
    return this.db.$transaction(async (tx) => {
      await lockTenantAdminActions(tx, tenantId);
      const token = await tx.apiToken.findFirst({ where: { id: tokenId, tenantId }, select: VIEW_SELECT });
      if (!token || token.revokedAt) return token;
      const revoked = await tx.apiToken.update({ where: { id: tokenId }, data: { revokedAt: now }, select: VIEW_SELECT });
      await appendAuditEntry(
        tx,
        tenantId,
        actor,
        {
          action: 'api-token.revoked',
          target: `api-token:${tokenId}`,
          details: { name: revoked.name, scopes: revoked.scopes.join(','), expiresAt: revoked.expiresAt?.toISOString() ?? null },
        },
        now,
      );
      return revoked;
    });
  }
}
