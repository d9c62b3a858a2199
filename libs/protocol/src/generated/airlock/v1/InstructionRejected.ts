// Original file: proto/airlock/v1/worker_gateway.proto

import type { AttemptRef as _airlock_v1_AttemptRef, AttemptRef__Output as _airlock_v1_AttemptRef__Output } from '../../airlock/v1/AttemptRef';
import type { FailureCode as _airlock_v1_FailureCode, FailureCode__Output as _airlock_v1_FailureCode__Output } from '../../airlock/v1/FailureCode';
import type { PolicyRule as _airlock_v1_PolicyRule, PolicyRule__Output as _airlock_v1_PolicyRule__Output } from '../../airlock/v1/PolicyRule';

export interface InstructionRejected {
  'attempt'?: (_airlock_v1_AttemptRef | null);
  'failureCode'?: (_airlock_v1_FailureCode);
  'rules'?: (_airlock_v1_PolicyRule)[];
}

export interface InstructionRejected__Output {
  'attempt': (_airlock_v1_AttemptRef__Output | null);
  'failureCode': (_airlock_v1_FailureCode__Output);
  'rules': (_airlock_v1_PolicyRule__Output)[];
}
