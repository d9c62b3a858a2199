// Original file: proto/airlock/v1/worker_gateway.proto

import type { AttemptRef as _airlock_v1_AttemptRef, AttemptRef__Output as _airlock_v1_AttemptRef__Output } from '../../airlock/v1/AttemptRef';
import type { ResultDisposition as _airlock_v1_ResultDisposition, ResultDisposition__Output as _airlock_v1_ResultDisposition__Output } from '../../airlock/v1/ResultDisposition';
import type { FrameSignature as _airlock_v1_FrameSignature, FrameSignature__Output as _airlock_v1_FrameSignature__Output } from '../../airlock/v1/FrameSignature';

export interface ResultAck {
  'attempt'?: (_airlock_v1_AttemptRef | null);
  'disposition'?: (_airlock_v1_ResultDisposition);
  'signature'?: (_airlock_v1_FrameSignature | null);
}

export interface ResultAck__Output {
  'attempt': (_airlock_v1_AttemptRef__Output | null);
  'disposition': (_airlock_v1_ResultDisposition__Output);
  'signature': (_airlock_v1_FrameSignature__Output | null);
}
