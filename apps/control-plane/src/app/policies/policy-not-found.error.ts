import { DomainError } from '../common/domain.error';

/** No policy with that id in the caller's tenant (another tenant's policy is "not found" too). */
export class PolicyNotFoundError extends DomainError {
  override readonly name = 'PolicyNotFoundError';
  readonly code = 'POLICY_NOT_FOUND';

  constructor(policyId: string) {
    super(`policy ${policyId} not found`);
  }
}
