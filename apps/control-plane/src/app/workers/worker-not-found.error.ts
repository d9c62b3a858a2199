import { DomainError } from '../common/domain.error';

/** No worker with that id in the caller's tenant (another tenant's worker is "not found" too). */
export class WorkerNotFoundError extends DomainError {
  override readonly name = 'WorkerNotFoundError';
  readonly code = 'WORKER_NOT_FOUND';

  constructor(workerId: string) {
    super(`worker ${workerId} not found`);
  }
}
