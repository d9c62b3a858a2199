import { sign, type KeyObject } from 'node:crypto';
import { controlFrameSignedMessage, signedControlFrameKind, type ControlFrame, type ControlFrame__Output, type ControlFrameBinding, type SignedControlFrameKind } from '@airlock/protocol';
import { verifyWithKey } from './ed25519-signature';
import { privateKeyOf, type InstructionSigningKey } from './instruction-signer';
import { importTrustedKeys } from './signed-envelope.checks';

/**
 * Signs a Cancel, ResultAck, Drain or LeaseRenewal for one worker's stream (see
 * FrameSignature in the proto) and returns the frame with its signature set; any other frame
 * is returned as it is.
 *
 * @throws InvalidSigningKeyError when the PEM is not an Ed25519 private key or `keyId` is not its id.
 */
export function signControlFrame(frame: ControlFrame, signer: InstructionSigningKey, binding: ControlFrameBinding): ControlFrame {
  const kind = signedControlFrameKind(frame);
  const message = controlFrameSignedMessage(frame, binding);
  if (kind === undefined || message === undefined) return frame;
  const signature = { keyId: signer.keyId, signature: sign(null, message, privateKeyOf(signer)) };
  return { ...frame, [kind]: { ...frame[kind], signature } };
}

/**
 * Why a signed kind of control frame is not to be obeyed: MISSING (no signature),
 * UNKNOWN_KEY (a key the worker did not pin), BAD_SIGNATURE (it does not verify for this
 * worker, this stream and these fields).
 */
export type ControlFrameRefusal = 'MISSING' | 'UNKNOWN_KEY' | 'BAD_SIGNATURE';

/**
 * Checks the signature of a Cancel, ResultAck, Drain or LeaseRenewal against the worker's
 * pinned keys, for the stream it arrived on. Frames of other kinds need none (instructions
 * and policy bundles carry their own, Challenge and Welcome come before the stream is bound).
 */
export class ControlFrameVerifier {
  private readonly trustedKeys: ReadonlyMap<string, KeyObject>;

  /** @throws InvalidVerifierOptionsError when a pinned key is malformed or its id is not its key's. */
  constructor(trustedKeys: ReadonlyMap<string, Buffer>) {
    this.trustedKeys = importTrustedKeys(trustedKeys);
  }

  /** Whether the frame needs a signature at all. */
  static signs(frame: ControlFrame__Output): frame is ControlFrame__Output & { frame: SignedControlFrameKind } {
    return signedControlFrameKind(frame) !== undefined;
  }

  /** Null when the frame may be obeyed (its signature verifies, or its kind needs none); otherwise why not. */
  refusalOf(frame: ControlFrame__Output, binding: ControlFrameBinding): ControlFrameRefusal | null {
    const kind = signedControlFrameKind(frame);
    if (kind === undefined) return null;
    const signature = frame[kind]?.signature;
    if (signature == null) return 'MISSING';
    const key = this.trustedKeys.get(signature.keyId);
    if (key === undefined) return 'UNKNOWN_KEY';
    const message = controlFrameSignedMessage(frame, binding);
    return message !== undefined && verifyWithKey(key, message, signature.signature) ? null : 'BAD_SIGNATURE';
  }
}
