// Original file: proto/airlock/v1/worker_gateway.proto

import type { AttemptRef as _airlock_v1_AttemptRef, AttemptRef__Output as _airlock_v1_AttemptRef__Output } from '../../airlock/v1/AttemptRef';
import type { FailureCode as _airlock_v1_FailureCode, FailureCode__Output as _airlock_v1_FailureCode__Output } from '../../airlock/v1/FailureCode';

export interface InstructionRejected {
  'attempt'?: (_airlock_v1_AttemptRef | null);
  'failureCode'?: (_airlock_v1_FailureCode);
}

export interface InstructionRejected__Output {
  'attempt': (_airlock_v1_AttemptRef__Output | null);
  'failureCode': (_airlock_v1_FailureCode__Output);
}
