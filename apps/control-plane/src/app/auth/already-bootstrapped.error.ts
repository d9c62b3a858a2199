import { DomainError } from '../common/domain.error';

/** The bootstrap route makes a tenant's first admin only; this tenant has people already. */
export class AlreadyBootstrappedError extends DomainError {
  override readonly name = 'AlreadyBootstrappedError';
  readonly code = 'ALREADY_BOOTSTRAPPED';

  constructor() {
    super('this organisation has its first admin already; log in, or ask an admin to add you');
  }
}
