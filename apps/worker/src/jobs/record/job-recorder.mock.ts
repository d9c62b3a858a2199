import type { JobResult__Output } from '@airlock/protocol';
import type { RecordedPolicy } from '../governance/policy-decisions';
import type { PatchVerdict, TranscriptEntryInput } from './job-record';
import type { JobRecorder } from './job-recorder';

/**
 * A JobRecorder that keeps what it is given in memory, for unit tests of phases: assert on
 * `transcriptEntries`, `patches` (with their verdicts) and `result` instead of reading files.
 * The file-backed recorder has its own specs.
 */
export class InMemoryJobRecorder implements JobRecorder {
  readonly transcriptEntries: TranscriptEntryInput[] = [];
  readonly patches: Array<{ readonly number: number; readonly patch: string; verdicts: PatchVerdict[] }> = [];
  recordedBaseCommit: string | undefined;
  result: JobResult__Output | undefined;
  policy: RecordedPolicy | undefined;

  constructor(readonly jobKey = 'job-1-2') {}

  get lastPatchNumber(): number | undefined {
    return this.patches.at(-1)?.number;
  }

  baseCommit(commit: string): void {
    this.recordedBaseCommit = commit;
  }

  transcript(entry: TranscriptEntryInput): void {
    this.transcriptEntries.push(entry);
  }

  patch(patch: string): number {
    const number = this.patches.length + 1;
    this.patches.push({ number, patch, verdicts: ['staged'] });
    return number;
  }

  patchVerdict(patchNumber: number, verdict: PatchVerdict): void {
    this.patches.find((entry) => entry.number === patchNumber)?.verdicts.push(verdict);
  }

  end(result: JobResult__Output, policy?: RecordedPolicy): void {
    this.result = result;
    this.policy = policy;
  }
}
