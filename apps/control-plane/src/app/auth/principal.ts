import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { ApiTokenPrincipal } from '@airlock/data-access';

/** The request shape the auth guard reads and annotates. */
export interface AuthenticatedRequest {
  headers: Record<string, string | string[] | undefined>;
  principal?: ApiTokenPrincipal;
}

/** Marks a route that needs no API token. */
export const PUBLIC_ROUTE = 'airlock:public-route';
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

/** The authenticated token's principal; the tenant of every query comes from here. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): ApiTokenPrincipal => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  // The guard runs first on every non-public route; reaching here without one is a wiring bug.
  if (!principal) throw new Error('CurrentPrincipal used on a route without authentication');
  return principal;
});
