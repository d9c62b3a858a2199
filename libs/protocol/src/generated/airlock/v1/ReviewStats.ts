// Original file: proto/airlock/v1/worker_gateway.proto


export interface ReviewStats {
  'critical'?: (number);
  'major'?: (number);
  'minor'?: (number);
  'info'?: (number);
  'dropped'?: (number);
}

export interface ReviewStats__Output {
  'critical': (number);
  'major': (number);
  'minor': (number);
  'info': (number);
  'dropped': (number);
}
