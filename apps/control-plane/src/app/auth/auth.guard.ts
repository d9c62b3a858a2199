import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DataAccess } from '@airlock/data-access';
import { CLOCK, type Clock } from '../common/clock';
import { isScope, type Scope } from './access';
import { ForbiddenError } from './forbidden.error';
import { AUTHENTICATED_ROUTE, PUBLIC_ROUTE, REQUIRED_SCOPE, type AuthenticatedRequest, type Principal } from './principal';
import { API_TOKEN_PREFIX, hashSecretToken } from './secret-token';
import { SessionService } from './session.service';
import { UnauthenticatedError } from './unauthenticated.error';

const BEARER_API_TOKEN = new RegExp(`^Bearer (${API_TOKEN_PREFIX}[A-Za-z0-9_-]{43})$`);

/**
 * Authenticates every route not marked @Public(): by API token when the request has an
 * Authorization header, otherwise by the session cookie. A cookie-authenticated write must
 * also pass the CSRF check; a bearer request carries no ambient credential a browser would
 * add by itself, so it needs none. Then it admits the principal only when it holds the scope
 * the route declares with @RequireScope(), or, on an @Authenticated() route, only when it is
 * a logged-in person.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly data: DataAccess,
    private readonly sessions: SessionService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const scope = this.reflector.getAllAndOverride<Scope | undefined>(REQUIRED_SCOPE, targets);
    const selfService = this.reflector.getAllAndOverride<boolean | undefined>(AUTHENTICATED_ROUTE, targets) === true;
    // Fail closed: a route that declares no access, or two kinds at once, is a wiring bug, never open.
    if (!scope === !selfService) {
      throw new Error(`route ${context.getClass().name}.${context.getHandler().name} must declare exactly one of @Public(), @RequireScope(), @Authenticated()`);
    }
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const principal = await this.authenticate(request);
    if (!principal) throw new UnauthenticatedError();
    if (selfService && principal.kind !== 'USER') {
      throw new UnauthenticatedError('this route is for a logged-in person (session cookie); an API token cannot use it');
    }
    if (scope && !principal.scopes.includes(scope)) throw new ForbiddenError(scope, principal.kind === 'USER' ? `the role ${principal.role}` : 'this API token');
    request.principal = principal;
    return true;
  }

  private async authenticate(request: AuthenticatedRequest): Promise<Principal | null> {
    // Any Authorization header decides: a request never falls back to the cookie, so a bad
    // token is never masked by a session the browser happened to send along.
    const header = request.headers['authorization'];
    if (header !== undefined) return this.authenticateApiToken(header);
    const session = await this.sessions.authenticate(request);
    if (!session) return null;
    this.sessions.checkCsrf(request, session.secret);
    return session.principal;
  }

  private async authenticateApiToken(header: string | string[]): Promise<Principal | null> {
    const token = typeof header === 'string' ? BEARER_API_TOKEN.exec(header)?.[1] : undefined;
    if (!token) return null;
    const grant = await this.data.apiTokens.authenticate(hashSecretToken(token), this.clock.now());
    if (!grant) return null;
    return { kind: 'API_TOKEN', id: grant.tokenId, name: grant.name, tenantId: grant.tenantId, role: null, scopes: grant.scopes.filter(isScope), sessionId: null };
  }
}
