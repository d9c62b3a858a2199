import { DomainError } from './domain.error';

/** No route for the request's method and path. */
export class RouteNotFoundError extends DomainError {
  override readonly name = 'RouteNotFoundError';
  readonly code = 'ROUTE_NOT_FOUND';

  constructor() {
    super('no such route: see /api/docs for the API');
  }
}
