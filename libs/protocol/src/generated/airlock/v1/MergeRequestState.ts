// Original file: proto/airlock/v1/worker_gateway.proto

export const MergeRequestState = {
  MERGE_REQUEST_STATE_UNSPECIFIED: 'MERGE_REQUEST_STATE_UNSPECIFIED',
  MERGE_REQUEST_STATE_OPEN: 'MERGE_REQUEST_STATE_OPEN',
  MERGE_REQUEST_STATE_MERGED: 'MERGE_REQUEST_STATE_MERGED',
  MERGE_REQUEST_STATE_CLOSED: 'MERGE_REQUEST_STATE_CLOSED',
} as const;

export type MergeRequestState =
  | 'MERGE_REQUEST_STATE_UNSPECIFIED'
  | 0
  | 'MERGE_REQUEST_STATE_OPEN'
  | 1
  | 'MERGE_REQUEST_STATE_MERGED'
  | 2
  | 'MERGE_REQUEST_STATE_CLOSED'
  | 3

export type MergeRequestState__Output = typeof MergeRequestState[keyof typeof MergeRequestState]
