import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { appendDurably, rewriteDurably } from '@airlock/durable-file';
import { JobOutcome, type JobResult__Output } from '@airlock/protocol';
import { frameToJson } from '../../audit/frame-json';
import type { Logger } from '../../logging/json-logger';
import type { RecordedPolicy } from '../governance/policy-decisions';
import {
  type JobRecordLimits,
  type JobRecordMetadata,
  jobKeyOf,
  MAX_TICKET_TITLE_CHARS,
  PATCHES_DIRECTORY,
  type PatchEntry,
  type PatchVerdict,
  RECORD_FILE,
  type RecordedResult,
  TRANSCRIPT_FILE,
  type TranscriptEntryInput,
} from './job-record';
import type { JobRecorder } from './job-recorder';

/** What a record starts with: the attempt as the instruction named it. */
export interface JobRecordOpening {
  readonly jobId: string;
  readonly attempt: number;
  readonly repoAlias: string;
  readonly baseRef: string;
  readonly ticketTitle: string;
}

/** Room kept under the transcript limit for the one note that says the rest was dropped. */
const TRUNCATION_NOTE_RESERVE_BYTES = 1024;
/** Verdicts kept per patch: enough for every phase that may judge it, bounded for an agent loop that keeps re-testing. */
const MAX_VERDICTS_PER_PATCH = 16;

/**
 * Writes one attempt's record under `<stateDir>/job-records/<jobKey>/`. `record.json` is
 * rewritten whole, atomically (`rewriteDurably`), after every change, so a reader — `jobs
 * show` beside a running daemon — sees the old version or the new one, never half of one;
 * `transcript.jsonl` is appended to (`appendDurably`: a refused append is cut back off).
 *
 * Every write here is synchronous, so two writes of this record can never interleave:
 * that is what serialises the fixed `record.json.tmp` name `rewriteDurably` uses, and each
 * attempt has its own folder, so concurrent attempts share no file.
 *
 * A write that fails is logged (`job-record-write-failed`, the errno code only, at the 1st,
 * 2nd, 4th, 8th… failure in a row) and dropped; the in-memory metadata stays whole, so the
 * next rewrite of `record.json` that finds space carries everything again.
 */
export class FileJobRecorder implements JobRecorder {
  readonly jobKey: string;
  private readonly metadata: JobRecordMetadata;
  private consecutiveFailures = 0;
  /** Set when a torn transcript append could not be cut back: appending more would bury it mid-file. */
  private transcriptUnwritable = false;
  private ended = false;

  constructor(
    private readonly directory: string,
    opening: JobRecordOpening,
    private readonly options: {
      readonly limits: JobRecordLimits;
      /** Local log, bound to the attempt. */
      readonly logger: Logger;
      readonly now: () => number;
      /** Told once the record has ended, so the store can run retention. */
      readonly onEnded: (jobKey: string) => void;
    },
  ) {
    this.jobKey = jobKeyOf(opening.jobId, opening.attempt);
    this.metadata = {
      version: 1,
      jobId: opening.jobId,
      attempt: opening.attempt,
      repoAlias: opening.repoAlias,
      baseRef: opening.baseRef,
      baseCommit: null,
      ticketTitle: opening.ticketTitle.slice(0, MAX_TICKET_TITLE_CHARS),
      startedAt: this.timestamp(),
      endedAt: null,
      state: 'running',
      workerPid: process.pid,
      result: null,
      transcript: { entries: 0, bytes: 0, truncated: false },
      patches: [],
    };
  }

  /** Creates the record's folder and its first `record.json` (state `running`). */
  begin(): void {
    this.write(PATCHES_DIRECTORY, () => mkdirSync(join(this.directory, PATCHES_DIRECTORY), { recursive: true, mode: 0o700 }));
    this.writeMetadata();
  }

  get lastPatchNumber(): number | undefined {
    return this.metadata.patches.at(-1)?.number;
  }

  baseCommit(commit: string): void {
    this.metadata.baseCommit = commit;
    this.writeMetadata();
  }

  transcript(entry: TranscriptEntryInput): void {
    const { transcript } = this.metadata;
    if (transcript.truncated || this.transcriptUnwritable) return;
    let line: Buffer;
    try {
      line = Buffer.from(`${JSON.stringify({ at: this.timestamp(), ...entry })}\n`, 'utf8');
    } catch (error) {
      // Only a tool call's arguments could fail to serialise (a cycle, a BigInt): note it rather than throw into a phase.
      this.options.logger.warn('job-record-entry-unserialisable', { kind: entry.kind, error: error instanceof Error ? error : String(error) });
      return;
    }
    const { maxTranscriptBytes } = this.options.limits;
    if (transcript.bytes + line.length > maxTranscriptBytes - TRUNCATION_NOTE_RESERVE_BYTES) {
      const text = `transcript truncated: this ${entry.kind} entry (${line.length} bytes) and every entry after it were not kept; the transcript holds at most ${maxTranscriptBytes} bytes`;
      const note = Buffer.from(`${JSON.stringify({ at: this.timestamp(), kind: 'note', text })}\n`, 'utf8');
      if (this.appendTranscript(note)) {
        transcript.entries += 1;
        transcript.bytes += note.length;
      }
      transcript.truncated = true;
      this.writeMetadata();
      return;
    }
    if (!this.appendTranscript(line)) return;
    transcript.entries += 1;
    transcript.bytes += line.length;
    this.writeMetadata();
  }

  patch(patch: string): number | undefined {
    const { maxPatches, maxPatchBytes } = this.options.limits;
    if (this.metadata.patches.length >= maxPatches) {
      this.transcript({ kind: 'note', text: `patch not kept: this record already holds ${maxPatches} patches, the most it keeps` });
      return undefined;
    }
    const number = this.metadata.patches.length + 1;
    const file = `${PATCHES_DIRECTORY}/${String(number).padStart(2, '0')}.patch`;
    const bytes = Buffer.from(patch, 'utf8');
    const kept = bytes.subarray(0, maxPatchBytes);
    const stored = this.write(file, () => rewriteDurably(join(this.directory, file), kept));
    const at = this.timestamp();
    const entry: PatchEntry = {
      number,
      file,
      bytes: bytes.length,
      storedBytes: stored ? kept.length : 0,
      truncated: kept.length < bytes.length,
      stored,
      recordedAt: at,
      verdict: 'staged',
      verdicts: [{ verdict: 'staged', at }],
    };
    this.metadata.patches.push(entry);
    this.writeMetadata();
    return number;
  }

  patchVerdict(patchNumber: number, verdict: PatchVerdict): void {
    const entry = this.metadata.patches.find((candidate) => candidate.number === patchNumber);
    if (!entry) {
      // A caller's bug, not a reason to fail a job: say so locally.
      this.options.logger.warn('job-record-unknown-patch', { patchNumber, verdict });
      return;
    }
    this.judge(entry, verdict);
    this.writeMetadata();
  }

  end(result: JobResult__Output, policy?: RecordedPolicy): void {
    if (this.ended) return;
    this.ended = true;
    this.metadata.state = 'ended';
    this.metadata.endedAt = this.timestamp();
    if (policy !== undefined) this.metadata.policy = { revision: policy.revision, shadowRevision: policy.shadowRevision, decisions: policy.decisions.map((decision) => ({ ...decision })) };
    try {
      // The same rendering the audit log uses: bytes (the MACs) as hex.
      this.metadata.result = JSON.parse(frameToJson(result)) as RecordedResult;
    } catch (error) {
      this.options.logger.warn('job-record-result-unserialisable', { error: error instanceof Error ? error : String(error) });
    }
    const last = this.metadata.patches.at(-1);
    if (last) this.judge(last, result.outcome === JobOutcome.JOB_OUTCOME_SUCCEEDED ? 'delivered' : result.failureCode);
    this.writeMetadata();
    this.options.onEnded(this.jobKey);
  }

  private judge(entry: PatchEntry, verdict: PatchVerdict): void {
    entry.verdict = verdict;
    entry.verdicts.push({ verdict, at: this.timestamp() });
    if (entry.verdicts.length > MAX_VERDICTS_PER_PATCH) entry.verdicts.splice(1, entry.verdicts.length - MAX_VERDICTS_PER_PATCH);
  }

  private appendTranscript(line: Buffer): boolean {
    return this.write(TRANSCRIPT_FILE, () => {
      const fd = openSync(join(this.directory, TRANSCRIPT_FILE), 'a', 0o600);
      try {
        appendDurably(fd, line, () => {
          this.transcriptUnwritable = true;
          this.options.logger.error('job-record-transcript-torn', { file: TRANSCRIPT_FILE });
        });
      } finally {
        closeSync(fd);
      }
    });
  }

  private writeMetadata(): void {
    this.write(RECORD_FILE, () => rewriteDurably(join(this.directory, RECORD_FILE), Buffer.from(`${JSON.stringify(this.metadata, null, 2)}\n`, 'utf8')));
  }

  /** Runs one write; a failure is logged (code only: the message may name paths) and reported as false, never thrown. */
  private write(file: string, action: () => void): boolean {
    try {
      action();
      if (this.consecutiveFailures > 0) {
        this.options.logger.info('job-record-write-recovered', { failedWrites: this.consecutiveFailures });
        this.consecutiveFailures = 0;
      }
      return true;
    } catch (error) {
      this.consecutiveFailures += 1;
      if (Number.isInteger(Math.log2(this.consecutiveFailures))) {
        const code = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.name : 'unknown');
        this.options.logger.warn('job-record-write-failed', { file, code, consecutiveFailures: this.consecutiveFailures });
      }
      return false;
    }
  }

  private timestamp(): string {
    return new Date(this.options.now()).toISOString();
  }
}
