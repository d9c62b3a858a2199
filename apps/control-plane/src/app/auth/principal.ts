import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { ActorKind, AuditActor, Role } from '@airlock/data-access';
import type { Scope } from './access';

/**
 * Who a request acts as: a logged-in user (by session cookie) or an API token. The tenant of
 * every query comes from here, never from the request.
 */
export interface Principal {
  readonly kind: ActorKind;
  /** The user's or the API token's id. */
  readonly id: string;
  /** The user's display name or the token's name, as the audit log records who acted. */
  readonly name: string;
  readonly tenantId: string;
  /** The user's role; null for an API token, which holds scopes only. */
  readonly role: Role | null;
  readonly scopes: readonly Scope[];
  /** The session a user acts through; null for an API token. */
  readonly sessionId: string | null;
}

/** The request shape the auth guard reads and annotates. */
export interface AuthenticatedRequest {
  method?: string;
  headers: Record<string, string | string[] | undefined>;
  socket?: { remoteAddress?: string };
  principal?: Principal;
}

/** Marks a route that needs no authentication. */
export const PUBLIC_ROUTE = 'airlock:public-route';
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

/**
 * The one scope a route needs. Every route declares exactly one of @Public(),
 * @RequireScope() or @Authenticated(); the auth guard refuses to serve one that does not.
 */
export const REQUIRED_SCOPE = 'airlock:required-scope';
export const RequireScope = (scope: Scope) => SetMetadata(REQUIRED_SCOPE, scope);

/**
 * Marks a self-service route: a logged-in person acting on their own session or account
 * (session, logout, password). It needs a session cookie but no scope; an API token is
 * refused, since a token has no person behind it.
 */
export const AUTHENTICATED_ROUTE = 'airlock:authenticated-route';
export const Authenticated = () => SetMetadata(AUTHENTICATED_ROUTE, true);

/** The authenticated principal. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  // The guard runs first on every non-public route; reaching here without one is a wiring bug.
  if (!principal) throw new Error('CurrentPrincipal used on a route without authentication');
  return principal;
});

/** Where a request came from, as the audit log records it. */
export function sourceIpOf(request: AuthenticatedRequest): string | null {
  return request.socket?.remoteAddress ?? null;
}

/**
 * Who is acting, for the admin audit log: the principal and the address of the peer that
 * sent the request. The control plane has no setting for trusting a reverse proxy, so
 * X-Forwarded-For is never read (a client could write anything there): behind a proxy this
 * is the proxy's address.
 */
export const CurrentActor = createParamDecorator((_data: unknown, context: ExecutionContext): AuditActor => {
  const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
  if (!request.principal) throw new Error('CurrentActor used on a route without authentication');
  return { kind: request.principal.kind, id: request.principal.id, name: request.principal.name, sourceIp: sourceIpOf(request) };
});
