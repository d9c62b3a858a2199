// Original file: proto/airlock/v1/worker_gateway.proto

import type { AttemptRef as _airlock_v1_AttemptRef, AttemptRef__Output as _airlock_v1_AttemptRef__Output } from '../../airlock/v1/AttemptRef';

export interface InstructionAck {
  'attempt'?: (_airlock_v1_AttemptRef | null);
}

export interface InstructionAck__Output {
  'attempt': (_airlock_v1_AttemptRef__Output | null);
}
