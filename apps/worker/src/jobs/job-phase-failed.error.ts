import { JobError } from './job.error';
import type { FailureCodeName } from './job-result.builder';

/**
 * Raised inside a phase (or by the daemon's lease guard) with the failure code it maps to,
 * for failures that need no class of their own; the detail stays in local logs.
 */
export class JobPhaseFailedError extends JobError {
  override readonly name = 'JobPhaseFailedError';

  constructor(
    override readonly failureCode: FailureCodeName,
    detail: string,
  ) {
    super(detail);
  }
}
