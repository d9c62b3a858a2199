import { FrameValidationError, validateWorkerFrame, type WorkerFrame__Output } from '@airlock/protocol';
import type { EgressAuditLog } from '../audit/egress-audit.log';
import { EgressAuditAppendFailedError } from '../audit/egress-audit-append-failed.error';
import type { Logger } from '../logging/json-logger';

/** Where an admitted frame is written: the current stream, when there is one. */
export interface FrameSink {
  write(frame: WorkerFrame__Output): void;
}

/**
 * The only path upstream. Each frame is checked against the closed schema, then appended
 * (fsync'd) to the egress audit log, then written. A frame that fails the check is not
 * sent and not audited as sent; it is logged locally and counted. A frame the audit log
 * cannot record (a full disk) is not sent either: nothing leaves unrecorded.
 */
export class OutboundGate {
  private sink: FrameSink | undefined;
  private refused = 0;
  private auditFailures = 0;
  private consecutiveAuditFailures = 0;

  constructor(
    private readonly audit: EgressAuditLog,
    private readonly logger: Logger,
  ) {}

  /** Points the gate at a newly opened stream, or at nothing while disconnected. */
  attach(sink: FrameSink | undefined): void {
    this.sink = sink;
  }

  /** Frames refused by the schema check since start. */
  get refusedCount(): number {
    return this.refused;
  }

  /**
   * Whether the egress audit log can record frames right now. False after an append failed
   * (or when it could not finish opening for lack of space) until an append succeeds again;
   * every `send` while false is also the probe that finds out when space has come back.
   */
  get auditHealthy(): boolean {
    return this.audit.healthy;
  }

  /** Appends that failed since start, so frames that were not sent because they could not be recorded. */
  get auditFailureCount(): number {
    return this.auditFailures;
  }

  /** The errno code (e.g. `ENOSPC`) that made the audit log unhealthy, while it is. */
  get auditProblem(): string | undefined {
    return this.audit.problem;
  }

  /**
   * Sends a frame; returns false if it was refused, could not be recorded in the audit log,
   * or there is no stream to send on. Never throws for a failing disk.
   */
  send(frame: WorkerFrame__Output): boolean {
    try {
      validateWorkerFrame(frame);
    } catch (error) {
      if (!(error instanceof FrameValidationError)) throw error;
      this.refused += 1;
      this.logger.error('outbound-frame-refused', { type: frame.frame, field: error.violation.field, expected: error.violation.expected });
      return false;
    }
    const sink = this.sink;
    if (sink === undefined) return false;
    // Rebuilt from the validated member alone, so nothing but what was checked is serialised.
    const kind = frame.frame!;
    const admitted = { frame: kind, [kind]: frame[kind] } as WorkerFrame__Output;
    if (!this.record(kind, admitted)) return false;
    sink.write(admitted);
    return true;
  }

  private record(kind: string, admitted: WorkerFrame__Output): boolean {
    try {
      this.audit.append(kind, admitted);
    } catch (error) {
      this.auditFailures += 1;
      this.consecutiveAuditFailures += 1;
      // Heartbeats keep probing a full disk; a line for every failure would add to what
      // filled it, so a streak is logged at its 1st, 2nd, 4th, 8th… failure.
      if (Number.isInteger(Math.log2(this.consecutiveAuditFailures))) {
        const code = error instanceof EgressAuditAppendFailedError ? error.reason : 'UNEXPECTED';
        this.logger.error('egress-audit-append-failed', { type: kind, code, consecutiveFailures: this.consecutiveAuditFailures });
      }
      return false;
    }
    if (this.consecutiveAuditFailures > 0) {
      this.logger.info('egress-audit-append-recovered', { failedAppends: this.consecutiveAuditFailures });
      this.consecutiveAuditFailures = 0;
    }
    return true;
  }
}
