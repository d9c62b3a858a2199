// Original file: proto/airlock/v1/worker_gateway.proto

export const JobOutcome = {
  JOB_OUTCOME_UNSPECIFIED: 'JOB_OUTCOME_UNSPECIFIED',
  JOB_OUTCOME_SUCCEEDED: 'JOB_OUTCOME_SUCCEEDED',
  JOB_OUTCOME_FAILED: 'JOB_OUTCOME_FAILED',
  JOB_OUTCOME_CANCELLED: 'JOB_OUTCOME_CANCELLED',
} as const;

export type JobOutcome =
  | 'JOB_OUTCOME_UNSPECIFIED'
  | 0
  | 'JOB_OUTCOME_SUCCEEDED'
  | 1
  | 'JOB_OUTCOME_FAILED'
  | 2
  | 'JOB_OUTCOME_CANCELLED'
  | 3

export type JobOutcome__Output = typeof JobOutcome[keyof typeof JobOutcome]
