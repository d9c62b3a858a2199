import type { DatabaseClient } from '../database-client';

/** What an authenticated API token grants. */
export interface ApiTokenGrant {
  readonly tokenId: string;
  /** The token's name, as the audit log records who acted. */
  readonly name: string;
  readonly tenantId: string;
  /** The scopes it was created with (auth/access.ts in the control plane names them). */
  readonly scopes: readonly string[];
}

// lastUsedAt is informational; refreshing it at most once a minute keeps reads from
// turning every API request into a write.
const LAST_USED_RESOLUTION_MS = 60_000;

/** API tokens for automation. Only the SHA-256 of a token is stored. */
export class ApiTokenRepository {
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
    const token = await this.db.apiToken.findUnique({
      where: { tokenHash },
      select: { id: true, name: true, tenantId: true, scopes: true, expiresAt: true, revokedAt: true },
    });
    if (!token || token.revokedAt || (token.expiresAt && token.expiresAt.getTime() <= now.getTime())) return null;
    await this.db.apiToken.updateMany({
      where: { id: token.id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(now.getTime() - LAST_USED_RESOLUTION_MS) } }] },
      data: { lastUsedAt: now },
    });
    return { tokenId: token.id, name: token.name, tenantId: token.tenantId, scopes: token.scopes };
  }
}
