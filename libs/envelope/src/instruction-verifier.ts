import {
  FailureCode,
  ID_PATTERNS,
  decodeInstructionPayload,
  validateControlFrame,
  validateInstructionPayload,
  validateWorkerFrame,
  type InstructionPayload__Output,
  type SignedInstruction__Output,
} from '@airlock/protocol';
import type { KeyObject } from 'node:crypto';
import { verifyWithKey } from './ed25519-signature';
import { InvalidVerifierOptionsError } from './invalid-verifier-options.error';
import type { NonceStore } from './nonce-store';
import { publicKeyFromRaw, signingKeyIdOf } from './signing-key-pair';

/** What an `InstructionVerifier` needs; all of it comes from the worker's local state. */
export interface InstructionVerifierOptions {
  /** keyId → raw 32-byte public key, pinned in the worker's local config. */
  trustedKeys: ReadonlyMap<string, Buffer>;
  /** The worker's own id (UUID); instructions must name it as their audience. */
  workerId: string;
  /** The worker's tenant (UUID). */
  tenantId: string;
  /** Current Unix milliseconds. */
  clock: () => number;
  /** Tolerated difference between the control plane's clock and the worker's, e.g. 30 000. */
  maxClockSkewMs: number;
  /** Longest `expiresAtMs − issuedAtMs` accepted, e.g. 3 600 000. */
  maxValidityWindowMs: number;
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
  private readonly trustedKeys: ReadonlyMap<string, KeyObject>;

  /** @throws InvalidVerifierOptionsError when the options could never verify correctly. */
  constructor(private readonly options: InstructionVerifierOptions) {
    const { workerId, tenantId, maxClockSkewMs, maxValidityWindowMs } = options;
    requireOption(ID_PATTERNS.uuid.test(workerId), 'workerId: expected a UUID');
    requireOption(ID_PATTERNS.uuid.test(tenantId), 'tenantId: expected a UUID');
    requireOption(Number.isSafeInteger(maxClockSkewMs) && maxClockSkewMs >= 0, 'maxClockSkewMs: expected a non-negative integer');
    requireOption(Number.isSafeInteger(maxValidityWindowMs) && maxValidityWindowMs > 0, 'maxValidityWindowMs: expected a positive integer');
    this.trustedKeys = importTrustedKeys(options.trustedKeys);
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
    const key = this.trustedKeys.get(instruction.keyId);
    if (key === undefined) return reject(FailureCode.INSTRUCTION_UNKNOWN_KEY);
    if (!verifyWithKey(key, instruction.payload, instruction.signature)) return reject(FailureCode.INSTRUCTION_BAD_SIGNATURE);

    // From here on the payload is authenticated.
    const { workerId, tenantId, clock, maxClockSkewMs, maxValidityWindowMs, nonceStore } = this.options;
    if (payload.audience !== workerId) return reject(FailureCode.INSTRUCTION_WRONG_AUDIENCE);
    if (payload.tenantId !== tenantId) return reject(FailureCode.INSTRUCTION_WRONG_TENANT);
    const nowMs = clock();
    if (payload.issuedAtMs - maxClockSkewMs > nowMs) return reject(FailureCode.INSTRUCTION_NOT_YET_VALID);
    const acceptedUntilMs = payload.expiresAtMs + maxClockSkewMs;
    if (nowMs >= acceptedUntilMs || payload.expiresAtMs - payload.issuedAtMs > maxValidityWindowMs) {
      return reject(FailureCode.INSTRUCTION_EXPIRED);
    }
    // Kept until the instruction could no longer pass the expiry check above, skew included.
    if (!nonceStore.remember(payload.nonce.toString('hex'), acceptedUntilMs)) return reject(FailureCode.INSTRUCTION_REPLAYED);
    return { ok: true, payload };
  }
}

function requireOption(condition: boolean, problem: string): void {
  if (!condition) throw new InvalidVerifierOptionsError(problem);
}

function importTrustedKeys(trustedKeys: ReadonlyMap<string, Buffer>): ReadonlyMap<string, KeyObject> {
  const imported = new Map<string, KeyObject>();
  for (const [keyId, rawPublicKey] of trustedKeys) {
    let derivedKeyId: string;
    let publicKey: KeyObject;
    try {
      derivedKeyId = signingKeyIdOf(rawPublicKey);
      publicKey = publicKeyFromRaw(rawPublicKey);
    } catch {
      throw new InvalidVerifierOptionsError(`trustedKeys[${keyId}]: expected a raw 32-byte Ed25519 public key`);
    }
    // A pin whose id is not derived from its key is a configuration mistake; caught here
    // it is one clear error at boot instead of every instruction failing as UNKNOWN_KEY.
    requireOption(keyId === derivedKeyId, `trustedKeys[${keyId}]: the key's id is ${derivedKeyId}`);
    imported.set(keyId, publicKey);
  }
  return imported;
}

function decodeQuietly(instruction: SignedInstruction__Output): InstructionPayload__Output | undefined {
  try {
    return Buffer.isBuffer(instruction.payload) ? decodeInstructionPayload(instruction.payload) : undefined;
  } catch {
    return undefined;
  }
}

// The attempt is reported only if the worker's outbound gate will let the rejection
// through, so the same check is applied here.
function reportableAttempt(payload: InstructionPayload__Output): { jobId: string; attempt: number } | undefined {
  const attempt = { jobId: payload.jobId, attempt: payload.attempt };
  try {
    validateWorkerFrame({ frame: 'ack', ack: { attempt } });
    return attempt;
  } catch {
    return undefined;
  }
}

// Any exception counts as malformed: the input came off the network and may not even
// have the shape its type promises.
function isWellFormed(instruction: SignedInstruction__Output, payload: InstructionPayload__Output): boolean {
  try {
    validateControlFrame({ frame: 'instruction', instruction });
    validateInstructionPayload(payload);
    return true;
  } catch {
    return false;
  }
}
