import { FailureCode } from '@airlock/protocol';
import type { RuleId } from '@airlock/policy';
import type { LogFields } from '../../logging/json-logger';
import { JobError } from '../job.error';

/**
 * A mandatory rule of the effective policy stopped the job: POLICY_VIOLATION, or
 * CHANGE_TOO_LARGE when the size limits are the only rules broken (the code a change past
 * `limits.maxChangedFiles`/`maxChangedLines` has always ended with). The rules also go
 * upstream as BLOCKED decisions; the detail stays in the local log and record.
 */
export class PolicyViolationError extends JobError {
  override readonly name = 'PolicyViolationError';
  override readonly failureCode: typeof FailureCode.POLICY_VIOLATION | typeof FailureCode.CHANGE_TOO_LARGE;

  constructor(
    readonly rules: readonly RuleId[],
    detail: string,
  ) {
    super(detail);
    const sizeOnly = rules.length > 0 && rules.every((rule) => rule === 'max-files-changed' || rule === 'max-lines-changed');
    this.failureCode = sizeOnly ? FailureCode.CHANGE_TOO_LARGE : FailureCode.POLICY_VIOLATION;
  }

  override get logFields(): LogFields {
    return { rules: this.rules.join(',') };
  }
}
