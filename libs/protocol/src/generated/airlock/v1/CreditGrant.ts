// Original file: proto/airlock/v1/worker_gateway.proto


export interface CreditGrant {
  'credits'?: (number);
}

export interface CreditGrant__Output {
  'credits': (number);
}
