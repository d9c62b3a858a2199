// Original file: proto/airlock/v1/worker_gateway.proto


export interface Welcome {
  'heartbeatIntervalMs'?: (number);
  'leaseTtlMs'?: (number);
}

export interface Welcome__Output {
  'heartbeatIntervalMs': (number);
  'leaseTtlMs': (number);
}
