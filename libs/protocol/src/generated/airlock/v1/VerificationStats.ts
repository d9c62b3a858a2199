// Original file: proto/airlock/v1/worker_gateway.proto


export interface VerificationStats {
  'testsRan'?: (boolean);
  'testExitCode'?: (number);
}

export interface VerificationStats__Output {
  'testsRan': (boolean);
  'testExitCode': (number);
}
