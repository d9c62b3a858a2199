import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DataAccess } from '@airlock/data-access';
import { CLOCK, type Clock } from '../common/clock';
import { isScope, type Scope } from './access';
import { ForbiddenError } from './forbidden.error';
import { PUBLIC_ROUTE, REQUIRED_SCOPE, type AuthenticatedRequest, type Principal } from './principal';
import { API_TOKEN_PREFIX, hashSecretToken } from './secret-token';
import { UnauthenticatedError } from './unauthenticated.error';

const BEARER_API_TOKEN = new RegExp(`^Bearer (${API_TOKEN_PREFIX}[A-Za-z0-9_-]{43})$`);

/**
 * Authenticates every route not marked @Public() and admits the principal only when it
 * holds the scope the route declares with @RequireScope().
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly data: DataAccess,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const scope = this.reflector.getAllAndOverride<Scope | undefined>(REQUIRED_SCOPE, targets);
    // Fail closed: a route that forgot to declare its scope is a wiring bug, never open.
    if (!scope) throw new Error(`route ${context.getClass().name}.${context.getHandler().name} declares no scope`);
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const principal = await this.authenticate(request);
    if (!principal) throw new UnauthenticatedError();
    if (!principal.scopes.includes(scope)) throw new ForbiddenError(scope, principal.kind === 'USER' ? `the role ${principal.role}` : 'this API token');
    request.principal = principal;
    return true;
  }

  private async authenticate(request: AuthenticatedRequest): Promise<Principal | null> {
    const header = request.headers['authorization'];
    const token = typeof header === 'string' ? BEARER_API_TOKEN.exec(header)?.[1] : undefined;
    if (!token) return null;
    const grant = await this.data.apiTokens.authenticate(hashSecretToken(token), this.clock.now());
    if (!grant) return null;
    return { kind: 'API_TOKEN', id: grant.tokenId, name: grant.name, tenantId: grant.tenantId, role: null, scopes: grant.scopes.filter(isScope), sessionId: null };
  }
}
