import { FailureCode } from '@airlock/protocol';
import type { LogFields } from '../../logging/json-logger';
import { JobError } from '../job.error';

/** Raised when `.airlock.yml` is missing or invalid. `field` is logged locally only; upstream sees the code. */
export class RepoConfigInvalidError extends JobError {
  override readonly name = 'RepoConfigInvalidError';
  readonly code = 'REPO_CONFIG_INVALID';
  override readonly failureCode = FailureCode.REPO_CONFIG_INVALID;

  constructor(
    readonly field: string,
    readonly expected: string,
  ) {
    super(`.airlock.yml ${field || '(file)'}: expected ${expected}`);
  }

  override get logFields(): LogFields {
    return { field: this.field };
  }
}
