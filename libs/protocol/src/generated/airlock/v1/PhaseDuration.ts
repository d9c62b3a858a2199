// Original file: proto/airlock/v1/worker_gateway.proto

import type { Phase as _airlock_v1_Phase, Phase__Output as _airlock_v1_Phase__Output } from '../../airlock/v1/Phase';

export interface PhaseDuration {
  'phase'?: (_airlock_v1_Phase);
  'durationMs'?: (number);
}

export interface PhaseDuration__Output {
  'phase': (_airlock_v1_Phase__Output);
  'durationMs': (number);
}
