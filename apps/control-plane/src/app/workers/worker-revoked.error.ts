import { DomainError } from '../common/domain.error';

/** The worker was revoked, which is final: draining or undraining it would change nothing. */
export class WorkerRevokedError extends DomainError {
  override readonly name = 'WorkerRevokedError';
  readonly code = 'WORKER_REVOKED';

  constructor(workerId: string, action: 'drained' | 'undrained') {
    super(`worker ${workerId} is revoked and can no longer be ${action}; enroll the machine anew to bring it back`);
  }
}
