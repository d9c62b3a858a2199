import { lstatSync, readdirSync, readFileSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { readJsonLines } from '@airlock/durable-file';
import { JOB_LOGS_DIRECTORY, JOB_RECORDS_DIRECTORY, type JobRecordMetadata, jobRecordSchema, RECORD_FILE, TRANSCRIPT_FILE, transcriptLineSchema } from './job-record';
import { JobRecordCorruptError } from './job-record-corrupt.error';
import { JobRecordNotFoundError } from './job-record-not-found.error';

/** A record folder's name: `<jobId>-<attempt>`. */
const JOB_KEY = /^([A-Za-z0-9][A-Za-z0-9._-]{0,127})-(\d{1,7})$/;
/** A phase's log beside the records: `<jobKey>.<name>.log`. */
const LOG_FILE = /^(.+-\d{1,7})\.([A-Za-z0-9_-]{1,64})\.log$/;

/** One record folder as found on disk: its metadata, or why `record.json` could not be read. */
export type RecordListing =
  | { readonly jobKey: string; readonly directory: string; readonly record: JobRecordMetadata; readonly problem?: undefined; readonly modifiedMs: number }
  | { readonly jobKey: string; readonly directory: string; readonly record?: undefined; readonly problem: JobRecordCorruptError; readonly modifiedMs: number };

/** A phase's log file kept for an attempt. */
export interface RecordLog {
  readonly name: string;
  readonly path: string;
  readonly bytes: number;
}

/** What a reader shows for a record: `interrupted` also for a `running` record whose worker process is gone. */
export type DisplayState = 'running' | 'ended' | 'interrupted' | 'corrupt';

/** A transcript line as read back: `at`, `kind`, and the kind's own fields. */
export type TranscriptLine = { readonly at: string; readonly kind: string } & Readonly<Record<string, unknown>>;

/**
 * Reads the job records in `<stateDir>/job-records` and the logs in `<stateDir>/job-logs`
 * without the daemon, and safely while it runs: `record.json` is only ever replaced by a
 * rename, and a transcript's torn last line (an append in progress, or a crash) is skipped.
 */
export class JobRecordReader {
  readonly recordsDirectory: string;
  readonly logsDirectory: string;

  constructor(stateDir: string) {
    this.recordsDirectory = join(stateDir, JOB_RECORDS_DIRECTORY);
    this.logsDirectory = join(stateDir, JOB_LOGS_DIRECTORY);
  }

  /** Every record folder, newest first (by start; a record without readable metadata by its folder's time). */
  list(): RecordListing[] {
    const listings = listNames(this.recordsDirectory)
      .filter((name) => JOB_KEY.test(name))
      .flatMap((name) => {
        const stats = statOrUndefined(join(this.recordsDirectory, name));
        return stats?.isDirectory() ? [this.readListing(name, stats.mtimeMs)] : [];
      });
    return listings.sort((a, b) => startedMs(b) - startedMs(a));
  }

  /**
   * The record `id` names: a folder `<jobId>-<attempt>`, or else a job id, meaning its
   * newest attempt. Throws JobRecordNotFoundError.
   */
  find(id: string): RecordListing {
    const listings = this.list();
    const exact = listings.find((listing) => listing.jobKey === id);
    if (exact) return exact;
    const attempts = listings.filter((listing) => JOB_KEY.exec(listing.jobKey)?.[1] === id);
    const newest = attempts.sort((a, b) => attemptOf(b.jobKey) - attemptOf(a.jobKey))[0];
    if (!newest) throw new JobRecordNotFoundError(id, this.recordsDirectory);
    return newest;
  }

  /** The transcript's entries in order; throws JobRecordCorruptError for a damaged line before the last. */
  transcript(listing: RecordListing): TranscriptLine[] {
    const file = join(listing.directory, TRANSCRIPT_FILE);
    return readJsonLines(
      file,
      (value) => {
        const parsed = transcriptLineSchema.safeParse(value);
        return parsed.success ? (parsed.data as TranscriptLine) : undefined;
      },
      (lineNumber) => {
        throw new JobRecordCorruptError(file, `line ${lineNumber} is not a transcript entry ({"at", "kind", …})`);
      },
    );
  }

  /** The logs the phases wrote for `jobKey` (`job-logs/<jobKey>.<name>.log`), by name. */
  logs(jobKey: string): RecordLog[] {
    return this.allLogs()
      .filter((log) => log.jobKey === jobKey)
      .map(({ name, path, bytes }) => ({ name, path, bytes }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Every log in `job-logs/` with the attempt it belongs to and its modification time. */
  allLogs(): Array<RecordLog & { readonly jobKey: string; readonly modifiedMs: number }> {
    return listNames(this.logsDirectory).flatMap((fileName) => {
      const match = LOG_FILE.exec(fileName);
      const path = join(this.logsDirectory, fileName);
      const stats = match ? statOrUndefined(path) : undefined;
      if (!match || !stats?.isFile()) return [];
      return [{ jobKey: match[1] as string, name: match[2] as string, path, bytes: stats.size, modifiedMs: stats.mtimeMs }];
    });
  }

  /** Bytes a record folder takes (its files, not following links). */
  folderBytes(directory: string): number {
    let total = 0;
    for (const name of listNames(directory)) {
      const stats = statOrUndefined(join(directory, name));
      if (stats?.isDirectory()) total += this.folderBytes(join(directory, name));
      else if (stats) total += stats.size;
    }
    return total;
  }

  private readListing(jobKey: string, modifiedMs: number): RecordListing {
    const directory = join(this.recordsDirectory, jobKey);
    try {
      return { jobKey, directory, record: readRecordFile(join(directory, RECORD_FILE)), modifiedMs };
    } catch (error) {
      if (!(error instanceof JobRecordCorruptError)) throw error;
      return { jobKey, directory, problem: error, modifiedMs };
    }
  }
}

/** Reads and checks one `record.json`; throws JobRecordCorruptError naming the file and what is wrong. */
export function readRecordFile(file: string): JobRecordMetadata {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new JobRecordCorruptError(file, 'the file is missing (the worker stopped, or the disk was full, before it was first written)');
    throw new JobRecordCorruptError(file, `unreadable (${code ?? String(error)})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new JobRecordCorruptError(file, `not JSON (${(error as Error).message})`);
  }
  const parsed = jobRecordSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.length ? issue.path.join('.') : '(the whole file)';
    throw new JobRecordCorruptError(file, `${field}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/** Whether `jobs` should show the record as running: a worker process with the pid that wrote it still exists. */
export function displayStateOf(listing: RecordListing, isProcessAlive: (pid: number) => boolean = processExists): DisplayState {
  if (!listing.record) return 'corrupt';
  const { state, workerPid } = listing.record;
  if (state === 'running' && !isProcessAlive(workerPid)) return 'interrupted';
  return state;
}

/**
 * Signal 0 checks for a process without touching it. EPERM means it exists under another
 * user. A reused pid (after a reboot) reads as alive: the record then shows `running` until
 * the daemon next starts and marks it interrupted.
 */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** When the attempt started, in ms since the epoch; the folder's time for a record without readable metadata. */
export function startedMs(listing: RecordListing): number {
  const started = listing.record ? Date.parse(listing.record.startedAt) : Number.NaN;
  return Number.isNaN(started) ? listing.modifiedMs : started;
}

function attemptOf(jobKey: string): number {
  return Number(JOB_KEY.exec(jobKey)?.[2] ?? 0);
}

function listNames(directory: string): string[] {
  try {
    return readdirSync(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** lstat, so a link planted in the records folder is neither followed nor counted past its own size. */
function statOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    // Gone between the listing and the stat: retention or a finished write removed it.
    return undefined;
  }
}
