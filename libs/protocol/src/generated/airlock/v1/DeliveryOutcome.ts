// Original file: proto/airlock/v1/worker_gateway.proto

import type { MergeRequestState as _airlock_v1_MergeRequestState, MergeRequestState__Output as _airlock_v1_MergeRequestState__Output } from '../../airlock/v1/MergeRequestState';
import type { MetadataLevel as _airlock_v1_MetadataLevel, MetadataLevel__Output as _airlock_v1_MetadataLevel__Output } from '../../airlock/v1/MetadataLevel';

export interface DeliveryOutcome {
  'deliveryJobId'?: (string);
  'state'?: (_airlock_v1_MergeRequestState);
  'humanCommits'?: (number);
  'reverted'?: (boolean);
  'firstReviewAfterS'?: (number);
  'reviewRounds'?: (number);
  'mergedAfterS'?: (number);
  'final'?: (boolean);
  'metadataLevel'?: (_airlock_v1_MetadataLevel);
}

export interface DeliveryOutcome__Output {
  'deliveryJobId': (string);
  'state': (_airlock_v1_MergeRequestState__Output);
  'humanCommits': (number);
  'reverted': (boolean);
  'firstReviewAfterS': (number);
  'reviewRounds': (number);
  'mergedAfterS': (number);
  'final': (boolean);
  'metadataLevel': (_airlock_v1_MetadataLevel__Output);
}
