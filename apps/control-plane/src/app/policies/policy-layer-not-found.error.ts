import { DomainError } from '../common/domain.error';

/** Nothing is published at the scope, key and mode a withdraw names. */
export class PolicyLayerNotFoundError extends DomainError {
  override readonly name = 'PolicyLayerNotFoundError';
  readonly code = 'POLICY_LAYER_NOT_FOUND';

  constructor(slot: string) {
    super(`no policy is published at ${slot}`);
  }
}
