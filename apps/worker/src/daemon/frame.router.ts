import type { ControlFrame__Output } from '@airlock/protocol';

type Member<K extends keyof ControlFrame__Output> = NonNullable<ControlFrame__Output[K]>;

/** What each control frame after Welcome asks of the daemon. */
export interface ControlFrameHandlers {
  /** A signed instruction, to admit or refuse. */
  instruction(instruction: Member<'instruction'>): void;
  /** The control plane wants this attempt stopped. */
  cancel(attempt: NonNullable<Member<'cancel'>['attempt']>): void;
  /** A result reached the control plane: it may leave the outbox. */
  resultAck(ack: Member<'resultAck'>): void;
  /** The control plane asks the worker to drain, as a first SIGTERM would. */
  drain(): void;
  /** The leases an earlier Hello or heartbeat renewed. */
  leaseRenewal(renewal: Member<'leaseRenewal'>): void;
  /** A signed central policy bundle, to apply or refuse. */
  policyBundle(bundle: Member<'policyBundle'>): void;
}

/**
 * Sends each control frame to the handler for its kind. Frames arrive validated (by the
 * session), so each one's member is present; the handshake frames (Challenge, Welcome)
 * never get here, since the session ends a stream that sends them out of turn.
 */
export class FrameRouter {
  constructor(private readonly handlers: ControlFrameHandlers) {}

  route(frame: ControlFrame__Output): void {
    switch (frame.frame) {
      case 'instruction':
        return this.handlers.instruction(frame.instruction!);
      case 'cancel':
        return this.handlers.cancel(frame.cancel!.attempt!);
      case 'resultAck':
        return this.handlers.resultAck(frame.resultAck!);
      case 'drain':
        return this.handlers.drain();
      case 'leaseRenewal':
        return this.handlers.leaseRenewal(frame.leaseRenewal!);
      case 'policyBundle':
        return this.handlers.policyBundle(frame.policyBundle!);
      default:
        return;
    }
  }
}
