import {
  decodeInstructionPayload,
  encodeInstructionPayload,
  validateInstructionPayload,
  type InstructionPayload,
  type SignedInstruction__Output,
} from '@airlock/protocol';
import { sign, type KeyObject } from 'node:crypto';
import { loadSigningKey } from './ed25519-signature';
import { InvalidSigningKeyError } from './invalid-signing-key.error';

/** The control plane's current signing key, as `signInstruction` needs it. */
export interface InstructionSigningKey {
  keyId: string;
  privateKeyPem: string;
}

/**
 * Encodes an instruction payload and signs the exact encoded bytes (there is no
 * canonicalisation: the worker verifies the bytes it receives).
 *
 * The payload must pass `validateInstructionPayload`: a worker would refuse it anyway,
 * and a signed malformed instruction is an authenticated artefact nobody should hold.
 *
 * @throws InstructionPayloadDecodeError or FrameValidationError (from `@airlock/protocol`)
 *   when the payload is malformed.
 * @throws InvalidSigningKeyError when the PEM is not an Ed25519 private key or `keyId` is
 *   not the id of its public key (every worker would reject such instructions).
 */
export function signInstruction(payload: InstructionPayload, signer: InstructionSigningKey): SignedInstruction__Output {
  const privateKey = privateKeyOf(signer);
  const bytes = encodeInstructionPayload(payload);
  validateInstructionPayload(decodeInstructionPayload(bytes));
  return { payload: bytes, signature: sign(null, bytes, privateKey), keyId: signer.keyId };
}

/**
 * The signer's parsed private key, once its key id is known to name it.
 *
 * @throws InvalidSigningKeyError when the PEM is not an Ed25519 private key or `keyId` is
 *   not the id of its public key.
 */
export function privateKeyOf(signer: InstructionSigningKey): KeyObject {
  const key = loadSigningKey(signer.privateKeyPem);
  if (key.keyId !== signer.keyId) {
    throw new InvalidSigningKeyError(`signing key id ${signer.keyId} does not match the private key (its id is ${key.keyId})`);
  }
  return key.privateKey;
}
