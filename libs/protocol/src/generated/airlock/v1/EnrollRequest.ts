// Original file: proto/airlock/v1/worker_gateway.proto


export interface EnrollRequest {
  'enrollmentToken'?: (string);
  'workerPublicKey'?: (Buffer | Uint8Array | string);
  'workerVersion'?: (string);
  'tlsPublicKey'?: (Buffer | Uint8Array | string);
}

export interface EnrollRequest__Output {
  'enrollmentToken': (string);
  'workerPublicKey': (Buffer);
  'workerVersion': (string);
  'tlsPublicKey': (Buffer);
}
