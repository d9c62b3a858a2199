import { DomainError } from '../common/domain.error';

/** Policy names are unique in a tenant. */
export class PolicyNameTakenError extends DomainError {
  override readonly name = 'PolicyNameTakenError';
  readonly code = 'POLICY_NAME_TAKEN';

  constructor() {
    super('name: expected a name no other policy of this tenant has');
  }
}
