// Original file: proto/airlock/v1/worker_gateway.proto


export interface Ticket {
  'title'?: (string);
  'description'?: (string);
}

export interface Ticket__Output {
  'title': (string);
  'description': (string);
}
