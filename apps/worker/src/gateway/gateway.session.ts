import type { Metadata } from '@grpc/grpc-js';
import {
  FrameValidationError,
  isWorkerRevokedRefusal,
  readGatewayBusyRetryAfterMs,
  readWorkerVersionRefusal,
  validateControlFrame,
  type ControlFrame__Output,
  type Hello__Output,
  type VersionNotice__Output,
  type WorkerFrame,
  type WorkerVersionRefusal,
} from '@airlock/protocol';
import type { Logger } from '../logging/json-logger';
import type { OutboundGate } from './outbound.gate';

/**
 * What a session needs of one `Connect` call. The grpc-js duplex stream
 * (`client.Connect()`) is one; tests pass a fake control plane at this seam.
 */
export interface ConnectStream {
  write(frame: WorkerFrame): unknown;
  /** Half-closes the worker's side. */
  end(): void;
  /** Drops the call at once. */
  cancel(): void;
  on(event: 'data', listener: (frame: ControlFrame__Output) => void): unknown;
  /** The call ended with a status other than OK; `code` is the gRPC status code, `metadata` its trailers. */
  on(event: 'error', listener: (error: { readonly code?: number; readonly metadata?: Pick<Metadata, 'get'> }) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
}

/** Opens a `Connect` stream: `() => client.Connect()` in production. */
export type ConnectStreamOpener = () => ConnectStream;

/** The part of the outbound gate a session uses. */
export type SessionGate = Pick<OutboundGate, 'attach' | 'send'>;

/** Timers of a session (handshake timeout, hang-up grace); the daemon's clock in production. */
export interface SessionTimers {
  after(ms: number, callback: () => void): { cancel(): void };
}

/** What the daemon does with a session's events. */
export interface SessionHandlers {
  /** Builds the Hello answering a challenge nonce. */
  hello(nonce: Buffer): Hello__Output;
  /** The control plane accepted the Hello; `versionNotice` is set when it deprecates the worker's version. */
  welcomed(heartbeatIntervalMs: number, leaseTtlMs: number, versionNotice: VersionNotice__Output | null): void;
  /** A frame after Welcome that passed validation. */
  frame(frame: ControlFrame__Output): void;
  /** An instruction frame that failed validation: refused as INSTRUCTION_MALFORMED. */
  malformedInstruction(): void;
  /** A policy bundle frame that failed validation: refused as POLICY_BUNDLE_MALFORMED. */
  malformedPolicyBundle(): void;
  /**
   * A handler above threw: a bug, not something the control plane did. The session has
   * been dropped; the daemon decides what else to do (its fatal path).
   */
  failed(error: unknown): void;
}

/** How a session ended, and whether it had got as far as Welcome. */
export interface SessionEnd {
  readonly welcomed: boolean;
  readonly reason: string;
  /** The gRPC status code the control plane ended the call with, when it ended with one. */
  readonly status?: number;
  /** The control plane said this worker is revoked (WORKER_REVOKED_REFUSAL): final, whatever came before. */
  readonly revoked?: boolean;
  /** The control plane refused this worker's version (WORKER_VERSION_REFUSAL), and said what to install. */
  readonly versionRefusal?: WorkerVersionRefusal;
  /**
   * The control plane was busy with other handshakes (GATEWAY_BUSY_REFUSAL) and asked for this
   * many milliseconds before the next try: the reconnect waits at least that long.
   */
  readonly retryAfterMs?: number;
}

const HANDSHAKE_TIMEOUT_MS = 15_000;
const HANG_UP_GRACE_MS = 5_000;

/**
 * One `Connect` stream: Challenge → Hello → Welcome, then frames in both directions until
 * the stream ends. Every incoming frame is validated; a frame out of order or malformed
 * (other than an instruction or a policy bundle, which are refused individually) ends the
 * session, and the daemon reconnects.
 */
export class GatewaySession {
  readonly done: Promise<SessionEnd>;
  private readonly call: ConnectStream;
  private stage: 'challenge' | 'welcome' | 'open' = 'challenge';
  private finish!: (end: SessionEnd) => void;
  private readonly handshakeTimer: { cancel(): void };

  constructor(
    open: ConnectStreamOpener,
    private readonly gate: SessionGate,
    private readonly handlers: SessionHandlers,
    private readonly logger: Logger,
    private readonly timers: SessionTimers,
  ) {
    this.done = new Promise<SessionEnd>((resolve) => {
      let settled = false;
      this.finish = (end) => {
        if (settled) return;
        settled = true;
        this.handshakeTimer.cancel();
        this.gate.attach(undefined);
        resolve(end);
      };
    });
    this.call = open();
    this.handshakeTimer = timers.after(HANDSHAKE_TIMEOUT_MS, () => this.abandon('handshake-timeout'));
    this.gate.attach({ write: (frame) => this.call.write(frame) });
    this.call.on('data', (frame: ControlFrame__Output) => this.receive(frame));
    this.call.on('error', (error) => {
      const versionRefusal = readWorkerVersionRefusal(error);
      const retryAfterMs = readGatewayBusyRetryAfterMs(error);
      this.finish({
        welcomed: this.stage === 'open',
        reason: `status ${error.code}`,
        status: error.code,
        ...(isWorkerRevokedRefusal(error) ? { revoked: true } : {}),
        ...(versionRefusal ? { versionRefusal } : {}),
        ...(retryAfterMs === null ? {} : { retryAfterMs }),
      });
    });
    this.call.on('end', () => this.finish({ welcomed: this.stage === 'open', reason: 'ended' }));
  }

  /** Half-closes the stream (the graceful end of a drain). */
  close(): void {
    // Detaching first flushes what the gate still queues for this stream, while it can take it.
    this.gate.attach(undefined);
    this.call.end();
  }

  /**
   * Ends the stream from this side, letting frames already written (the audit log counts
   * them as sent) reach the control plane first; drops it if the other side has not ended
   * within `graceMs`.
   */
  hangUp(reason: string, graceMs = HANG_UP_GRACE_MS): void {
    this.logger.warn('session-hung-up', { reason });
    this.close();
    const timer = this.timers.after(graceMs, () => this.abandon(reason));
    void this.done.then(() => timer.cancel());
  }

  /** Drops the stream at once. */
  abandon(reason: string): void {
    this.logger.warn('session-abandoned', { reason });
    this.call.cancel();
    this.finish({ welcomed: this.stage === 'open', reason });
  }

  private receive(frame: ControlFrame__Output): void {
    try {
      this.dispatch(frame);
    } catch (error) {
      // Thrown inside a stream event, it would end the process with nothing cleaned up.
      this.abandon('worker-error');
      this.handlers.failed(error);
    }
  }

  private dispatch(frame: ControlFrame__Output): void {
    try {
      validateControlFrame(frame);
    } catch (error) {
      if (!(error instanceof FrameValidationError)) throw error;
      this.logger.warn('control-frame-invalid', { type: frame.frame, field: error.violation.field, expected: error.violation.expected });
      if (frame.frame === 'instruction' && this.stage === 'open') this.handlers.malformedInstruction();
      else if (frame.frame === 'policyBundle' && this.stage === 'open') this.handlers.malformedPolicyBundle();
      else this.abandon('invalid-control-frame');
      return;
    }
    if (this.stage === 'challenge' && frame.frame === 'challenge') {
      this.stage = 'welcome';
      // Unsent (the audit log refused it): no point waiting for a Welcome that cannot come.
      if (!this.gate.send({ frame: 'hello', hello: this.handlers.hello(frame.challenge!.nonce) })) this.abandon('hello-not-sent');
    } else if (this.stage === 'welcome' && frame.frame === 'welcome') {
      this.stage = 'open';
      this.handshakeTimer.cancel();
      this.handlers.welcomed(frame.welcome!.heartbeatIntervalMs, frame.welcome!.leaseTtlMs, frame.welcome!.versionNotice ?? null);
    } else if (this.stage === 'open' && frame.frame !== 'challenge' && frame.frame !== 'welcome') {
      this.handlers.frame(frame);
    } else {
      this.logger.warn('control-frame-out-of-order', { type: frame.frame, stage: this.stage });
      this.abandon('protocol-violation');
    }
  }
}
