import type { ApiTokenRole } from '@prisma/client';
import type { DatabaseClient } from '../database-client';

/** What an authenticated API token grants. */
export interface ApiTokenPrincipal {
  readonly tokenId: string;
  /** The token's name, as the audit log records who acted. */
  readonly name: string;
  readonly tenantId: string;
  readonly role: ApiTokenRole;
}

// lastUsedAt is informational; refreshing it at most once a minute keeps reads from
// turning every API request into a write.
const LAST_USED_RESOLUTION_MS = 60_000;

/** API tokens for automation. Only the SHA-256 of a token is stored. */
export class ApiTokenRepository {
  constructor(private readonly db: DatabaseClient) {}

  async create(input: { tenantId: string; name: string; role: ApiTokenRole; tokenHash: string }): Promise<{ id: string }> {
    return this.db.apiToken.create({ data: input, select: { id: true } });
  }

  /** Whether the tenant holds any API token at all (the bootstrap token is made only when it holds none). */
  async anyForTenant(tenantId: string): Promise<boolean> {
    return (await this.db.apiToken.findFirst({ where: { tenantId }, select: { id: true } })) !== null;
  }

  /** Looks a token up by its hash and records its use. */
  async authenticate(tokenHash: string, now: Date): Promise<ApiTokenPrincipal | null> {
    const token = await this.db.apiToken.findUnique({ where: { tokenHash }, select: { id: true, name: true, tenantId: true, role: true } });
    if (!token) return null;
    await this.db.apiToken.updateMany({
      where: { id: token.id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(now.getTime() - LAST_USED_RESOLUTION_MS) } }] },
      data: { lastUsedAt: now },
    });
    return { tokenId: token.id, name: token.name, tenantId: token.tenantId, role: token.role };
  }
}
