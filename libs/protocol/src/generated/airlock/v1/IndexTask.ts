// Original file: proto/airlock/v1/worker_gateway.proto


export interface IndexTask {
  'repoAlias'?: (string);
  'ref'?: (string);
}

export interface IndexTask__Output {
  'repoAlias': (string);
  'ref': (string);
}
