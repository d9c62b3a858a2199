// Original file: proto/airlock/v1/worker_gateway.proto


export interface SignedInstruction {
  'payload'?: (Buffer | Uint8Array | string);
  'signature'?: (Buffer | Uint8Array | string);
  'keyId'?: (string);
}

export interface SignedInstruction__Output {
  'payload': (Buffer);
  'signature': (Buffer);
  'keyId': (string);
}
