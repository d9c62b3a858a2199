// Original file: proto/airlock/v1/worker_gateway.proto


export interface TokenUsage {
  'requests'?: (number);
  'promptTokens'?: (number);
  'completionTokens'?: (number);
}

export interface TokenUsage__Output {
  'requests': (number);
  'promptTokens': (number);
  'completionTokens': (number);
}
