import { DomainError } from '../common/domain.error';

/** A token may grant only scopes its creator holds: no one hands out more than they have. */
export class ScopeNotHeldError extends DomainError {
  override readonly name = 'ScopeNotHeldError';
  readonly code = 'SCOPE_NOT_HELD';

  constructor(scopes: readonly string[]) {
    super(`scopes: expected only scopes you hold yourself; you do not hold ${scopes.join(', ')}`);
  }
}
