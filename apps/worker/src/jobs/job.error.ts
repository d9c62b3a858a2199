import type { LogFields } from '../logging/json-logger';
import type { FailureCodeName } from './job-result.builder';

/**
 * A failure a job phase raises on purpose, carrying the FailureCode the attempt's result
 * reports. The phase runner reports a JobError's own code and anything else as the phase's
 * default failure, so a new kind of failure is a new subclass here, never a new branch there.
 */
export abstract class JobError extends Error {
  /** The class name: a stable code for local logs. */
  abstract override readonly name: string;
  /** What the attempt's result reports when this error ends a phase. */
  abstract readonly failureCode: FailureCodeName;

  /** Extra fields for the local `phase-failed` log line; never sent upstream. */
  get logFields(): LogFields {
    return {};
  }
}
