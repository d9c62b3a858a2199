import { DomainError } from '../common/domain.error';

/** The policy has no version of that number, or is not the caller's tenant's. */
export class PolicyVersionNotFoundError extends DomainError {
  override readonly name = 'PolicyVersionNotFoundError';
  readonly code = 'POLICY_VERSION_NOT_FOUND';

  constructor(policyId: string, number: number) {
    super(`policy ${policyId} has no version ${number}`);
  }
}
