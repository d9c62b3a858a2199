// Original file: proto/airlock/v1/worker_gateway.proto


export interface AttemptRef {
  'jobId'?: (string);
  'attempt'?: (number);
}

export interface AttemptRef__Output {
  'jobId': (string);
  'attempt': (number);
}
