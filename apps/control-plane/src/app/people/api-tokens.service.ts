import { Inject, Injectable } from '@nestjs/common';
import { DataAccess, type ApiTokenView, type AuditActor } from '@airlock/data-access';
import { isScope, type Scope } from '../auth/access';
import type { Principal } from '../auth/principal';
import { API_TOKEN_PREFIX, generateSecretToken, hashSecretToken } from '../auth/secret-token';
import { CLOCK, type Clock } from '../common/clock';
import type { ApiTokenResponse, CreatedApiTokenResponse } from './api-token.dto';
import { ApiTokenNotFoundError } from './api-token-not-found.error';
import { ScopeNotHeldError } from './scope-not-held.error';

/** The most tokens one list answers, newest first. */
export const MAX_API_TOKENS_LISTED = 1_000;
const DAY_MS = 86_400_000;

/** API tokens for automation: scoped, expiring, revocable, shown once. */
@Injectable()
export class ApiTokensService {
  constructor(
    private readonly data: DataAccess,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async list(tenantId: string): Promise<ApiTokenResponse[]> {
    return (await this.data.apiTokens.list(tenantId, MAX_API_TOKENS_LISTED)).map(toApiTokenResponse);
  }

  /**
   * Creates a token holding `scopes`, each of which its creator must hold: a token never
   * grants more than the person or token that made it. Audited as api-token.created.
   */
  async create(principal: Principal, actor: AuditActor, input: { name: string; scopes: readonly Scope[]; expiresInDays: number }): Promise<CreatedApiTokenResponse> {
    const notHeld = input.scopes.filter((scope) => !principal.scopes.includes(scope));
    if (notHeld.length > 0) throw new ScopeNotHeldError(notHeld);
    const token = generateSecretToken(API_TOKEN_PREFIX);
    const now = this.clock.now();
    const created = await this.data.apiTokens.createAudited({
      tenantId: principal.tenantId,
      name: input.name,
      scopes: input.scopes,
      tokenHash: hashSecretToken(token),
      expiresAt: new Date(now.getTime() + input.expiresInDays * DAY_MS),
      actor,
      now,
    });
    return { ...toApiTokenResponse(created), token };
  }

  /** Revokes a token of the tenant at once; audited as api-token.revoked. Revoking it again changes nothing. */
  async revoke(tenantId: string, actor: AuditActor, tokenId: string): Promise<ApiTokenResponse> {
    const revoked = await this.data.apiTokens.revokeAudited({ tenantId, tokenId, actor, now: this.clock.now() });
    if (!revoked) throw new ApiTokenNotFoundError(tokenId);
    return toApiTokenResponse(revoked);
  }
}

function toApiTokenResponse(token: ApiTokenView): ApiTokenResponse {
  return {
    id: token.id,
    name: token.name,
    scopes: token.scopes.filter(isScope),
    createdAt: token.createdAt,
    expiresAt: token.expiresAt,
    revokedAt: token.revokedAt,
    lastUsedAt: token.lastUsedAt,
    createdByName: token.createdByName,
  };
}
