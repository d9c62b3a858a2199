import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DataAccess, type ApiTokenRole } from '@airlock/data-access';
import { CLOCK, type Clock } from '../common/clock';
import { ForbiddenError } from './forbidden.error';
import { ALLOWED_ROLES, PUBLIC_ROUTE, type AuthenticatedRequest } from './principal';
import { API_TOKEN_PREFIX, hashSecretToken } from './secret-token';
import { UnauthenticatedError } from './unauthenticated.error';

const BEARER_API_TOKEN = new RegExp(`^Bearer (${API_TOKEN_PREFIX}[A-Za-z0-9_-]{43})$`);

/** Requires a Bearer API token on every route not marked @Public(), with a role the route's @Roles() admits. */
@Injectable()
export class ApiTokenGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly data: DataAccess,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers['authorization'];
    const token = typeof header === 'string' ? BEARER_API_TOKEN.exec(header)?.[1] : undefined;
    if (!token) throw new UnauthenticatedError();
    const principal = await this.data.apiTokens.authenticate(hashSecretToken(token), this.clock.now());
    if (!principal) throw new UnauthenticatedError();
    const allowed = this.reflector.getAllAndOverride<readonly ApiTokenRole[] | undefined>(ALLOWED_ROLES, [context.getHandler(), context.getClass()]);
    if (allowed && !allowed.includes(principal.role)) throw new ForbiddenError(allowed, principal.role);
    request.principal = principal;
    return true;
  }
}
