import { DomainError } from '../common/domain.error';

/**
 * A job request that passed validation field by field but could not be dispatched: the
 * instruction a worker would receive breaks the wire contract.
 */
export class InvalidJobRequestError extends DomainError {
  override readonly name = 'InvalidJobRequestError';
  readonly code = 'INVALID_JOB_REQUEST';

  constructor(field: string, expected: string) {
    super(`${field}: expected ${expected} (in the instruction a worker would receive)`);
  }
}
