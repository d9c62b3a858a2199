import { DomainError } from '../common/domain.error';

/** The tenant's policy has not reached that revision. */
export class PolicyRevisionNotFoundError extends DomainError {
  override readonly name = 'PolicyRevisionNotFoundError';
  readonly code = 'POLICY_REVISION_NOT_FOUND';

  constructor(revision: number, current: number) {
    super(`revision ${revision} not found: the tenant's policy is at revision ${current}`);
  }
}
