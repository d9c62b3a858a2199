// Original file: proto/airlock/v1/worker_gateway.proto

import type { AttemptRef as _airlock_v1_AttemptRef, AttemptRef__Output as _airlock_v1_AttemptRef__Output } from '../../airlock/v1/AttemptRef';
import type { Long } from '@grpc/proto-loader';

export interface Heartbeat {
  'running'?: (_airlock_v1_AttemptRef)[];
  'freeSlots'?: (number);
  'seq'?: (number);
  'ledgerSeq'?: (number | string | Long);
  'ledgerHead'?: (Buffer | Uint8Array | string);
}

export interface Heartbeat__Output {
  'running': (_airlock_v1_AttemptRef__Output)[];
  'freeSlots': (number);
  'seq': (number);
  'ledgerSeq': (number);
  'ledgerHead': (Buffer);
}
