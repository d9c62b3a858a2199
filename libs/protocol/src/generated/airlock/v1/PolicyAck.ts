// Original file: proto/airlock/v1/worker_gateway.proto

import type { PolicyAckStatus as _airlock_v1_PolicyAckStatus, PolicyAckStatus__Output as _airlock_v1_PolicyAckStatus__Output } from '../../airlock/v1/PolicyAckStatus';
import type { FailureCode as _airlock_v1_FailureCode, FailureCode__Output as _airlock_v1_FailureCode__Output } from '../../airlock/v1/FailureCode';
import type { PolicyRule as _airlock_v1_PolicyRule, PolicyRule__Output as _airlock_v1_PolicyRule__Output } from '../../airlock/v1/PolicyRule';

export interface PolicyAck {
  'revision'?: (number);
  'status'?: (_airlock_v1_PolicyAckStatus);
  'failureCode'?: (_airlock_v1_FailureCode);
  'narrowed'?: (_airlock_v1_PolicyRule)[];
}

export interface PolicyAck__Output {
  'revision': (number);
  'status': (_airlock_v1_PolicyAckStatus__Output);
  'failureCode': (_airlock_v1_FailureCode__Output);
  'narrowed': (_airlock_v1_PolicyRule__Output)[];
}
