// Original file: proto/airlock/v1/worker_gateway.proto

import type { AttemptRef as _airlock_v1_AttemptRef, AttemptRef__Output as _airlock_v1_AttemptRef__Output } from '../../airlock/v1/AttemptRef';
import type { Phase as _airlock_v1_Phase, Phase__Output as _airlock_v1_Phase__Output } from '../../airlock/v1/Phase';
import type { PhaseState as _airlock_v1_PhaseState, PhaseState__Output as _airlock_v1_PhaseState__Output } from '../../airlock/v1/PhaseState';

export interface ProgressEvent {
  'attempt'?: (_airlock_v1_AttemptRef | null);
  'phase'?: (_airlock_v1_Phase);
  'state'?: (_airlock_v1_PhaseState);
}

export interface ProgressEvent__Output {
  'attempt': (_airlock_v1_AttemptRef__Output | null);
  'phase': (_airlock_v1_Phase__Output);
  'state': (_airlock_v1_PhaseState__Output);
}
