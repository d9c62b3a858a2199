import {
  decodePolicyBundlePayload,
  encodePolicyBundlePayload,
  policyBundleSignedMessage,
  validatePolicyBundlePayload,
  type PolicyBundlePayload,
  type SignedPolicyBundle__Output,
} from '@airlock/protocol';
import { sign } from 'node:crypto';
import { privateKeyOf, type InstructionSigningKey } from './instruction-signer';

/**
 * Encodes a policy bundle payload and signs `"airlock.v1.policy-bundle" || 0x00 || payload`
 * (`policyBundleSignedMessage`): the context keeps a bundle signature from ever passing as
 * an instruction signature made by the same key, and the other way round.
 *
 * The payload must pass `validatePolicyBundlePayload`: a worker would refuse it anyway.
 * The layers' JSON is not parsed here; the control plane validates it when it publishes.
 *
 * @throws PolicyBundlePayloadDecodeError or FrameValidationError (from `@airlock/protocol`)
 *   when the payload is malformed.
 * @throws InvalidSigningKeyError when the PEM is not an Ed25519 private key or `keyId` is
 *   not the id of its public key.
 */
export function signPolicyBundle(payload: PolicyBundlePayload, signer: InstructionSigningKey): SignedPolicyBundle__Output {
  const privateKey = privateKeyOf(signer);
  const bytes = encodePolicyBundlePayload(payload);
  validatePolicyBundlePayload(decodePolicyBundlePayload(bytes));
  return { payload: bytes, signature: sign(null, policyBundleSignedMessage(bytes), privateKey), keyId: signer.keyId };
}
