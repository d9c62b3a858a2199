// Original file: proto/airlock/v1/worker_gateway.proto


export interface ChangeStats {
  'filesChanged'?: (number);
  'linesAdded'?: (number);
  'linesRemoved'?: (number);
  'editsProposed'?: (number);
  'editsApplied'?: (number);
}

export interface ChangeStats__Output {
  'filesChanged': (number);
  'linesAdded': (number);
  'linesRemoved': (number);
  'editsProposed': (number);
  'editsApplied': (number);
}
