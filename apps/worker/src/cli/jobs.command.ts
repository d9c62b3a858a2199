import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { loadWorkerConfig } from '../config/worker-config.loader';
import { JobRecordCorruptError } from '../jobs/record/job-record-corrupt.error';
import { JobRecordNotFoundError } from '../jobs/record/job-record-not-found.error';
import { displayStateOf, JobRecordReader, type RecordListing, type TranscriptLine } from '../jobs/record/job-record.reader';
import { CliExitError, EXIT_CODES } from './exit-codes';
import type { CliIo } from './worker.cli';

/** Rows `jobs list` prints unless told otherwise. */
export const DEFAULT_LIST_LIMIT = 50;

export interface JobsListOptions {
  readonly config: string;
  readonly json?: boolean;
  readonly limit?: number;
}

export interface JobsShowOptions {
  readonly config: string;
  readonly transcript?: boolean;
  readonly patch?: number;
  readonly log?: string;
}

/** One `jobs list` row, also its `--json` shape. */
interface ListRow {
  readonly jobKey: string;
  readonly jobId: string | null;
  readonly attempt: number | null;
  /** running, interrupted, corrupt, or the outcome of an ended attempt: succeeded, failed, cancelled. */
  readonly state: string;
  readonly failureCode: string | null;
  readonly failedPhase: string | null;
  readonly repoAlias: string | null;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly durationMs: number | null;
  readonly patches: number;
  readonly directory: string;
}

/**
 * `jobs list`: the local job records, newest first, one row each (or a JSON array with
 * `--json`). A record whose `record.json` cannot be read is listed as `corrupt`, named on
 * stderr, and makes the exit code 1; the others are still listed.
 */
export function jobsListCommand(options: JobsListOptions, io: CliIo): number {
  const config = loadWorkerConfig(options.config);
  const reader = new JobRecordReader(config.stateDir);
  const listings = reader.list();
  const shown = listings.slice(0, options.limit ?? DEFAULT_LIST_LIMIT);
  const rows = shown.map(listRow);
  if (options.json) {
    io.out(`${JSON.stringify(rows, null, 2)}\n`);
  } else if (listings.length === 0) {
    io.out(`no job records in ${reader.recordsDirectory}\n`);
  } else {
    const table = [
      ['KEY', 'STATE', 'FAILURE', 'REPO', 'STARTED', 'DURATION', 'PATCHES'],
      ...rows.map((row) => [
        row.jobKey,
        row.state,
        row.failureCode ?? '-',
        printableLine(row.repoAlias ?? '-'),
        row.startedAt ?? '-',
        row.durationMs === null ? '-' : formatDuration(row.durationMs),
        String(row.patches),
      ]),
    ];
    const widths = table[0]!.map((_, column) => Math.max(...table.map((cells) => cells[column]!.length)));
    io.out(table.map((cells) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n') + '\n');
    if (shown.length < listings.length) io.out(`(${shown.length} of ${listings.length} records shown; --limit N shows more)\n`);
  }
  const corrupt = shown.filter((listing) => listing.problem !== undefined);
  for (const listing of corrupt) io.err(`${listing.problem!.message}\n`);
  return corrupt.length === 0 ? EXIT_CODES.ok : EXIT_CODES.failed;
}

/**
 * `jobs show <jobId | jobId-attempt>`: the record's summary (metadata, patches and their
 * verdicts, the logs kept), or with `--transcript`, `--patch N`, `--log NAME` that content
 * in full. Patches and logs are printed byte for byte (so a patch can be piped to
 * `git apply`); the summary and the transcript escape control characters, since a ticket
 * or a model answer could carry terminal escape sequences.
 */
export function jobsShowCommand(id: string, options: JobsShowOptions, io: CliIo): number {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,140}$/.test(id)) {
    throw new CliExitError(EXIT_CODES.configInvalid, `jobs show: expected a job id or <jobId>-<attempt> (as \`jobs list\` prints them), got ${JSON.stringify(id.slice(0, 200))}`);
  }
  const config = loadWorkerConfig(options.config);
  const reader = new JobRecordReader(config.stateDir);
  try {
    const listing = reader.find(id);
    if (listing.problem) throw listing.problem;
    const wantsContent = options.transcript === true || options.patch !== undefined || options.log !== undefined;
    if (!wantsContent) io.out(summaryOf(listing, reader).join('\n') + '\n');
    if (options.transcript) io.out(renderTranscript(reader.transcript(listing)));
    if (options.patch !== undefined) io.out(patchText(listing, options.patch, io));
    if (options.log !== undefined) io.out(logText(reader, listing.jobKey, options.log));
    return EXIT_CODES.ok;
  } catch (error) {
    if (error instanceof JobRecordNotFoundError || error instanceof JobRecordCorruptError) throw new CliExitError(EXIT_CODES.failed, error.message);
    throw error;
  }
}

/** Commander's parser for `--limit` and `--patch`: a whole number in range, or a usage error naming the option. */
export function positiveInteger(option: string, max: number): (value: string) => number {
  return (value) => {
    const parsed = /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN;
    if (!(parsed >= 1 && parsed <= max)) throw new InvalidArgumentError(`${option}: expected a whole number from 1 to ${max}`);
    return parsed;
  };
}

function listRow(listing: RecordListing): ListRow {
  const { record } = listing;
  const state = displayStateOf(listing);
  const started = record ? Date.parse(record.startedAt) : Number.NaN;
  const ended = record?.endedAt ? Date.parse(record.endedAt) : Number.NaN;
  const failureCode = record?.result?.failureCode;
  return {
    jobKey: listing.jobKey,
    jobId: record?.jobId ?? null,
    attempt: record?.attempt ?? null,
    state: state === 'ended' && record?.result ? outcomeName(record.result.outcome) : state,
    failureCode: failureCode && failureCode !== 'FAILURE_CODE_UNSPECIFIED' ? failureCode : null,
    failedPhase: record?.result && record.result.failedPhase !== 'PHASE_UNSPECIFIED' ? phaseName(record.result.failedPhase) : null,
    repoAlias: record?.repoAlias ?? null,
    startedAt: record?.startedAt ?? null,
    endedAt: record?.endedAt ?? null,
    durationMs: Number.isNaN(started) || Number.isNaN(ended) ? null : ended - started,
    patches: record?.patches.length ?? 0,
    directory: listing.directory,
  };
}

function summaryOf(listing: RecordListing, reader: JobRecordReader): string[] {
  const record = listing.record!;
  const row = listRow(listing);
  const { result } = record;
  const lines = [
    `job          ${record.jobId} attempt ${record.attempt} (${listing.jobKey})`,
    `state        ${row.state}${row.failureCode ? ` ${row.failureCode}` : ''}${row.failedPhase ? ` in ${row.failedPhase}` : ''}${record.interruptedAt ? ` (found interrupted at ${record.interruptedAt})` : ''}`,
    `repository   ${printableLine(record.repoAlias)}, base ${printableLine(record.baseRef)} at ${record.baseCommit ?? '(not checked out)'}`,
    `ticket       ${printableLine(record.ticketTitle)}`,
    `started      ${record.startedAt}`,
    `ended        ${record.endedAt ? `${record.endedAt} (${formatDuration(row.durationMs ?? 0)})` : '-'}`,
  ];
  if (result) {
    lines.push(`phases       ${result.phaseDurations.map((entry) => `${phaseName(entry.phase)} ${formatDuration(entry.durationMs)}`).join(', ') || '-'}`);
    for (const field of ['tokens', 'change', 'verification'] as const) {
      const value = result[field];
      if (value && typeof value === 'object') lines.push(`${field.padEnd(13)}${Object.entries(value).map(([name, count]) => `${name} ${String(count)}`).join(', ')}`);
    }
  }
  if (record.policy) {
    const { revision, shadowRevision, decisions } = record.policy;
    const revisions = `${revision === 0 ? 'local policy alone' : `revision ${revision}`}${shadowRevision === 0 ? '' : `, shadow revision ${shadowRevision}`}`;
    lines.push(`policy       ${revisions}; ${decisions.length === 0 ? 'no rule fired' : `${decisions.length} decision${decisions.length === 1 ? '' : 's'}`}`);
    for (const decision of decisions) {
      const rule = `${decision.rule} (${decision.level}${decision.policy === 'shadow' ? ', shadow' : ''})`;
      lines.push(`  ${printableLine(decision.outcome).padEnd(18)}  ${printableLine(rule).padEnd(36)}  ${printableLine(decision.detail)}`);
    }
  }
  const { transcript } = record;
  lines.push(`transcript   ${transcript.entries} entries, ${transcript.bytes} bytes${transcript.truncated ? ' (truncated at the limit)' : ''}; --transcript prints it`);
  lines.push(`patches      ${record.patches.length === 0 ? 'none' : `${record.patches.length}; --patch N prints one`}`);
  for (const patch of record.patches) {
    const history = patch.verdicts.map((entry) => entry.verdict).join(' → ');
    const size = patch.stored ? `${patch.storedBytes} bytes${patch.truncated ? ` (cut from ${patch.bytes})` : ''}` : `not stored (${patch.bytes} bytes; the disk refused it)`;
    lines.push(`  ${String(patch.number).padStart(2)}  ${printableLine(patch.verdict).padEnd(20)} ${size}  [${printableLine(history)}]`);
  }
  const logs = reader.logs(listing.jobKey);
  lines.push(`logs         ${logs.length === 0 ? 'none' : `${logs.map((log) => `${log.name} (${log.bytes} bytes)`).join(', ')}; --log NAME prints one`}`);
  lines.push(`record       ${listing.directory}`);
  return lines;
}

function renderTranscript(entries: readonly TranscriptLine[]): string {
  return entries
    .map((entry) => {
      const { at, kind, ...rest } = entry;
      const header = (detail: string) => `── ${at} ${printableLine(kind)}${detail ? ` ${detail}` : ''} ──`;
      const endpoint = typeof rest['endpoint'] === 'string' ? `(endpoint ${printableLine(rest['endpoint'])})` : '';
      switch (kind) {
        case 'prompt': {
          const messages = Array.isArray(rest['messages']) ? (rest['messages'] as Array<{ role?: unknown; content?: unknown }>) : [];
          return [header(endpoint), ...messages.map((message) => `[${printableLine(String(message.role))}]\n${printable(String(message.content))}`)].join('\n');
        }
        case 'answer': {
          const tokens = typeof rest['promptTokens'] === 'number' ? `${rest['promptTokens']} prompt + ${String(rest['completionTokens'])} completion tokens` : '';
          return `${header([endpoint, tokens].filter(Boolean).join(' '))}\n${printable(String(rest['content']))}`;
        }
        case 'note':
          return `${header('')}\n${printable(String(rest['text']))}`;
        case 'tool-result':
          return `${header(`${printableLine(String(rest['tool']))} (${printableLine(String(rest['callId']))})${rest['isError'] === true ? ' error' : ''}`)}\n${printable(String(rest['content']))}`;
        default:
          // tool-call, and whatever kind a newer worker records: its fields as JSON.
          return `${header('')}\n${printable(JSON.stringify(rest, null, 2))}`;
      }
    })
    .map((block) => `${block.endsWith('\n') ? block : `${block}\n`}`)
    .join('');
}

function patchText(listing: RecordListing, patchNumber: number, io: CliIo): string {
  const patches = listing.record?.patches ?? [];
  const patch = patches.find((entry) => entry.number === patchNumber);
  if (!patch) {
    throw new CliExitError(EXIT_CODES.failed, `job record ${listing.jobKey} has no patch ${patchNumber} (${patches.length === 0 ? 'it holds none' : `it holds 1 to ${patches.length}`})`);
  }
  if (!patch.stored) throw new CliExitError(EXIT_CODES.failed, `patch ${patchNumber} of ${listing.jobKey} was not stored: the disk refused it when it was recorded`);
  if (patch.truncated) io.err(`note: patch ${patchNumber} was cut at ${patch.storedBytes} of ${patch.bytes} bytes when it was recorded; it will not apply as is\n`);
  return readFileSync(join(listing.directory, patch.file), 'utf8');
}

function logText(reader: JobRecordReader, jobKey: string, name: string): string {
  const logs = reader.logs(jobKey);
  const log = logs.find((entry) => entry.name === name);
  if (!log) {
    const available = logs.length === 0 ? 'it has none' : `it has ${logs.map((entry) => entry.name).join(', ')}`;
    throw new CliExitError(EXIT_CODES.failed, `job record ${jobKey} has no log ${JSON.stringify(name.slice(0, 100))} (${available})`);
  }
  return readFileSync(log.path, 'utf8');
}

/** `JOB_OUTCOME_SUCCEEDED` → `succeeded`. */
function outcomeName(outcome: string): string {
  return outcome.replace(/^JOB_OUTCOME_/, '').toLowerCase();
}

/** `PHASE_TEST` → `TEST`. */
function phaseName(phase: string): string {
  return phase.replace(/^PHASE_/, '');
}

/** 850ms, 12.3s, 4m05s, 1h02m. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * C0/C1 controls but newline and tab, and the bidirectional overrides (text that reads
 * differently from what it is), shown as `\u{…}` escapes rather than sent to the terminal.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point: they are what gets escaped
const UNPRINTABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

function printable(text: string): string {
  return text.replace(UNPRINTABLE, (char) => `\\u{${char.charCodeAt(0).toString(16)}}`);
}

/** As `printable`, for text that must stay on one line. */
export function printableLine(text: string): string {
  return printable(text).replace(/\n/g, '\\n').replace(/\t/g, '\\t');
}
