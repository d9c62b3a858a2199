// Original file: proto/airlock/v1/worker_gateway.proto

import type { FrameSignature as _airlock_v1_FrameSignature, FrameSignature__Output as _airlock_v1_FrameSignature__Output } from '../../airlock/v1/FrameSignature';

export interface Drain {
  'signature'?: (_airlock_v1_FrameSignature | null);
}

export interface Drain__Output {
  'signature': (_airlock_v1_FrameSignature__Output | null);
}
