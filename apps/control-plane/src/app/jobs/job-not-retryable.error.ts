import { DomainError } from '../common/domain.error';

/** Only a job that ended FAILED or CANCELLED may be retried; this one has not. */
export class JobNotRetryableError extends DomainError {
  override readonly name = 'JobNotRetryableError';
  readonly code = 'JOB_NOT_RETRYABLE';

  constructor(jobId: string, status: string) {
    super(`job ${jobId} is ${status}; only a FAILED or CANCELLED job can be retried`);
  }
}
