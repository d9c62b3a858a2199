import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AttemptRef as _airlock_v1_AttemptRef, AttemptRef__Output as _airlock_v1_AttemptRef__Output } from './airlock/v1/AttemptRef';
import type { Cancel as _airlock_v1_Cancel, Cancel__Output as _airlock_v1_Cancel__Output } from './airlock/v1/Cancel';
import type { Challenge as _airlock_v1_Challenge, Challenge__Output as _airlock_v1_Challenge__Output } from './airlock/v1/Challenge';
import type { ChangeStats as _airlock_v1_ChangeStats, ChangeStats__Output as _airlock_v1_ChangeStats__Output } from './airlock/v1/ChangeStats';
import type { ControlFrame as _airlock_v1_ControlFrame, ControlFrame__Output as _airlock_v1_ControlFrame__Output } from './airlock/v1/ControlFrame';
import type { CreditGrant as _airlock_v1_CreditGrant, CreditGrant__Output as _airlock_v1_CreditGrant__Output } from './airlock/v1/CreditGrant';
import type { DeliveryOutcome as _airlock_v1_DeliveryOutcome, DeliveryOutcome__Output as _airlock_v1_DeliveryOutcome__Output } from './airlock/v1/DeliveryOutcome';
import type { Drain as _airlock_v1_Drain, Drain__Output as _airlock_v1_Drain__Output } from './airlock/v1/Drain';
import type { EnrollRequest as _airlock_v1_EnrollRequest, EnrollRequest__Output as _airlock_v1_EnrollRequest__Output } from './airlock/v1/EnrollRequest';
import type { EnrollResponse as _airlock_v1_EnrollResponse, EnrollResponse__Output as _airlock_v1_EnrollResponse__Output } from './airlock/v1/EnrollResponse';
import type { FixTask as _airlock_v1_FixTask, FixTask__Output as _airlock_v1_FixTask__Output } from './airlock/v1/FixTask';
import type { FrameSignature as _airlock_v1_FrameSignature, FrameSignature__Output as _airlock_v1_FrameSignature__Output } from './airlock/v1/FrameSignature';
import type { Heartbeat as _airlock_v1_Heartbeat, Heartbeat__Output as _airlock_v1_Heartbeat__Output } from './airlock/v1/Heartbeat';
import type { Hello as _airlock_v1_Hello, Hello__Output as _airlock_v1_Hello__Output } from './airlock/v1/Hello';
import type { IndexTask as _airlock_v1_IndexTask, IndexTask__Output as _airlock_v1_IndexTask__Output } from './airlock/v1/IndexTask';
import type { InstructionAck as _airlock_v1_InstructionAck, InstructionAck__Output as _airlock_v1_InstructionAck__Output } from './airlock/v1/InstructionAck';
import type { InstructionPayload as _airlock_v1_InstructionPayload, InstructionPayload__Output as _airlock_v1_InstructionPayload__Output } from './airlock/v1/InstructionPayload';
import type { InstructionRejected as _airlock_v1_InstructionRejected, InstructionRejected__Output as _airlock_v1_InstructionRejected__Output } from './airlock/v1/InstructionRejected';
import type { JobResult as _airlock_v1_JobResult, JobResult__Output as _airlock_v1_JobResult__Output } from './airlock/v1/JobResult';
import type { LeaseRenewal as _airlock_v1_LeaseRenewal, LeaseRenewal__Output as _airlock_v1_LeaseRenewal__Output } from './airlock/v1/LeaseRenewal';
import type { ModelUsage as _airlock_v1_ModelUsage, ModelUsage__Output as _airlock_v1_ModelUsage__Output } from './airlock/v1/ModelUsage';
import type { NoopTask as _airlock_v1_NoopTask, NoopTask__Output as _airlock_v1_NoopTask__Output } from './airlock/v1/NoopTask';
import type { PhaseDuration as _airlock_v1_PhaseDuration, PhaseDuration__Output as _airlock_v1_PhaseDuration__Output } from './airlock/v1/PhaseDuration';
import type { PolicyAck as _airlock_v1_PolicyAck, PolicyAck__Output as _airlock_v1_PolicyAck__Output } from './airlock/v1/PolicyAck';
import type { PolicyBundlePayload as _airlock_v1_PolicyBundlePayload, PolicyBundlePayload__Output as _airlock_v1_PolicyBundlePayload__Output } from './airlock/v1/PolicyBundlePayload';
import type { PolicyReport as _airlock_v1_PolicyReport, PolicyReport__Output as _airlock_v1_PolicyReport__Output } from './airlock/v1/PolicyReport';
import type { ProgressEvent as _airlock_v1_ProgressEvent, ProgressEvent__Output as _airlock_v1_ProgressEvent__Output } from './airlock/v1/ProgressEvent';
import type { ResultAck as _airlock_v1_ResultAck, ResultAck__Output as _airlock_v1_ResultAck__Output } from './airlock/v1/ResultAck';
import type { ReviewStats as _airlock_v1_ReviewStats, ReviewStats__Output as _airlock_v1_ReviewStats__Output } from './airlock/v1/ReviewStats';
import type { ReviewTask as _airlock_v1_ReviewTask, ReviewTask__Output as _airlock_v1_ReviewTask__Output } from './airlock/v1/ReviewTask';
import type { RuleDecision as _airlock_v1_RuleDecision, RuleDecision__Output as _airlock_v1_RuleDecision__Output } from './airlock/v1/RuleDecision';
import type { SignedInstruction as _airlock_v1_SignedInstruction, SignedInstruction__Output as _airlock_v1_SignedInstruction__Output } from './airlock/v1/SignedInstruction';
import type { SignedPolicyBundle as _airlock_v1_SignedPolicyBundle, SignedPolicyBundle__Output as _airlock_v1_SignedPolicyBundle__Output } from './airlock/v1/SignedPolicyBundle';
import type { SigningPublicKey as _airlock_v1_SigningPublicKey, SigningPublicKey__Output as _airlock_v1_SigningPublicKey__Output } from './airlock/v1/SigningPublicKey';
import type { Ticket as _airlock_v1_Ticket, Ticket__Output as _airlock_v1_Ticket__Output } from './airlock/v1/Ticket';
import type { TokenUsage as _airlock_v1_TokenUsage, TokenUsage__Output as _airlock_v1_TokenUsage__Output } from './airlock/v1/TokenUsage';
import type { VerificationStats as _airlock_v1_VerificationStats, VerificationStats__Output as _airlock_v1_VerificationStats__Output } from './airlock/v1/VerificationStats';
import type { VersionNotice as _airlock_v1_VersionNotice, VersionNotice__Output as _airlock_v1_VersionNotice__Output } from './airlock/v1/VersionNotice';
import type { Welcome as _airlock_v1_Welcome, Welcome__Output as _airlock_v1_Welcome__Output } from './airlock/v1/Welcome';
import type { WorkerFrame as _airlock_v1_WorkerFrame, WorkerFrame__Output as _airlock_v1_WorkerFrame__Output } from './airlock/v1/WorkerFrame';
import type { WorkerGatewayClient as _airlock_v1_WorkerGatewayClient, WorkerGatewayDefinition as _airlock_v1_WorkerGatewayDefinition } from './airlock/v1/WorkerGateway';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  airlock: {
    v1: {
      AttemptRef: MessageTypeDefinition<_airlock_v1_AttemptRef, _airlock_v1_AttemptRef__Output>
      Cancel: MessageTypeDefinition<_airlock_v1_Cancel, _airlock_v1_Cancel__Output>
      Challenge: MessageTypeDefinition<_airlock_v1_Challenge, _airlock_v1_Challenge__Output>
      ChangeStats: MessageTypeDefinition<_airlock_v1_ChangeStats, _airlock_v1_ChangeStats__Output>
      ControlFrame: MessageTypeDefinition<_airlock_v1_ControlFrame, _airlock_v1_ControlFrame__Output>
      CreditGrant: MessageTypeDefinition<_airlock_v1_CreditGrant, _airlock_v1_CreditGrant__Output>
      Delivery: EnumTypeDefinition
      DeliveryOutcome: MessageTypeDefinition<_airlock_v1_DeliveryOutcome, _airlock_v1_DeliveryOutcome__Output>
      Drain: MessageTypeDefinition<_airlock_v1_Drain, _airlock_v1_Drain__Output>
      EnrollRequest: MessageTypeDefinition<_airlock_v1_EnrollRequest, _airlock_v1_EnrollRequest__Output>
      EnrollResponse: MessageTypeDefinition<_airlock_v1_EnrollResponse, _airlock_v1_EnrollResponse__Output>
      FailureCode: EnumTypeDefinition
      FixTask: MessageTypeDefinition<_airlock_v1_FixTask, _airlock_v1_FixTask__Output>
      FrameSignature: MessageTypeDefinition<_airlock_v1_FrameSignature, _airlock_v1_FrameSignature__Output>
      Heartbeat: MessageTypeDefinition<_airlock_v1_Heartbeat, _airlock_v1_Heartbeat__Output>
      Hello: MessageTypeDefinition<_airlock_v1_Hello, _airlock_v1_Hello__Output>
      IndexTask: MessageTypeDefinition<_airlock_v1_IndexTask, _airlock_v1_IndexTask__Output>
      InstructionAck: MessageTypeDefinition<_airlock_v1_InstructionAck, _airlock_v1_InstructionAck__Output>
      InstructionPayload: MessageTypeDefinition<_airlock_v1_InstructionPayload, _airlock_v1_InstructionPayload__Output>
      InstructionRejected: MessageTypeDefinition<_airlock_v1_InstructionRejected, _airlock_v1_InstructionRejected__Output>
      JobOutcome: EnumTypeDefinition
      JobResult: MessageTypeDefinition<_airlock_v1_JobResult, _airlock_v1_JobResult__Output>
      LeaseRenewal: MessageTypeDefinition<_airlock_v1_LeaseRenewal, _airlock_v1_LeaseRenewal__Output>
      MergeRequestState: EnumTypeDefinition
      MetadataLevel: EnumTypeDefinition
      ModelUsage: MessageTypeDefinition<_airlock_v1_ModelUsage, _airlock_v1_ModelUsage__Output>
      NoopTask: MessageTypeDefinition<_airlock_v1_NoopTask, _airlock_v1_NoopTask__Output>
      Phase: EnumTypeDefinition
      PhaseDuration: MessageTypeDefinition<_airlock_v1_PhaseDuration, _airlock_v1_PhaseDuration__Output>
      PhaseState: EnumTypeDefinition
      PolicyAck: MessageTypeDefinition<_airlock_v1_PolicyAck, _airlock_v1_PolicyAck__Output>
      PolicyAckStatus: EnumTypeDefinition
      PolicyBundlePayload: MessageTypeDefinition<_airlock_v1_PolicyBundlePayload, _airlock_v1_PolicyBundlePayload__Output>
      PolicyReport: MessageTypeDefinition<_airlock_v1_PolicyReport, _airlock_v1_PolicyReport__Output>
      PolicyRule: EnumTypeDefinition
      ProgressEvent: MessageTypeDefinition<_airlock_v1_ProgressEvent, _airlock_v1_ProgressEvent__Output>
      ResultAck: MessageTypeDefinition<_airlock_v1_ResultAck, _airlock_v1_ResultAck__Output>
      ResultDisposition: EnumTypeDefinition
      ReviewStats: MessageTypeDefinition<_airlock_v1_ReviewStats, _airlock_v1_ReviewStats__Output>
      ReviewTask: MessageTypeDefinition<_airlock_v1_ReviewTask, _airlock_v1_ReviewTask__Output>
      RuleDecision: MessageTypeDefinition<_airlock_v1_RuleDecision, _airlock_v1_RuleDecision__Output>
      RuleLevel: EnumTypeDefinition
      RuleOutcome: EnumTypeDefinition
      SignedInstruction: MessageTypeDefinition<_airlock_v1_SignedInstruction, _airlock_v1_SignedInstruction__Output>
      SignedPolicyBundle: MessageTypeDefinition<_airlock_v1_SignedPolicyBundle, _airlock_v1_SignedPolicyBundle__Output>
      SigningPublicKey: MessageTypeDefinition<_airlock_v1_SigningPublicKey, _airlock_v1_SigningPublicKey__Output>
      Ticket: MessageTypeDefinition<_airlock_v1_Ticket, _airlock_v1_Ticket__Output>
      TokenUsage: MessageTypeDefinition<_airlock_v1_TokenUsage, _airlock_v1_TokenUsage__Output>
      VerificationStats: MessageTypeDefinition<_airlock_v1_VerificationStats, _airlock_v1_VerificationStats__Output>
      VersionNotice: MessageTypeDefinition<_airlock_v1_VersionNotice, _airlock_v1_VersionNotice__Output>
      VersionStatus: EnumTypeDefinition
      Welcome: MessageTypeDefinition<_airlock_v1_Welcome, _airlock_v1_Welcome__Output>
      WorkerFrame: MessageTypeDefinition<_airlock_v1_WorkerFrame, _airlock_v1_WorkerFrame__Output>
      WorkerGateway: SubtypeConstructor<typeof grpc.Client, _airlock_v1_WorkerGatewayClient> & { service: _airlock_v1_WorkerGatewayDefinition }
    }
  }
}

