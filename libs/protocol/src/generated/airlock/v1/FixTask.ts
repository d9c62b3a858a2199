// Original file: proto/airlock/v1/worker_gateway.proto

import type { Ticket as _airlock_v1_Ticket, Ticket__Output as _airlock_v1_Ticket__Output } from '../../airlock/v1/Ticket';

export interface FixTask {
  'repoAlias'?: (string);
  'baseRef'?: (string);
  'ticket'?: (_airlock_v1_Ticket | null);
  'deliveryJobId'?: (string);
  'deliveryGeneration'?: (number);
  'ticketRef'?: (string);
}

export interface FixTask__Output {
  'repoAlias': (string);
  'baseRef': (string);
  'ticket': (_airlock_v1_Ticket__Output | null);
  'deliveryJobId': (string);
  'deliveryGeneration': (number);
  'ticketRef': (string);
}
