import { DomainError } from '../common/domain.error';

/** The caller is authenticated but does not hold the scope the route needs. */
export class ForbiddenError extends DomainError {
  override readonly name = 'ForbiddenError';
  readonly code = 'FORBIDDEN';

  constructor(scope: string, held: string) {
    super(`this route needs the scope ${scope}, which ${held} does not hold`);
  }
}
