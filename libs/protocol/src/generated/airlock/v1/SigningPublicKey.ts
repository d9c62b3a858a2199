// Original file: proto/airlock/v1/worker_gateway.proto


export interface SigningPublicKey {
  'keyId'?: (string);
  'publicKey'?: (Buffer | Uint8Array | string);
}

export interface SigningPublicKey__Output {
  'keyId': (string);
  'publicKey': (Buffer);
}
