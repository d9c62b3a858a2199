// Original file: proto/airlock/v1/worker_gateway.proto

import type { AttemptRef as _airlock_v1_AttemptRef, AttemptRef__Output as _airlock_v1_AttemptRef__Output } from '../../airlock/v1/AttemptRef';
import type { FrameSignature as _airlock_v1_FrameSignature, FrameSignature__Output as _airlock_v1_FrameSignature__Output } from '../../airlock/v1/FrameSignature';

export interface LeaseRenewal {
  'heartbeatSeq'?: (number);
  'renewed'?: (_airlock_v1_AttemptRef)[];
  'signature'?: (_airlock_v1_FrameSignature | null);
}

export interface LeaseRenewal__Output {
  'heartbeatSeq': (number);
  'renewed': (_airlock_v1_AttemptRef__Output)[];
  'signature': (_airlock_v1_FrameSignature__Output | null);
}
