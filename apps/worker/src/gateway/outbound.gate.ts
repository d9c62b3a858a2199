import { FrameValidationError, validateWorkerFrame, type WorkerFrame__Output } from '@airlock/protocol';
import type { ChainPoint } from '../audit/audit-chain';
import type { EgressAuditLog } from '../audit/egress-audit.log';
import { EgressAuditAppendFailedError } from '../audit/egress-audit-append-failed.error';
import type { Logger } from '../logging/json-logger';
import type { WorkerMetrics } from '../metrics/worker-metrics';

/** Where an admitted frame is written: the current stream, when there is one. */
export interface FrameSink {
  write(frame: WorkerFrame__Output): void;
}

/** Frames admitted during one tick, bound to the stream they were sent on. */
interface QueuedBatch {
  readonly sink: FrameSink;
  readonly frames: WorkerFrame__Output[];
}

/**
 * The only path upstream. Each frame is checked against the closed schema, then its line is
 * written to the egress audit log, then it is queued; once per event-loop tick the queue is
 * flushed: one fsync (`EgressAuditLog.commit`) for every line of the tick, then the frames
 * are written to the stream in the order they were sent. So nothing leaves before its line
 * is durable, and a worker sending many frames pays for one fsync per tick, not per frame.
 *
 * A frame that fails the check is not sent and not audited as sent; it is logged locally
 * and counted. A frame the audit log cannot record (a full disk) is not sent either: when
 * its line cannot be written, `send` returns false; when the tick's fsync fails, none of the
 * tick's frames is sent, and the stream they were meant for is let go (see `flush`).
 *
 * A frame is bound to the stream it was sent on: `attach` flushes what is queued to the
 * stream it was queued for before pointing the gate elsewhere, so no frame crosses to a
 * later stream (the result outbox resends results on the next one anyway), and closing a
 * stream after `attach(undefined)` loses nothing.
 */
export class OutboundGate {
  private sink: FrameSink | undefined;
  private batch: QueuedBatch | undefined;
  private scheduledFlush: NodeJS.Immediate | undefined;
  private refused = 0;
  private auditFailures = 0;
  private consecutiveAuditFailures = 0;
  /** Frames dropped by failed commits since the log last recovered, for the recovery line. */
  private droppedSinceRecovery = 0;

  constructor(
    private readonly audit: EgressAuditLog,
    private readonly logger: Logger,
    /** Counts the frames sent by type, refused, and lost to the audit log; absent, nothing is counted. */
    private readonly metrics?: Pick<WorkerMetrics, 'frameSent' | 'frameRefused' | 'auditFailed'>,
  ) {}

  /**
   * Points the gate at a newly opened stream, or at nothing while disconnected. What is
   * queued for the previous stream is flushed to it first (see `flush`): a stream being
   * closed cleanly gets its last frames, one being replaced never gets another's.
   */
  attach(sink: FrameSink | undefined): void {
    this.flush();
    this.sink = sink;
  }

  /** Frames refused by the schema check since start. */
  get refusedCount(): number {
    return this.refused;
  }

  /** The egress audit log's committed head (EgressAuditLog.committedHead), for heartbeats to report. */
  get auditHead(): ChainPoint {
    return this.audit.committedHead;
  }

  /**
   * Whether the egress audit log can record frames right now. False after a write or a
   * commit failed (or when it could not finish opening for lack of space) until a commit
   * succeeds again; every `send` while false is also the probe that finds out when the disk
   * has come back.
   */
  get auditHealthy(): boolean {
    return this.audit.healthy;
  }

  /**
   * Frames not sent because the audit log could not record them, since start: those whose
   * line could not be written, and those dropped because their tick's fsync failed.
   */
  get auditFailureCount(): number {
    return this.auditFailures;
  }

  /** The errno code (e.g. `ENOSPC`) that made the audit log unhealthy, while it is. */
  get auditProblem(): string | undefined {
    return this.audit.problem;
  }

  /**
   * Sends a frame: records its line and queues it for the current stream; the flush at the
   * end of this tick fsyncs and writes it. True means recorded and queued for the current
   * stream, not yet written: the frame is dropped, and counted, if the fsync then fails.
   * False if it was refused, its line could not be written, or there is no stream to send
   * on. Never throws for a failing disk.
   */
  send(frame: WorkerFrame__Output): boolean {
    try {
      validateWorkerFrame(frame);
    } catch (error) {
      if (!(error instanceof FrameValidationError)) throw error;
      this.refused += 1;
      this.metrics?.frameRefused();
      this.logger.error('outbound-frame-refused', { type: frame.frame, field: error.violation.field, expected: error.violation.expected });
      return false;
    }
    const sink = this.sink;
    if (sink === undefined) return false;
    // Rebuilt from the validated member alone, so nothing but what was checked is serialised.
    const kind = frame.frame!;
    const admitted = { frame: kind, [kind]: frame[kind] } as WorkerFrame__Output;
    if (!this.record(kind, admitted)) return false;
    this.queue(sink, admitted);
    return true;
  }

  /**
   * Commits the queued frames' lines with one fsync, then writes the frames to the stream
   * they were sent on, in order. Runs by itself once per tick (`setImmediate`); call it to
   * drain at once, before closing a stream or the audit log. When the commit fails, none of
   * the frames is written: they are counted as audit failures and logged once (count and
   * errno code), and the gate lets go of their stream: sends return false, as while
   * disconnected, until the next `attach`, so the control plane never sees a stream go on
   * with frames missing, and the session hangs up on that false (`auditHealthy` is false).
   * Never throws for a failing disk.
   */
  flush(): void {
    if (this.scheduledFlush !== undefined) clearImmediate(this.scheduledFlush);
    this.scheduledFlush = undefined;
    const batch = this.batch;
    this.batch = undefined;
    if (batch === undefined) return;
    try {
      this.audit.commit();
    } catch (error) {
      this.dropped(batch, error);
      return;
    }
    this.noteRecovery();
    for (const frame of batch.frames) {
      batch.sink.write(frame);
      this.metrics?.frameSent(frame.frame!);
    }
  }

  private queue(sink: FrameSink, frame: WorkerFrame__Output): void {
    if (this.batch === undefined) {
      this.batch = { sink, frames: [] };
      // Not a timer: setImmediate runs once the tick's I/O callbacks are done, so every frame
      // sent in this tick shares the fsync, and none waits longer than the tick.
      this.scheduledFlush = setImmediate(() => this.flush());
    }
    this.batch.frames.push(frame);
  }

  private record(kind: string, admitted: WorkerFrame__Output): boolean {
    try {
      this.audit.write(kind, admitted);
    } catch (error) {
      this.auditFailures += 1;
      this.metrics?.auditFailed(1);
      this.consecutiveAuditFailures += 1;
      // Heartbeats keep probing a full disk; a line for every failure would add to what
      // filled it, so a streak is logged at its 1st, 2nd, 4th, 8th… failure.
      if (Number.isInteger(Math.log2(this.consecutiveAuditFailures))) {
        this.logger.error('egress-audit-append-failed', { type: kind, code: reasonOf(error), consecutiveFailures: this.consecutiveAuditFailures });
      }
      return false;
    }
    return true;
  }

  private dropped(batch: QueuedBatch, error: unknown): void {
    this.auditFailures += batch.frames.length;
    this.metrics?.auditFailed(batch.frames.length);
    this.droppedSinceRecovery += batch.frames.length;
    // One line per failed commit, whatever the batch held: a count and a code, no frame content.
    this.logger.error('egress-audit-commit-failed', { code: reasonOf(error), droppedFrames: batch.frames.length });
    if (this.sink === batch.sink) this.sink = undefined;
  }

  /** Logs the end of a streak of failures once a commit made the log healthy again. */
  private noteRecovery(): void {
    if ((this.consecutiveAuditFailures === 0 && this.droppedSinceRecovery === 0) || !this.audit.healthy) return;
    this.logger.info('egress-audit-append-recovered', { failedAppends: this.consecutiveAuditFailures, droppedFrames: this.droppedSinceRecovery });
    this.consecutiveAuditFailures = 0;
    this.droppedSinceRecovery = 0;
  }
}

function reasonOf(error: unknown): string {
  return error instanceof EgressAuditAppendFailedError ? error.reason : 'UNEXPECTED';
}
