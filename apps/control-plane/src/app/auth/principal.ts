import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { ApiTokenPrincipal, ApiTokenRole, AuditActor } from '@airlock/data-access';

/** The request shape the auth guard reads and annotates. */
export interface AuthenticatedRequest {
  headers: Record<string, string | string[] | undefined>;
  socket?: { remoteAddress?: string };
  principal?: ApiTokenPrincipal;
}

/** Marks a route that needs no API token. */
export const PUBLIC_ROUTE = 'airlock:public-route';
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

/** The roles a route admits; a route without it admits every authenticated token. */
export const ALLOWED_ROLES = 'airlock:allowed-roles';
export const Roles = (...roles: [ApiTokenRole, ...ApiTokenRole[]]) => SetMetadata(ALLOWED_ROLES, roles);

/** The authenticated token's principal; the tenant of every query comes from here. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): ApiTokenPrincipal => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  // The guard runs first on every non-public route; reaching here without one is a wiring bug.
  if (!principal) throw new Error('CurrentPrincipal used on a route without authentication');
  return principal;
});

/**
 * Who is acting, for the admin audit log: the principal's token and name, and the address
 * of the peer that sent the request. The control plane has no setting for trusting a
 * reverse proxy, so X-Forwarded-For is never read (a client could write anything there):
 * behind a proxy this is the proxy's address.
 */
export const CurrentActor = createParamDecorator((_data: unknown, context: ExecutionContext): AuditActor => {
  const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
  if (!request.principal) throw new Error('CurrentActor used on a route without authentication');
  return { tokenId: request.principal.tokenId, name: request.principal.name, sourceIp: request.socket?.remoteAddress ?? null };
});
