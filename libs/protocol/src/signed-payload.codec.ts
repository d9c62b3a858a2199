import * as protobuf from 'protobufjs';
import { PROTO_LOADER_OPTIONS } from './loader-options';
import { WORKER_GATEWAY_PROTO, protoIncludeRoot } from './proto-files';

/** Encodes and decodes one kind of signed payload: the bytes a control-plane signature covers. */
export interface SignedPayloadCodec<Input, Output> {
  encode(payload: Input): Buffer;
  decode(bytes: Uint8Array): Output;
}

let airlockRoot: protobuf.Root | undefined;

function lookupType(typeName: string): protobuf.Type {
  if (!airlockRoot) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => `${protoIncludeRoot()}/${target}`;
    root.loadSync(WORKER_GATEWAY_PROTO, { keepCase: PROTO_LOADER_OPTIONS.keepCase });
    airlockRoot = root;
  }
  return airlockRoot.lookupType(typeName);
}

/**
 * A codec for the signed payload message `typeName`. Encoding produces the bytes that are
 * signed and verified: the signature covers them exactly, with no canonicalisation in
 * between. Decoding refuses more than `maxBytes` before parsing, and uses the same
 * conventions as the gRPC loader so the decoded object has the generated `__Output` type.
 * Every problem is raised as `toError(message)`; the message never quotes the bytes.
 */
export function signedPayloadCodec<Input, Output>(
  typeName: string,
  description: string,
  maxBytes: number,
  toError: (message: string) => Error,
): SignedPayloadCodec<Input, Output> {
  let type: protobuf.Type | undefined;
  // The proto file is read on first use, not when a module that defines a codec is imported.
  const payloadType = (): protobuf.Type => (type ??= lookupType(typeName));
  return {
    encode(payload: Input): Buffer {
      const message = payload as unknown as Record<string, unknown>;
      const problem = payloadType().verify(message);
      if (problem) throw toError(`invalid ${description}: ${problem}`);
      try {
        return Buffer.from(payloadType().encode(payloadType().fromObject(message)).finish());
      } catch (error) {
        // verify() lets a string stand for a bytes field; fromObject then decodes it as
        // base64 and throws its own error when it is not.
        throw toError(`invalid ${description}: ${(error as Error).message}`);
      }
    },
    decode(bytes: Uint8Array): Output {
      if (bytes.length > maxBytes) throw toError(`${description} is ${bytes.length} bytes; at most ${maxBytes} allowed`);
      let message: protobuf.Message;
      try {
        message = payloadType().decode(bytes);
      } catch (error) {
        throw toError(`${description} does not decode: ${(error as Error).message}`);
      }
      return payloadType().toObject(message, {
        longs: Number,
        enums: String,
        bytes: Buffer,
        defaults: PROTO_LOADER_OPTIONS.defaults,
        arrays: PROTO_LOADER_OPTIONS.arrays,
        oneofs: PROTO_LOADER_OPTIONS.oneofs,
      }) as Output;
    },
  };
}
