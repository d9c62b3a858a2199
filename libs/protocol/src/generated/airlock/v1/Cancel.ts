// Original file: proto/airlock/v1/worker_gateway.proto

import type { AttemptRef as _airlock_v1_AttemptRef, AttemptRef__Output as _airlock_v1_AttemptRef__Output } from '../../airlock/v1/AttemptRef';
import type { FrameSignature as _airlock_v1_FrameSignature, FrameSignature__Output as _airlock_v1_FrameSignature__Output } from '../../airlock/v1/FrameSignature';

export interface Cancel {
  'attempt'?: (_airlock_v1_AttemptRef | null);
  'signature'?: (_airlock_v1_FrameSignature | null);
}

export interface Cancel__Output {
  'attempt': (_airlock_v1_AttemptRef__Output | null);
  'signature': (_airlock_v1_FrameSignature__Output | null);
}
