// Original file: proto/airlock/v1/worker_gateway.proto

export const Phase = {
  PHASE_UNSPECIFIED: 'PHASE_UNSPECIFIED',
  PHASE_VERIFY: 'PHASE_VERIFY',
  PHASE_WORKSPACE: 'PHASE_WORKSPACE',
  PHASE_CONTEXT: 'PHASE_CONTEXT',
  PHASE_INFERENCE: 'PHASE_INFERENCE',
  PHASE_APPLY: 'PHASE_APPLY',
  PHASE_TEST: 'PHASE_TEST',
  PHASE_DELIVER: 'PHASE_DELIVER',
  PHASE_SETUP: 'PHASE_SETUP',
  PHASE_BASELINE: 'PHASE_BASELINE',
  PHASE_TICKET: 'PHASE_TICKET',
} as const;

export type Phase =
  | 'PHASE_UNSPECIFIED'
  | 0
  | 'PHASE_VERIFY'
  | 1
  | 'PHASE_WORKSPACE'
  | 2
  | 'PHASE_CONTEXT'
  | 3
  | 'PHASE_INFERENCE'
  | 4
  | 'PHASE_APPLY'
  | 5
  | 'PHASE_TEST'
  | 6
  | 'PHASE_DELIVER'
  | 7
  | 'PHASE_SETUP'
  | 8
  | 'PHASE_BASELINE'
  | 9
  | 'PHASE_TICKET'
  | 10

export type Phase__Output = typeof Phase[keyof typeof Phase]
