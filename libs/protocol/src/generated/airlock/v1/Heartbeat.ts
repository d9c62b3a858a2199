// Original file: proto/airlock/v1/worker_gateway.proto

import type { AttemptRef as _airlock_v1_AttemptRef, AttemptRef__Output as _airlock_v1_AttemptRef__Output } from '../../airlock/v1/AttemptRef';

export interface Heartbeat {
  'running'?: (_airlock_v1_AttemptRef)[];
  'freeSlots'?: (number);
  'seq'?: (number);
}

export interface Heartbeat__Output {
  'running': (_airlock_v1_AttemptRef__Output)[];
  'freeSlots': (number);
  'seq': (number);
}
