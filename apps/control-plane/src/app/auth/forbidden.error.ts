import { DomainError } from '../common/domain.error';

/** The API token is valid but its role may not use the route. */
export class ForbiddenError extends DomainError {
  override readonly name = 'ForbiddenError';
  readonly code = 'FORBIDDEN';

  constructor(allowed: readonly string[], role: string) {
    super(`this route needs an API token with role ${allowed.join(' or ')} (this token is ${role})`);
  }
}
