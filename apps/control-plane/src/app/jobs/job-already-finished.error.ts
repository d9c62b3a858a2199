import { DomainError } from '../common/domain.error';

/** The job already reached a terminal status, so there is nothing left to cancel. */
export class JobAlreadyFinishedError extends DomainError {
  override readonly name = 'JobAlreadyFinishedError';
  readonly code = 'JOB_ALREADY_FINISHED';

  constructor(jobId: string, status: string) {
    super(`job ${jobId} is already ${status} and can no longer be cancelled`);
  }
}
