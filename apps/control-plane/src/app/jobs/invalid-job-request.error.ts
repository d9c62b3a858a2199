import { DomainError } from '../common/domain.error';

/** A job request that is well-formed field by field but inconsistent as a whole. */
export class InvalidJobRequestError extends DomainError {
  override readonly name = 'InvalidJobRequestError';
  readonly code = 'INVALID_JOB_REQUEST';
}
