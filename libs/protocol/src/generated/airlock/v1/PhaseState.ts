// Original file: proto/airlock/v1/worker_gateway.proto

export const PhaseState = {
  PHASE_STATE_UNSPECIFIED: 'PHASE_STATE_UNSPECIFIED',
  PHASE_STATE_STARTED: 'PHASE_STATE_STARTED',
  PHASE_STATE_COMPLETED: 'PHASE_STATE_COMPLETED',
  PHASE_STATE_FAILED: 'PHASE_STATE_FAILED',
} as const;

export type PhaseState =
  | 'PHASE_STATE_UNSPECIFIED'
  | 0
  | 'PHASE_STATE_STARTED'
  | 1
  | 'PHASE_STATE_COMPLETED'
  | 2
  | 'PHASE_STATE_FAILED'
  | 3

export type PhaseState__Output = typeof PhaseState[keyof typeof PhaseState]
