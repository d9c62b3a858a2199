// Original file: proto/airlock/v1/worker_gateway.proto

import type { AttemptRef as _airlock_v1_AttemptRef, AttemptRef__Output as _airlock_v1_AttemptRef__Output } from '../../airlock/v1/AttemptRef';
import type { JobOutcome as _airlock_v1_JobOutcome, JobOutcome__Output as _airlock_v1_JobOutcome__Output } from '../../airlock/v1/JobOutcome';
import type { FailureCode as _airlock_v1_FailureCode, FailureCode__Output as _airlock_v1_FailureCode__Output } from '../../airlock/v1/FailureCode';
import type { Phase as _airlock_v1_Phase, Phase__Output as _airlock_v1_Phase__Output } from '../../airlock/v1/Phase';
import type { PhaseDuration as _airlock_v1_PhaseDuration, PhaseDuration__Output as _airlock_v1_PhaseDuration__Output } from '../../airlock/v1/PhaseDuration';
import type { TokenUsage as _airlock_v1_TokenUsage, TokenUsage__Output as _airlock_v1_TokenUsage__Output } from '../../airlock/v1/TokenUsage';
import type { ChangeStats as _airlock_v1_ChangeStats, ChangeStats__Output as _airlock_v1_ChangeStats__Output } from '../../airlock/v1/ChangeStats';
import type { VerificationStats as _airlock_v1_VerificationStats, VerificationStats__Output as _airlock_v1_VerificationStats__Output } from '../../airlock/v1/VerificationStats';
import type { PolicyReport as _airlock_v1_PolicyReport, PolicyReport__Output as _airlock_v1_PolicyReport__Output } from '../../airlock/v1/PolicyReport';
import type { MetadataLevel as _airlock_v1_MetadataLevel, MetadataLevel__Output as _airlock_v1_MetadataLevel__Output } from '../../airlock/v1/MetadataLevel';
import type { ModelUsage as _airlock_v1_ModelUsage, ModelUsage__Output as _airlock_v1_ModelUsage__Output } from '../../airlock/v1/ModelUsage';
import type { Delivery as _airlock_v1_Delivery, Delivery__Output as _airlock_v1_Delivery__Output } from '../../airlock/v1/Delivery';
import type { ReviewStats as _airlock_v1_ReviewStats, ReviewStats__Output as _airlock_v1_ReviewStats__Output } from '../../airlock/v1/ReviewStats';

export interface JobResult {
  'attempt'?: (_airlock_v1_AttemptRef | null);
  'outcome'?: (_airlock_v1_JobOutcome);
  'failureCode'?: (_airlock_v1_FailureCode);
  'failedPhase'?: (_airlock_v1_Phase);
  'phaseDurations'?: (_airlock_v1_PhaseDuration)[];
  'tokens'?: (_airlock_v1_TokenUsage | null);
  'change'?: (_airlock_v1_ChangeStats | null);
  'verification'?: (_airlock_v1_VerificationStats | null);
  'contextFiles'?: (number);
  'changeMac'?: (Buffer | Uint8Array | string);
  'deliveryMac'?: (Buffer | Uint8Array | string);
  'policy'?: (_airlock_v1_PolicyReport | null);
  'metadataLevel'?: (_airlock_v1_MetadataLevel);
  'modelUsage'?: (_airlock_v1_ModelUsage)[];
  'delivery'?: (_airlock_v1_Delivery);
  'ticketRefMac'?: (Buffer | Uint8Array | string);
  'review'?: (_airlock_v1_ReviewStats | null);
}

export interface JobResult__Output {
  'attempt': (_airlock_v1_AttemptRef__Output | null);
  'outcome': (_airlock_v1_JobOutcome__Output);
  'failureCode': (_airlock_v1_FailureCode__Output);
  'failedPhase': (_airlock_v1_Phase__Output);
  'phaseDurations': (_airlock_v1_PhaseDuration__Output)[];
  'tokens': (_airlock_v1_TokenUsage__Output | null);
  'change': (_airlock_v1_ChangeStats__Output | null);
  'verification': (_airlock_v1_VerificationStats__Output | null);
  'contextFiles': (number);
  'changeMac': (Buffer);
  'deliveryMac': (Buffer);
  'policy': (_airlock_v1_PolicyReport__Output | null);
  'metadataLevel': (_airlock_v1_MetadataLevel__Output);
  'modelUsage': (_airlock_v1_ModelUsage__Output)[];
  'delivery': (_airlock_v1_Delivery__Output);
  'ticketRefMac': (Buffer);
  'review': (_airlock_v1_ReviewStats__Output | null);
}
