// Original file: proto/airlock/v1/worker_gateway.proto

import type { AttemptRef as _airlock_v1_AttemptRef, AttemptRef__Output as _airlock_v1_AttemptRef__Output } from '../../airlock/v1/AttemptRef';

export interface Cancel {
  'attempt'?: (_airlock_v1_AttemptRef | null);
}

export interface Cancel__Output {
  'attempt': (_airlock_v1_AttemptRef__Output | null);
}
