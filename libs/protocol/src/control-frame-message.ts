const CONTROL_FRAME_CONTEXT = Buffer.from('airlock.v1.control-frame', 'utf8');
const SEPARATOR = Buffer.from([0]);

/**
 * The control frames whose effect matters beyond TLS, and so carry a FrameSignature: a
 * forged Cancel stops a job, a forged ResultAck drops a result from the outbox, a forged
 * Drain stops the worker taking work, a forged LeaseRenewal lets a fenced attempt deliver.
 */
export const SIGNED_CONTROL_FRAMES = ['cancel', 'resultAck', 'drain', 'leaseRenewal'] as const;
export type SignedControlFrameKind = (typeof SIGNED_CONTROL_FRAMES)[number];

/** What a control-frame signature is bound to: the worker it is for, and the stream's challenge nonce. */
export interface ControlFrameBinding {
  readonly workerId: string;
  readonly streamNonce: Buffer;
}

interface AttemptFields {
  readonly jobId?: string;
  readonly attempt?: number;
}

/**
 * A control frame as either side holds it: the control plane builds one without the oneof's
 * `frame` name, the worker decodes one with it. Only the members that are signed matter here.
 */
export interface SignedControlFrame {
  readonly frame?: string;
  readonly cancel?: { readonly attempt?: AttemptFields | null } | null;
  readonly resultAck?: { readonly attempt?: AttemptFields | null; readonly disposition?: string | number } | null;
  readonly drain?: object | null;
  readonly leaseRenewal?: { readonly heartbeatSeq?: number; readonly renewed?: readonly AttemptFields[] } | null;
}

/** The signed kind a frame is, from its oneof name or else from the member it holds; undefined for the other kinds. */
export function signedControlFrameKind(frame: SignedControlFrame): SignedControlFrameKind | undefined {
  if (frame.frame !== undefined) return (SIGNED_CONTROL_FRAMES as readonly string[]).includes(frame.frame) ? (frame.frame as SignedControlFrameKind) : undefined;
  return SIGNED_CONTROL_FRAMES.find((kind) => frame[kind] != null);
}

/**
 * The exact bytes a control-plane key signs for a Cancel, ResultAck, Drain or LeaseRenewal
 * (see FrameSignature in the proto): a context string, a zero byte, then a JSON array of the
 * frame's kind, the worker's id, the stream's challenge nonce in hex and the frame's fields
 * in a fixed order. Built from the fields rather than the protobuf encoding, which is not
 * canonical (defaults may or may not be written). Undefined for a frame of another kind.
 */
export function controlFrameSignedMessage(frame: SignedControlFrame, binding: ControlFrameBinding): Buffer | undefined {
  const kind = signedControlFrameKind(frame);
  if (kind === undefined) return undefined;
  const text = JSON.stringify([kind, binding.workerId, binding.streamNonce.toString('hex'), ...signedFieldsOf(kind, frame)]);
  return Buffer.concat([CONTROL_FRAME_CONTEXT, SEPARATOR, Buffer.from(text, 'utf8')]);
}

function signedFieldsOf(kind: SignedControlFrameKind, frame: SignedControlFrame): (string | number)[] {
  switch (kind) {
    case 'cancel':
      return [frame.cancel?.attempt?.jobId ?? '', frame.cancel?.attempt?.attempt ?? 0];
    case 'resultAck':
      return [frame.resultAck?.attempt?.jobId ?? '', frame.resultAck?.attempt?.attempt ?? 0, String(frame.resultAck?.disposition ?? '')];
    case 'drain':
      return [];
    case 'leaseRenewal':
      return [frame.leaseRenewal?.heartbeatSeq ?? 0, ...(frame.leaseRenewal?.renewed ?? []).flatMap((ref) => [ref.jobId ?? '', ref.attempt ?? 0])];
  }
}
