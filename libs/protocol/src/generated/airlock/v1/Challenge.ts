// Original file: proto/airlock/v1/worker_gateway.proto


export interface Challenge {
  'nonce'?: (Buffer | Uint8Array | string);
}

export interface Challenge__Output {
  'nonce': (Buffer);
}
