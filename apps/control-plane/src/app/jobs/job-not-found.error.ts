import { DomainError } from '../common/domain.error';

/** No job with that id in the caller's tenant (another tenant's job is "not found" too). */
export class JobNotFoundError extends DomainError {
  override readonly name = 'JobNotFoundError';
  readonly code = 'JOB_NOT_FOUND';

  constructor(jobId: string) {
    super(`job ${jobId} not found`);
  }
}
