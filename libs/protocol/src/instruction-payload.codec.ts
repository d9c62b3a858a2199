import * as protobuf from 'protobufjs';
import { PROTO_LOADER_OPTIONS } from './loader-options';
import { WORKER_GATEWAY_PROTO, protoIncludeRoot } from './proto-files';
import { WIRE_LIMITS } from './limits';
import type {
  InstructionPayload,
  InstructionPayload__Output,
} from './generated/airlock/v1/InstructionPayload';

let payloadType: protobuf.Type | undefined;

function instructionPayloadType(): protobuf.Type {
  if (!payloadType) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => `${protoIncludeRoot()}/${target}`;
    root.loadSync(WORKER_GATEWAY_PROTO, { keepCase: PROTO_LOADER_OPTIONS.keepCase });
    payloadType = root.lookupType('airlock.v1.InstructionPayload');
  }
  return payloadType;
}

/** Raised when signed payload bytes do not decode to a well-formed InstructionPayload. */
export class InstructionPayloadDecodeError extends Error {
  override readonly name = 'InstructionPayloadDecodeError';
}

/**
 * Encodes the payload that the control plane signs. The bytes produced here are the bytes
 * signed and the bytes verified: the signature covers them exactly, with no
 * canonicalisation in between.
 */
export function encodeInstructionPayload(payload: InstructionPayload): Buffer {
  const type = instructionPayloadType();
  const problem = type.verify(payload);
  if (problem) throw new InstructionPayloadDecodeError(`invalid instruction payload: ${problem}`);
  return Buffer.from(type.encode(type.fromObject(payload)).finish());
}

/** Decodes payload bytes with the same conventions as the gRPC loader. */
export function decodeInstructionPayload(bytes: Uint8Array): InstructionPayload__Output {
  if (bytes.length > WIRE_LIMITS.maxInstructionPayloadBytes) {
    throw new InstructionPayloadDecodeError(
      `instruction payload is ${bytes.length} bytes; at most ${WIRE_LIMITS.maxInstructionPayloadBytes} allowed`,
    );
  }
  const type = instructionPayloadType();
  let message: protobuf.Message;
  try {
    message = type.decode(bytes);
  } catch (error) {
    throw new InstructionPayloadDecodeError(`instruction payload does not decode: ${(error as Error).message}`);
  }
  return type.toObject(message, {
    longs: Number,
    enums: String,
    bytes: Buffer,
    defaults: PROTO_LOADER_OPTIONS.defaults,
    arrays: PROTO_LOADER_OPTIONS.arrays,
    oneofs: PROTO_LOADER_OPTIONS.oneofs,
  }) as InstructionPayload__Output;
}
