// Original file: proto/airlock/v1/worker_gateway.proto


export interface SignedPolicyBundle {
  'payload'?: (Buffer | Uint8Array | string);
  'signature'?: (Buffer | Uint8Array | string);
  'keyId'?: (string);
}

export interface SignedPolicyBundle__Output {
  'payload': (Buffer);
  'signature': (Buffer);
  'keyId': (string);
}
