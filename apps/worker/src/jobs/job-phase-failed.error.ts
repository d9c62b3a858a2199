import type { FailureCodeName } from './job-result.builder';

/** Raised inside a phase with the failure code it maps to; the detail stays in local logs. */
export class JobPhaseFailedError extends Error {
  override readonly name = 'JobPhaseFailedError';

  constructor(
    readonly failureCode: FailureCodeName,
    detail: string,
  ) {
    super(detail);
  }
}
