// Original file: proto/airlock/v1/worker_gateway.proto

import type { AttemptRef as _airlock_v1_AttemptRef, AttemptRef__Output as _airlock_v1_AttemptRef__Output } from '../../airlock/v1/AttemptRef';

export interface LeaseRenewal {
  'heartbeatSeq'?: (number);
  'renewed'?: (_airlock_v1_AttemptRef)[];
}

export interface LeaseRenewal__Output {
  'heartbeatSeq': (number);
  'renewed': (_airlock_v1_AttemptRef__Output)[];
}
