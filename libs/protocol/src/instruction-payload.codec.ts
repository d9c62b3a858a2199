import { WIRE_LIMITS } from './limits';
import { signedPayloadCodec } from './signed-payload.codec';
import type {
  InstructionPayload,
  InstructionPayload__Output,
} from './generated/airlock/v1/InstructionPayload';

/** Raised when signed payload bytes do not decode to a well-formed InstructionPayload. */
export class InstructionPayloadDecodeError extends Error {
  override readonly name = 'InstructionPayloadDecodeError';
}

const codec = signedPayloadCodec<InstructionPayload, InstructionPayload__Output>(
  'airlock.v1.InstructionPayload',
  'instruction payload',
  WIRE_LIMITS.maxInstructionPayloadBytes,
  (message) => new InstructionPayloadDecodeError(message),
);

/**
 * Encodes the payload that the control plane signs. The bytes produced here are the bytes
 * signed and the bytes verified: the signature covers them exactly, with no
 * canonicalisation in between.
 */
export function encodeInstructionPayload(payload: InstructionPayload): Buffer {
  return codec.encode(payload);
}

/** Decodes payload bytes with the same conventions as the gRPC loader. */
export function decodeInstructionPayload(bytes: Uint8Array): InstructionPayload__Output {
  return codec.decode(bytes);
}
