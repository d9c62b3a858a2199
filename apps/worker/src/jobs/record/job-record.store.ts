import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { rewriteDurably } from '@airlock/durable-file';
import type { WorkerConfig } from '../../config/worker-config.loader';
import type { Logger } from '../../logging/json-logger';
import { FileJobRecorder, type JobRecordOpening } from './file-job.recorder';
import { DEFAULT_JOB_RECORD_LIMITS, type JobRecordLimits, jobKeyOf, RECORD_FILE } from './job-record';
import type { JobRecorder } from './job-recorder';
import { JobRecordReader, startedMs } from './job-record.reader';

/** What one retention pass removed. */
export interface PruneReport {
  readonly removed: ReadonlyArray<{ readonly jobKey: string; readonly reason: 'age' | 'size'; readonly bytes: number }>;
  /** Bytes of records and logs left. */
  readonly keptBytes: number;
}

/** One attempt's share of the disk: its record folder (if any) and its logs. */
interface Holding {
  readonly jobKey: string;
  readonly directory: string | undefined;
  readonly logs: readonly string[];
  readonly startedMs: number;
  readonly running: boolean;
  readonly bytes: number;
}

/**
 * The customer's local record of every job attempt, in `<stateDir>/job-records/` (and the
 * phases' logs in `<stateDir>/job-logs/`, which belong to it): opens an attempt's
 * recorder, marks what a crash left `running` as `interrupted`, and applies retention
 * (`records.maxAge`, `records.maxBytes`). Nothing here is ever sent upstream.
 *
 * Best effort throughout: a record or a retention pass that fails is logged and the worker
 * goes on. Only this process writes `job-records/`; `jobs list|show` read it beside it.
 */
export class JobRecordStore {
  private readonly reader: JobRecordReader;
  /** Attempts whose recorder this process opened and has not ended: retention never touches them. */
  private readonly open = new Set<string>();
  private readonly limits: JobRecordLimits;
  private readonly now: () => number;

  constructor(
    stateDir: string,
    private readonly retention: WorkerConfig['records'],
    private readonly logger: Logger,
    options: { readonly limits?: Partial<JobRecordLimits>; readonly now?: () => number } = {},
  ) {
    this.reader = new JobRecordReader(stateDir);
    this.limits = { ...DEFAULT_JOB_RECORD_LIMITS, ...options.limits };
    this.now = options.now ?? Date.now;
  }

  /** Opens the record of an attempt about to run (state `running`); `logger` is bound to the attempt. */
  openAttempt(opening: JobRecordOpening, logger: Logger): JobRecorder {
    const jobKey = jobKeyOf(opening.jobId, opening.attempt);
    this.open.add(jobKey);
    try {
      mkdirSync(this.reader.recordsDirectory, { recursive: true, mode: 0o700 });
    } catch {
      // The recorder's own first write fails the same way and logs it, with its backoff.
    }
    const recorder = new FileJobRecorder(join(this.reader.recordsDirectory, jobKey), opening, {
      limits: this.limits,
      logger,
      now: this.now,
      onEnded: (ended) => {
        this.open.delete(ended);
        this.prune();
      },
    });
    recorder.begin();
    return recorder;
  }

  /**
   * At daemon start: every record still `running` was left so by a worker that stopped
   * without ending it (this one has just started, and no two workers share a stateDir):
   * each becomes `interrupted`. Returns how many.
   */
  markInterrupted(): number {
    let marked = 0;
    try {
      for (const listing of this.reader.list()) {
        if (listing.record?.state !== 'running' || this.open.has(listing.jobKey)) continue;
        const record = { ...listing.record, state: 'interrupted' as const, interruptedAt: new Date(this.now()).toISOString() };
        rewriteDurably(join(listing.directory, RECORD_FILE), Buffer.from(`${JSON.stringify(record, null, 2)}\n`, 'utf8'));
        this.logger.warn('job-record-interrupted', { jobKey: listing.jobKey, startedAt: record.startedAt });
        marked += 1;
      }
    } catch (error) {
      this.logger.warn('job-record-mark-interrupted-failed', { code: errorCode(error) });
    }
    return marked;
  }

  /**
   * Retention, at daemon start and after each attempt ends: removes every attempt (record
   * and logs) started more than `maxAge` ago, then the oldest until what is left fits in
   * `maxBytes`. A record open in this process is never removed; one that says `running`
   * but is not open here is removed only once older than `maxAge`. Logs without a record
   * (from before records existed, or a record that could not be written) count as attempts
   * of their own, aged by their files' times. Never throws.
   */
  prune(): PruneReport {
    const removed: Array<PruneReport['removed'][number]> = [];
    let holdings: Holding[];
    try {
      holdings = this.holdings();
    } catch (error) {
      this.logger.warn('job-record-retention-failed', { code: errorCode(error) });
      return { removed, keptBytes: 0 };
    }
    const oldestAllowed = this.now() - this.retention.maxAge;
    const kept: Holding[] = [];
    for (const holding of holdings) {
      const mayGo = !this.open.has(holding.jobKey);
      if (mayGo && holding.startedMs < oldestAllowed && this.remove(holding)) removed.push({ jobKey: holding.jobKey, reason: 'age', bytes: holding.bytes });
      else kept.push(holding);
    }
    let keptBytes = kept.reduce((sum, holding) => sum + holding.bytes, 0);
    for (const holding of kept.sort((a, b) => a.startedMs - b.startedMs)) {
      if (keptBytes <= this.retention.maxBytes) break;
      if (holding.running || this.open.has(holding.jobKey)) continue;
      if (!this.remove(holding)) continue;
      removed.push({ jobKey: holding.jobKey, reason: 'size', bytes: holding.bytes });
      keptBytes -= holding.bytes;
    }
    for (const entry of removed) this.logger.info('job-record-removed', entry);
    return { removed, keptBytes };
  }

  private holdings(): Holding[] {
    const logsByKey = new Map<string, Array<{ path: string; bytes: number; modifiedMs: number }>>();
    for (const log of this.reader.allLogs()) logsByKey.set(log.jobKey, [...(logsByKey.get(log.jobKey) ?? []), log]);
    const holdings: Holding[] = this.reader.list().map((listing) => {
      const logs = logsByKey.get(listing.jobKey) ?? [];
      logsByKey.delete(listing.jobKey);
      return {
        jobKey: listing.jobKey,
        directory: listing.directory,
        logs: logs.map((log) => log.path),
        startedMs: startedMs(listing),
        running: listing.record?.state === 'running',
        bytes: this.reader.folderBytes(listing.directory) + logs.reduce((sum, log) => sum + log.bytes, 0),
      };
    });
    for (const [jobKey, logs] of logsByKey) {
      holdings.push({
        jobKey,
        directory: undefined,
        logs: logs.map((log) => log.path),
        startedMs: Math.max(...logs.map((log) => log.modifiedMs)),
        running: false,
        bytes: logs.reduce((sum, log) => sum + log.bytes, 0),
      });
    }
    return holdings;
  }

  /** Deletes an attempt's logs, then its folder; false (logged) if the disk refused. */
  private remove(holding: Holding): boolean {
    try {
      for (const log of holding.logs) rmSync(log, { force: true });
      if (holding.directory) rmSync(holding.directory, { recursive: true, force: true });
      return true;
    } catch (error) {
      this.logger.warn('job-record-remove-failed', { jobKey: holding.jobKey, code: errorCode(error) });
      return false;
    }
  }
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.name : 'unknown');
}
