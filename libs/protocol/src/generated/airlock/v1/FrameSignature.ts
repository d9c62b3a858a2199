// Original file: proto/airlock/v1/worker_gateway.proto


export interface FrameSignature {
  'keyId'?: (string);
  'signature'?: (Buffer | Uint8Array | string);
}

export interface FrameSignature__Output {
  'keyId': (string);
  'signature': (Buffer);
}
