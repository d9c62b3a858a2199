import type { EffectivePolicy } from '@airlock/policy';

/**
 * The policy one job runs under, fixed when the instruction is admitted: the same
 * snapshot the admission decision used. A bundle applied while the job runs changes the
 * policy of the jobs after it, never this one.
 */
export interface JobPolicy {
  /** Local config merged with the bundle's enforce layers for this worker and the job's repository. */
  readonly enforced: EffectivePolicy;
  /** Local config merged with the layers as the bundle's shadow layers would make them; absent when none applies. */
  readonly shadow?: EffectivePolicy;
  /** The bundle revision in force at admission (0: local policy alone). */
  readonly revision: number;
  /** The revision `shadow` comes from, or 0 when there is no shadow policy. */
  readonly shadowRevision: number;
  /** `policy.maxFixRetries`: how many times a change that breaks a mandatory rule goes back to the model. */
  readonly maxFixRetries: number;
}
