import { WIRE_LIMITS } from './limits';
import { signedPayloadCodec } from './signed-payload.codec';
import type {
  PolicyBundlePayload,
  PolicyBundlePayload__Output,
} from './generated/airlock/v1/PolicyBundlePayload';

/** Raised when signed bundle bytes do not decode to a well-formed PolicyBundlePayload. */
export class PolicyBundlePayloadDecodeError extends Error {
  override readonly name = 'PolicyBundlePayloadDecodeError';
}

const codec = signedPayloadCodec<PolicyBundlePayload, PolicyBundlePayload__Output>(
  'airlock.v1.PolicyBundlePayload',
  'policy bundle payload',
  WIRE_LIMITS.maxPolicyBundlePayloadBytes,
  (message) => new PolicyBundlePayloadDecodeError(message),
);

/** Encodes the bundle payload the control plane signs; the signature covers these exact bytes. */
export function encodePolicyBundlePayload(payload: PolicyBundlePayload): Buffer {
  return codec.encode(payload);
}

/** Decodes bundle payload bytes with the same conventions as the gRPC loader. */
export function decodePolicyBundlePayload(bytes: Uint8Array): PolicyBundlePayload__Output {
  return codec.decode(bytes);
}
