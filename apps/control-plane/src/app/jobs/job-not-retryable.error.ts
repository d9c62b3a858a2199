import { DomainError } from '../common/domain.error';

/** A job may be re-run only once it has finished, and a chain only so many times. */
export class JobNotRetryableError extends DomainError {
  override readonly name = 'JobNotRetryableError';
  readonly code = 'JOB_NOT_RETRYABLE';

  static unfinished(jobId: string, status: string): JobNotRetryableError {
    return new JobNotRetryableError(`job ${jobId} is ${status}; only a finished job (SUCCEEDED, FAILED or CANCELLED) can be re-run`);
  }

  static chainTooLong(jobId: string, maxReruns: number): JobNotRetryableError {
    return new JobNotRetryableError(`job ${jobId} belongs to a chain that already has ${maxReruns} re-runs, the most one chain may have`);
  }
}
