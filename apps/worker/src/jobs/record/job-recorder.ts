import type { JobResult__Output } from '@airlock/protocol';
import type { RecordedPolicy } from '../governance/policy-decisions';
import type { PatchVerdict, TranscriptEntryInput } from './job-record';

/**
 * What the phases of one attempt write to the customer's local job record. Best effort by
 * contract: no method throws, and a record that cannot be written (a full disk) is logged
 * locally while the job goes on — the record serves the customer's engineers, it is not the
 * egress audit log, and no job fails for want of it.
 */
export interface JobRecorder {
  /** `<jobId>-<attempt>`. */
  readonly jobKey: string;
  /** The number of the last patch recorded, if any: what a later phase gives `patchVerdict`. */
  readonly lastPatchNumber: number | undefined;
  /** The commit the worktree was checked out at (WORKSPACE). */
  baseCommit(commit: string): void;
  /** Appends a prompt, answer, tool call, tool result or note to the transcript. */
  transcript(entry: TranscriptEntryInput): void;
  /**
   * Keeps a candidate patch (`git diff --binary` text) as `patches/NN.patch`, verdict
   * `staged`; returns its number, or undefined when the attempt already holds the most
   * patches a record keeps.
   */
  patch(patch: string): number | undefined;
  /** Says what became of patch `patchNumber` (e.g. `tests-failed`); the latest verdict wins, earlier ones stay in its history. */
  patchVerdict(patchNumber: number, verdict: PatchVerdict): void;
  /**
   * Ends the record with the attempt's exact result (before any metadata level reduced it)
   * and, for an attempt run under a policy, every policy decision with its detail; the last
   * patch's final verdict is `delivered` or the failure code.
   */
  end(result: JobResult__Output, policy?: RecordedPolicy): void;
}
