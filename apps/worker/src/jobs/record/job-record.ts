import { z } from 'zod';

/**
 * The customer's own record of one job attempt, kept under `<stateDir>/job-records/<jobKey>/`
 * and never sent anywhere: `record.json` (this file's shapes), `transcript.jsonl` and
 * `patches/NN.patch`. The phases' logs stay where their writers put them,
 * `<stateDir>/job-logs/<jobKey>.<name>.log`, and belong to the record all the same.
 */
export const JOB_RECORDS_DIRECTORY = 'job-records';
export const JOB_LOGS_DIRECTORY = 'job-logs';
export const RECORD_FILE = 'record.json';
export const TRANSCRIPT_FILE = 'transcript.jsonl';
export const PATCHES_DIRECTORY = 'patches';

/** Bounds on one record, so a runaway agent loop or a huge answer cannot fill the disk before retention runs. */
export interface JobRecordLimits {
  /** Bytes of `transcript.jsonl`; past it one `note` entry says the rest was dropped. */
  readonly maxTranscriptBytes: number;
  /** Bytes kept of one patch; a longer patch is cut there and marked truncated. */
  readonly maxPatchBytes: number;
  /** Patches kept per attempt (`NN` has two digits). */
  readonly maxPatches: number;
}

export const DEFAULT_JOB_RECORD_LIMITS: JobRecordLimits = {
  maxTranscriptBytes: 32 * 1024 * 1024,
  maxPatchBytes: 8 * 1024 * 1024,
  maxPatches: 99,
};

/** Characters of the ticket title kept in record.json; the whole ticket is in the transcript's prompt. */
export const MAX_TICKET_TITLE_CHARS = 1000;

/** `<jobId>-<attempt>`, the name the attempt's worktree, logs and record share. */
export function jobKeyOf(jobId: string, attempt: number): string {
  return `${jobId}-${attempt}`;
}

/**
 * What became of a candidate patch: `staged` when APPLY recorded it, then what a later phase
 * said (`tests-passed`, `tests-failed`), and at the end of the attempt `delivered` or the
 * failure code the attempt ended with (`TESTS_FAILED`, `CANCELLED`, …).
 */
export type PatchVerdict = 'staged' | 'tests-passed' | 'tests-failed' | 'delivered' | (string & {});

const isoTime = z.string().min(1).max(64);

const patchEntrySchema = z.object({
  number: z.number().int().min(1),
  /** Relative to the record's folder. */
  file: z.string(),
  /** Size of the patch as produced; `storedBytes` < `bytes` when it was cut at the limit. */
  bytes: z.number().int().min(0),
  storedBytes: z.number().int().min(0),
  truncated: z.boolean(),
  /** False when the patch file could not be written (a full disk): the entry is all that is left. */
  stored: z.boolean(),
  recordedAt: isoTime,
  verdict: z.string(),
  verdicts: z.array(z.object({ verdict: z.string(), at: isoTime })),
});
export type PatchEntry = z.infer<typeof patchEntrySchema>;

/**
 * The attempt's JobResult as JSON (bytes as hex). Read loosely past the fields `jobs` shows:
 * the result grows with the protocol, and an older CLI must still read a newer record.
 */
const resultSchema = z.looseObject({
  outcome: z.string(),
  failureCode: z.string(),
  failedPhase: z.string(),
  phaseDurations: z.array(z.object({ phase: z.string(), durationMs: z.number() })).default([]),
});
export type RecordedResult = z.infer<typeof resultSchema> & Record<string, unknown>;

/** `running` while a worker holds it; `interrupted` when the worker that held it stopped without ending it (a crash). */
export const RECORD_STATES = ['running', 'ended', 'interrupted'] as const;
export type RecordState = (typeof RECORD_STATES)[number];

/**
 * Every policy decision of the attempt with its detail (paths, lines, masked secrets): what
 * JobResult.policy reduces to rule, level and outcome. Absent in records of workers before
 * central policy.
 */
const recordedPolicySchema = z.object({
  revision: z.number().int().min(0),
  shadowRevision: z.number().int().min(0),
  decisions: z.array(
    z.object({
      rule: z.string(),
      level: z.string(),
      outcome: z.string(),
      policy: z.string(),
      detail: z.string(),
    }),
  ),
});

export const jobRecordSchema = z.object({
  version: z.literal(1),
  jobId: z.string().min(1),
  attempt: z.number().int().min(1),
  repoAlias: z.string(),
  baseRef: z.string(),
  baseCommit: z.string().nullable(),
  ticketTitle: z.string(),
  startedAt: isoTime,
  endedAt: isoTime.nullable(),
  state: z.enum(RECORD_STATES),
  /** The worker process that wrote it, so a reader can tell a running record from one a crash left behind. */
  workerPid: z.number().int(),
  interruptedAt: isoTime.optional(),
  result: resultSchema.nullable(),
  transcript: z.object({ entries: z.number().int().min(0), bytes: z.number().int().min(0), truncated: z.boolean() }),
  patches: z.array(patchEntrySchema),
  policy: recordedPolicySchema.optional(),
});
export type JobRecordMetadata = z.infer<typeof jobRecordSchema>;

/** A review comment as the record keeps it. */
export interface ReviewedLine {
  readonly path: string;
  readonly line: number;
  readonly severity: string;
  readonly body: string;
}

/** A chat message as the model was sent it. */
export interface TranscriptMessage {
  readonly role: string;
  readonly content: string;
}

/**
 * One step of the conversation with the model, as a phase records it, or the governance
 * review of a candidate change between two steps. The kinds are open: a reader shows a kind
 * it does not know as JSON rather than refusing it.
 */
export type TranscriptEntryInput =
  | { readonly kind: 'prompt'; readonly endpoint?: string | undefined; readonly messages: readonly TranscriptMessage[] }
  | {
      readonly kind: 'answer';
      readonly endpoint?: string | undefined;
      readonly content: string;
      readonly promptTokens?: number | undefined;
      readonly completionTokens?: number | undefined;
    }
  | { readonly kind: 'tool-call'; readonly endpoint?: string | undefined; readonly callId: string; readonly tool: string; readonly arguments: unknown }
  | { readonly kind: 'tool-result'; readonly callId: string; readonly tool: string; readonly content: string; readonly isError?: boolean | undefined }
  | { readonly kind: 'note'; readonly text: string }
  | {
      /** A review's answer as checked: the comments kept, and each entry dropped with why (by its place in the answer). */
      readonly kind: 'review-checked';
      readonly comments: readonly ReviewedLine[];
      readonly dropped: ReadonlyArray<{ readonly index: number; readonly reason: string }>;
    }
  | {
      /** What a review posted on the forge: the request, the commit its lines are numbered in, the summary and the comments. */
      readonly kind: 'review-posted';
      readonly mergeRequest: number;
      readonly webUrl: string;
      readonly headSha: string;
      readonly summary: string;
      readonly comments: readonly ReviewedLine[];
    }
  | {
      readonly kind: 'policy-review';
      /** 1 for the first candidate the agent loop was about to end with. */
      readonly round: number;
      /** `sent-back` to the model as feedback, `accepted`, or `violations-remain` with no retry left (APPLY refuses it). */
      readonly verdict: 'sent-back' | 'accepted' | 'violations-remain';
      readonly violations: ReadonlyArray<{ readonly rule: string; readonly level: string; readonly detail: string }>;
      readonly retriesLeft: number;
    };

export type TranscriptEntryKind = TranscriptEntryInput['kind'];

/** A transcript line: the entry and when it was recorded. */
export type TranscriptEntry = TranscriptEntryInput & { readonly at: string };

/** What a reader requires of a transcript line; the rest depends on the kind. */
export const transcriptLineSchema = z.looseObject({ at: isoTime, kind: z.string().min(1) });
