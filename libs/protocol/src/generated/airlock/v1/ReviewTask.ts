// Original file: proto/airlock/v1/worker_gateway.proto


export interface ReviewTask {
  'repoAlias'?: (string);
  'mergeRequest'?: (number);
  'branch'?: (string);
  'target'?: "mergeRequest"|"branch";
}

export interface ReviewTask__Output {
  'repoAlias': (string);
  'mergeRequest'?: (number);
  'branch'?: (string);
  'target'?: "mergeRequest"|"branch";
}
