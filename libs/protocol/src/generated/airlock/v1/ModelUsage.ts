// Original file: proto/airlock/v1/worker_gateway.proto


export interface ModelUsage {
  'endpointIndex'?: (number);
  'endpoint'?: (string);
  'model'?: (string);
  'requests'?: (number);
  'promptTokens'?: (number);
  'completionTokens'?: (number);
}

export interface ModelUsage__Output {
  'endpointIndex': (number);
  'endpoint': (string);
  'model': (string);
  'requests': (number);
  'promptTokens': (number);
  'completionTokens': (number);
}
