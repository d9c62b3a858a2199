// Original file: proto/airlock/v1/worker_gateway.proto

import type { Challenge as _airlock_v1_Challenge, Challenge__Output as _airlock_v1_Challenge__Output } from '../../airlock/v1/Challenge';
import type { Welcome as _airlock_v1_Welcome, Welcome__Output as _airlock_v1_Welcome__Output } from '../../airlock/v1/Welcome';
import type { SignedInstruction as _airlock_v1_SignedInstruction, SignedInstruction__Output as _airlock_v1_SignedInstruction__Output } from '../../airlock/v1/SignedInstruction';
import type { Cancel as _airlock_v1_Cancel, Cancel__Output as _airlock_v1_Cancel__Output } from '../../airlock/v1/Cancel';
import type { ResultAck as _airlock_v1_ResultAck, ResultAck__Output as _airlock_v1_ResultAck__Output } from '../../airlock/v1/ResultAck';
import type { Drain as _airlock_v1_Drain, Drain__Output as _airlock_v1_Drain__Output } from '../../airlock/v1/Drain';
import type { LeaseRenewal as _airlock_v1_LeaseRenewal, LeaseRenewal__Output as _airlock_v1_LeaseRenewal__Output } from '../../airlock/v1/LeaseRenewal';
import type { SignedPolicyBundle as _airlock_v1_SignedPolicyBundle, SignedPolicyBundle__Output as _airlock_v1_SignedPolicyBundle__Output } from '../../airlock/v1/SignedPolicyBundle';

export interface ControlFrame {
  'challenge'?: (_airlock_v1_Challenge | null);
  'welcome'?: (_airlock_v1_Welcome | null);
  'instruction'?: (_airlock_v1_SignedInstruction | null);
  'cancel'?: (_airlock_v1_Cancel | null);
  'resultAck'?: (_airlock_v1_ResultAck | null);
  'drain'?: (_airlock_v1_Drain | null);
  'leaseRenewal'?: (_airlock_v1_LeaseRenewal | null);
  'policyBundle'?: (_airlock_v1_SignedPolicyBundle | null);
  'frame'?: "challenge"|"welcome"|"instruction"|"cancel"|"resultAck"|"drain"|"leaseRenewal"|"policyBundle";
}

export interface ControlFrame__Output {
  'challenge'?: (_airlock_v1_Challenge__Output | null);
  'welcome'?: (_airlock_v1_Welcome__Output | null);
  'instruction'?: (_airlock_v1_SignedInstruction__Output | null);
  'cancel'?: (_airlock_v1_Cancel__Output | null);
  'resultAck'?: (_airlock_v1_ResultAck__Output | null);
  'drain'?: (_airlock_v1_Drain__Output | null);
  'leaseRenewal'?: (_airlock_v1_LeaseRenewal__Output | null);
  'policyBundle'?: (_airlock_v1_SignedPolicyBundle__Output | null);
  'frame'?: "challenge"|"welcome"|"instruction"|"cancel"|"resultAck"|"drain"|"leaseRenewal"|"policyBundle";
}
