// Original file: proto/airlock/v1/worker_gateway.proto

export const PolicyAckStatus = {
  POLICY_ACK_STATUS_UNSPECIFIED: 'POLICY_ACK_STATUS_UNSPECIFIED',
  POLICY_ACK_STATUS_APPLIED: 'POLICY_ACK_STATUS_APPLIED',
  POLICY_ACK_STATUS_REFUSED: 'POLICY_ACK_STATUS_REFUSED',
} as const;

export type PolicyAckStatus =
  | 'POLICY_ACK_STATUS_UNSPECIFIED'
  | 0
  | 'POLICY_ACK_STATUS_APPLIED'
  | 1
  | 'POLICY_ACK_STATUS_REFUSED'
  | 2

export type PolicyAckStatus__Output = typeof PolicyAckStatus[keyof typeof PolicyAckStatus]
