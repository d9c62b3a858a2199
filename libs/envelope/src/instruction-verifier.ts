import {
  FailureCode,
  decodeInstructionPayload,
  validateControlFrame,
  validateInstructionPayload,
  validateWorkerFrame,
  type InstructionPayload__Output,
  type SignedInstruction__Output,
} from '@airlock/protocol';
import type { NonceStore } from './nonce-store';
import { SignedEnvelopeChecks, readQuietly, type SignedEnvelopeOptions } from './signed-envelope.checks';

/** What an `InstructionVerifier` needs; all of it comes from the worker's local state. */
export interface InstructionVerifierOptions extends SignedEnvelopeOptions {
  /** Where seen nonces are remembered; a `FileNonceStore` in a worker. */
  nonceStore: NonceStore;
}

/** The failure codes `InstructionVerifier.verify` can give (a subset of `FailureCode`). */
export type VerificationFailureCode = (typeof FailureCode)[
  | 'INSTRUCTION_MALFORMED'
  | 'INSTRUCTION_UNKNOWN_KEY'
  | 'INSTRUCTION_BAD_SIGNATURE'
  | 'INSTRUCTION_WRONG_AUDIENCE'
  | 'INSTRUCTION_WRONG_TENANT'
  | 'INSTRUCTION_NOT_YET_VALID'
  | 'INSTRUCTION_EXPIRED'
  | 'INSTRUCTION_REPLAYED'];

/**
 * The verdict on one instruction. On failure, `attempt` names the job attempt to report
 * in `InstructionRejected` when the payload decoded to a well-formed job id and attempt.
 */
export type VerificationOutcome =
  | { ok: true; payload: InstructionPayload__Output }
  | { ok: false; failureCode: VerificationFailureCode; attempt?: { jobId: string; attempt: number } };

/**
 * Verifies signed instructions on the worker, in the order and with the failure codes of
 * docs/worker-protocol.md: MALFORMED, UNKNOWN_KEY, BAD_SIGNATURE, WRONG_AUDIENCE,
 * WRONG_TENANT, NOT_YET_VALID, EXPIRED, REPLAYED. Repository and task policy are checked
 * afterwards by the worker (`@airlock/policy`).
 */
export class InstructionVerifier {
  private readonly checks: SignedEnvelopeChecks;

  /** @throws InvalidVerifierOptionsError when the options could never verify correctly. */
  constructor(private readonly options: InstructionVerifierOptions) {
    this.checks = new SignedEnvelopeChecks(options);
  }

  /**
   * Checks one instruction. Returns the first failure, or the authenticated payload. A
   * nonce is remembered only once every other check has passed, so a forged or
   * misaddressed instruction cannot burn the nonce of a genuine one.
   *
   * @throws only if the nonce store cannot record the nonce (e.g. the disk fails); the
   *   instruction must not run then.
   */
  verify(instruction: SignedInstruction__Output): VerificationOutcome {
    // The payload is decoded before anything is checked, but only so that a rejection can
    // name the attempt it refuses. Until the signature is verified these bytes are
    // unauthenticated: nothing below relies on them for a decision, and the ids reported
    // are only identifiers the control plane itself issued, so echoing them back to it
    // discloses nothing and, if forged, misattributes only a rejection.
    const payload = decodeQuietly(instruction);
    const attempt = payload === undefined ? undefined : reportableAttempt(payload);
    const reject = (failureCode: VerificationFailureCode): VerificationOutcome =>
      attempt === undefined ? { ok: false, failureCode } : { ok: false, failureCode, attempt };

    if (payload === undefined || !isWellFormed(instruction, payload)) return reject(FailureCode.INSTRUCTION_MALFORMED);
    // The payload is authenticated once the signature check passes.
    const failure =
      this.checks.signature(instruction.keyId, instruction.payload, instruction.signature) ??
      this.checks.addressee(payload) ??
      this.checks.validity(payload);
    if (failure !== undefined) return reject(FailureCode[`INSTRUCTION_${failure}`]);
    // Kept until the instruction could no longer pass the expiry check, skew included.
    const acceptedUntilMs = this.checks.acceptedUntilMs(payload);
    if (!this.options.nonceStore.remember(payload.nonce.toString('hex'), acceptedUntilMs)) return reject(FailureCode.INSTRUCTION_REPLAYED);
    return { ok: true, payload };
  }
}

function decodeQuietly(instruction: SignedInstruction__Output): InstructionPayload__Output | undefined {
  return Buffer.isBuffer(instruction.payload) ? readQuietly(() => decodeInstructionPayload(instruction.payload)) : undefined;
}

// The attempt is reported only if the worker's outbound gate will let the rejection
// through, so the same check is applied here.
function reportableAttempt(payload: InstructionPayload__Output): { jobId: string; attempt: number } | undefined {
  const attempt = { jobId: payload.jobId, attempt: payload.attempt };
  return readQuietly(() => {
    validateWorkerFrame({ frame: 'ack', ack: { attempt } });
    return attempt;
  });
}

function isWellFormed(instruction: SignedInstruction__Output, payload: InstructionPayload__Output): boolean {
  return readQuietly(() => {
    validateControlFrame({ frame: 'instruction', instruction });
    validateInstructionPayload(payload);
    return true;
  }) ?? false;
}
