import { FrameValidationError, validateWorkerFrame, type WorkerFrame__Output } from '@airlock/protocol';
import type { EgressAuditLog } from '../audit/egress-audit.log';
import type { Logger } from '../logging/json-logger';

/** Where an admitted frame is written: the current stream, when there is one. */
export interface FrameSink {
  write(frame: WorkerFrame__Output): void;
}

/**
 * The only path upstream. Each frame is checked against the closed schema, then appended
 * (fsync'd) to the egress audit log, then written. A frame that fails the check is not
 * sent and not audited as sent; it is logged locally and counted.
 */
export class OutboundGate {
  private sink: FrameSink | undefined;
  private refused = 0;

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

  /** Sends a frame; returns false if it was refused or there is no stream to send on. */
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
    this.audit.append(kind, admitted);
    sink.write(admitted);
    return true;
  }
}
