import type { FailureCodeName, PhaseName } from '../job-result.builder';
import type { AttemptContext, JobContext } from './job-context';

/**
 * One step of a job (`jobs/phases/*.phase.ts`). A phase does its work and throws to fail:
 * a JobError with the failure code it means, or anything else, which the phase runner
 * reports as `defaultFailure`. Timing, progress, aborts and the mapping to a FailureCode
 * are the PhaseRunner's, never a phase's.
 *
 * Named JobPhase, not Phase, because `Phase` is the wire enum of phase names. `C` is the
 * context of the kind of job the phase belongs to: a fix's JobContext unless said otherwise.
 */
export interface JobPhase<C extends AttemptContext = JobContext> {
  /** The phase as progress events and the result name it. */
  readonly name: PhaseName;
  /** What an error that is not a JobError ends the attempt with: a bug, an I/O failure, a failed git call. */
  readonly defaultFailure: FailureCodeName;
  /** Does the phase's work, reading what earlier phases provided from `ctx` and providing its own. */
  run(ctx: C): Promise<void>;
}
