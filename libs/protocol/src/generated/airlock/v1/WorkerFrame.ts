// Original file: proto/airlock/v1/worker_gateway.proto

import type { Hello as _airlock_v1_Hello, Hello__Output as _airlock_v1_Hello__Output } from '../../airlock/v1/Hello';
import type { CreditGrant as _airlock_v1_CreditGrant, CreditGrant__Output as _airlock_v1_CreditGrant__Output } from '../../airlock/v1/CreditGrant';
import type { InstructionAck as _airlock_v1_InstructionAck, InstructionAck__Output as _airlock_v1_InstructionAck__Output } from '../../airlock/v1/InstructionAck';
import type { InstructionRejected as _airlock_v1_InstructionRejected, InstructionRejected__Output as _airlock_v1_InstructionRejected__Output } from '../../airlock/v1/InstructionRejected';
import type { ProgressEvent as _airlock_v1_ProgressEvent, ProgressEvent__Output as _airlock_v1_ProgressEvent__Output } from '../../airlock/v1/ProgressEvent';
import type { Heartbeat as _airlock_v1_Heartbeat, Heartbeat__Output as _airlock_v1_Heartbeat__Output } from '../../airlock/v1/Heartbeat';
import type { JobResult as _airlock_v1_JobResult, JobResult__Output as _airlock_v1_JobResult__Output } from '../../airlock/v1/JobResult';
import type { PolicyAck as _airlock_v1_PolicyAck, PolicyAck__Output as _airlock_v1_PolicyAck__Output } from '../../airlock/v1/PolicyAck';
import type { DeliveryOutcome as _airlock_v1_DeliveryOutcome, DeliveryOutcome__Output as _airlock_v1_DeliveryOutcome__Output } from '../../airlock/v1/DeliveryOutcome';

export interface WorkerFrame {
  'hello'?: (_airlock_v1_Hello | null);
  'credit'?: (_airlock_v1_CreditGrant | null);
  'ack'?: (_airlock_v1_InstructionAck | null);
  'rejected'?: (_airlock_v1_InstructionRejected | null);
  'progress'?: (_airlock_v1_ProgressEvent | null);
  'heartbeat'?: (_airlock_v1_Heartbeat | null);
  'result'?: (_airlock_v1_JobResult | null);
  'policyAck'?: (_airlock_v1_PolicyAck | null);
  'deliveryOutcome'?: (_airlock_v1_DeliveryOutcome | null);
  'frame'?: "hello"|"credit"|"ack"|"rejected"|"progress"|"heartbeat"|"result"|"policyAck"|"deliveryOutcome";
}

export interface WorkerFrame__Output {
  'hello'?: (_airlock_v1_Hello__Output | null);
  'credit'?: (_airlock_v1_CreditGrant__Output | null);
  'ack'?: (_airlock_v1_InstructionAck__Output | null);
  'rejected'?: (_airlock_v1_InstructionRejected__Output | null);
  'progress'?: (_airlock_v1_ProgressEvent__Output | null);
  'heartbeat'?: (_airlock_v1_Heartbeat__Output | null);
  'result'?: (_airlock_v1_JobResult__Output | null);
  'policyAck'?: (_airlock_v1_PolicyAck__Output | null);
  'deliveryOutcome'?: (_airlock_v1_DeliveryOutcome__Output | null);
  'frame'?: "hello"|"credit"|"ack"|"rejected"|"progress"|"heartbeat"|"result"|"policyAck"|"deliveryOutcome";
}
